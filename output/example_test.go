package output_test

import (
	"os"

	"github.com/ktrace/ktrace/output"
)

// A session prints through a Printer: NewText for bpftrace's default
// output, NewJSON for -f json. The same calls make both.
func ExamplePrinter() {
	latency := output.Hist{}
	for _, v := range []int64{3, 5, 6, 12, 900} {
		latency.Add(output.HistBucket(v, 0), 1)
	}
	m := &output.Map{Name: "@usecs", Entries: []output.Entry{{Value: latency}}}

	for _, p := range []output.Printer{output.NewText(os.Stdout), output.NewJSON(os.Stdout)} {
		p.Printf("tracing...\n")
		p.Map(m)
	}
	// Output:
	// tracing...
	// @usecs:
	// [2, 4)                 1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
	// [4, 8)                 2 |@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@@|
	// [8, 16)                1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
	// [16, 32)               0 |                                                    |
	// [32, 64)               0 |                                                    |
	// [64, 128)              0 |                                                    |
	// [128, 256)             0 |                                                    |
	// [256, 512)             0 |                                                    |
	// [512, 1K)              1 |@@@@@@@@@@@@@@@@@@@@@@@@@@                          |
	//
	// {"type": "printf", "data": "tracing...\n"}
	// {"type": "hist", "data": {"@usecs": [{"min": 2, "max": 3, "count": 1},{"min": 4, "max": 7, "count": 2},{"min": 8, "max": 15, "count": 1},{"min": 16, "max": 31, "count": 0},{"min": 32, "max": 63, "count": 0},{"min": 64, "max": 127, "count": 0},{"min": 128, "max": 255, "count": 0},{"min": 256, "max": 511, "count": 0},{"min": 512, "max": 1023, "count": 1}]}}
}
