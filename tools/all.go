package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Biolatency,
	Execsnoop,
	Exitsnoop,
	Killsnoop,
	Mountsnoop,
	Opensnoop,
	Pidpersec,
	Setuids,
	Sigsnoop,
	Statsnoop,
	Syncsnoop,
	Syscount,
}
