package tools

// registry is every tool, in no particular order (All sorts them).
var registry = []*Tool{
	Argdist,
	Biolatency,
	Execsnoop,
	Funccount,
	Stackcount,
	Syscount,
	Trace,
}
