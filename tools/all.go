package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Argdist,
	Bashreadline,
	Biolatency,
	Cachestat,
	Execsnoop,
	Funccount,
	Gethostlatency,
	Stackcount,
	Syscount,
	Threadsnoop,
	Trace,
	Vfsstat,
}
