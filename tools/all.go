package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Biolatency,
	Execsnoop,
	Hardirqs,
	Tcpaccept,
	Tcpconnect,
	Tcpdrop,
	Tcpretrans,
	Tcplife,
	Tcpstates,
	Syscount,
}
