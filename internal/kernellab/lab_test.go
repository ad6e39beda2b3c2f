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
//	KTRACE_LAB_RUN=1 go test ./internal/kernellab -run TestLab -v -timeout 15m
//
// .ci/kernellab runs the same through cmd/kernellab.
func TestLab(t *testing.T) {
	if os.Getenv("KTRACE_LAB_RUN") != "1" {
		t.Skip("boots kernels in QEMU: set KTRACE_LAB_RUN=1 (or run .ci/kernellab)")
	}
	rep, err := Run(t.Context(), Config{
		Out:     t.Output(),
		Machine: Machine{Timeout: 8 * time.Minute},
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
