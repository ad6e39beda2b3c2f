package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Biolatency,
	Capable,
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
