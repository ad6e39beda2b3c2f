package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Argdist,
	Bashreadline,
	Biolatency,
	Biosnoop,
	Biotop,
	Bitesize,
	Cachestat,
	Cpudist,
	Execsnoop,
	Funccount,
	Gethostlatency,
	Offcputime,
	ProfileTool,
	Runqlat,
	Runqlen,
	Runqslower,
	Stackcount,
	Syscount,
	Threadsnoop,
	Trace,
	Vfsstat,
	Wakeuptime,
	Writeback,
}
