package kernellab

import (
	"os"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/kernellab/proto"
)

var (
	verdictPass = proto.Verdict{Token: "t"}
	verdictFail = proto.Verdict{Token: "t", Exit: 7, Failed: []string{"x"}}
)

// TestLab runs the whole kernel lab (both kernels, all steps) when
// KTRACE_LAB_RUN=1:
//
//	KTRACE_LAB_RUN=1 go test ./internal/kernellab -run TestLab -v -timeout 30m
//
// .ci/kernellab runs the same through cmd/kernellab.
func TestLab(t *testing.T) {
	if os.Getenv("KTRACE_LAB_RUN") != "1" {
		t.Skip("boots kernels in QEMU: set KTRACE_LAB_RUN=1 (or run .ci/kernellab)")
	}
	rep, err := Run(t.Context(), Config{
		Out:     t.Output(),
		Machine: Machine{Timeout: 12 * time.Minute},
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Log(rep.Summary())
	for _, k := range rep.Kernels {
		if !k.Passed() {
			t.Errorf("kernel %s did not pass: %v", k.Spec.Series, k.Err)
		}
		if len(k.Boot.Results) == 0 && k.Err == nil {
			t.Errorf("kernel %s reported no attach-type results", k.Spec.Series)
		}
	}
}

func TestReportExitCode(t *testing.T) {
	pass := KernelReport{Boot: BootResult{Verdict: &verdictPass}}
	fail := KernelReport{Boot: BootResult{Verdict: &verdictFail}}
	broken := KernelReport{Err: os.ErrDeadlineExceeded}
	tests := []struct {
		kernels []KernelReport
		want    int
	}{
		{[]KernelReport{pass, pass}, 0},
		{[]KernelReport{pass, fail}, 7},
		{[]KernelReport{fail, broken}, 2},
		{[]KernelReport{broken, pass}, 2},
	}
	for i, tt := range tests {
		if got := (Report{Kernels: tt.kernels}).ExitCode(); got != tt.want {
			t.Errorf("case %d: ExitCode() = %d, want %d", i, got, tt.want)
		}
	}
}

func TestSummaryNamesFailures(t *testing.T) {
	rep := Report{Kernels: []KernelReport{{
		Spec:   KernelSpec{Series: "6.12"},
		Kernel: Kernel{Release: "6.12.1-cloud-amd64"},
		Boot: BootResult{
			Verdict:  &proto.Verdict{Exit: 1, Failed: []string{"root.test"}},
			Duration: 90 * time.Second,
			Commands: []CommandOutcome{
				{Name: "guesttest.test", Seconds: 4.7},
				{Name: "root.test", Exit: 1, Seconds: 27.5, Failures: []string{
					"--- FAIL: TestX (0.10s)",
					"    x_test.go:3: got 1, want 2",
				}},
			},
		},
	}}, Wall: 100 * time.Second}
	want := `kernel lab summary (total 1m40s):
  [6.12] 6.12.1-cloud-amd64: FAIL (exit 1; failed: root.test) in 1m30s
      guesttest.test           ok            4.7s
      root.test                exit 1       27.5s
          --- FAIL: TestX (0.10s)
              x_test.go:3: got 1, want 2
kernellab: 0 passed, 1 failed
`
	if got := rep.Summary(); got != want {
		t.Errorf("Summary() =\n%s\nwant\n%s", got, want)
	}
}
