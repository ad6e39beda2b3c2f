package tools

// JournalSocket lets tests receive what tcpstates -Y logs.
var JournalSocket = &journalSocket
