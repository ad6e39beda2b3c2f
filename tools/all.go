package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Biolatency,
	Biosnoop,
	Biotop,
	Bitesize,
	Cpudist,
	Execsnoop,
	Offcputime,
	ProfileTool,
	Runqlat,
	Runqlen,
	Runqslower,
	Syscount,
	Wakeuptime,
	Writeback,
}
