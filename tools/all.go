package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Biolatency,
	Execsnoop,
	Hardirqs,
	Oomkill,
	Softirqs,
	Syscount,
	Tcpaccept,
	Tcpconnect,
	Tcpdrop,
	Tcplife,
	Tcpretrans,
	Tcpstates,
}
