package verify_test

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"

	"github.com/ktrace/ktrace"
	"github.com/ktrace/ktrace/conformance"
	"github.com/ktrace/ktrace/tools"
	"github.com/ktrace/ktrace/verify"
)

// compiledScript is one script of the compiled corpus.
type compiledScript struct {
	name   string
	src    string
	params []string
	named  map[string]string
}

// compiledCorpus gathers the scripts of the conformance cases and of the
// built-in tools (every variant of their templates).
func compiledCorpus(t *testing.T) []compiledScript {
	cases, err := conformance.LoadDir("../conformance")
	if err != nil {
		t.Fatal(err)
	}
	var out []compiledScript
	for _, c := range cases {
		if strings.TrimSpace(c.Prog) == "" {
			continue
		}
		s := compiledScript{name: "conformance/" + c.Name, src: c.Prog}
		words, err := conformance.SplitArgs(c.Params)
		if err != nil {
			continue
		}
		named := false
		for _, w := range words {
			switch {
			case w == "--" && !named:
				named = true
			case named && strings.HasPrefix(w, "--"):
				k, v, ok := strings.Cut(w[2:], "=")
				if !ok {
					v = "true"
				}
				if s.named == nil {
					s.named = map[string]string{}
				}
				s.named[k] = v
			default:
				s.params = append(s.params, w)
			}
		}
		out = append(out, s)
	}
	for _, hz := range []int{99, 1000} {
		src, err := tools.ProfileScript(tools.ProfileOptions{Hz: hz})
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, compiledScript{name: fmt.Sprintf("tools/profile-%dhz", hz), src: src, params: []string{"0"}})
	}
	for _, probe := range []string{"tracepoint", "kprobe", "kretprobe"} {
		for _, reasons := range []bool{false, true} {
			src, _, err := tools.DropcountScript(tools.DropcountOptions{Probe: probe, Reasons: reasons})
			if err != nil {
				t.Logf("tools/dropcount %s reasons=%v: %v", probe, reasons, err)
				continue
			}
			out = append(out, compiledScript{name: fmt.Sprintf("tools/dropcount-%s-reasons=%v", probe, reasons), src: src, params: []string{"0"}})
		}
	}
	return out
}

// TestCompiledPrograms compiles every script of the conformance cases and
// of the built-in tools, and runs each program through this package and
// through the running kernel: the two verifiers must agree on every
// program (in practice, both accept). This is the evidence that
// KTRACE_STRICT_VERIFY=1 holds for what the compiler emits, independent of
// which tests happen to load which programs.
func TestCompiledPrograms(t *testing.T) {
	if !canLoad() {
		if os.Getenv("CI") == "true" {
			t.Fatal("cannot load BPF programs (the kernel oracle is required under CI)")
		}
		t.Skip("cannot load BPF programs: run as root")
	}
	scripts := compiledCorpus(t)
	var compiled, programs, bothOK, bothReject, skipped int
	var notCompiled []string
	for _, s := range scripts {
		prog, err := compileScript(s)
		if err != nil {
			// Error cases of the conformance suite: nothing to load.
			notCompiled = append(notCompiled, s.name)
			if strings.Contains(err.Error(), "panicked") {
				t.Logf("%s: %v", s.name, err)
			}
			continue
		}
		compiled++
		reports := prog.Verify()
		for _, bp := range prog.BPFPrograms() {
			n, spec := bp.Name, bp.Spec
			rep := reports[n]
			k := verify.LoadKernel(spec.Instructions, verify.Options{
				Type: spec.Type, AttachType: spec.AttachType, AttachTo: spec.AttachTo, Maps: bp.Maps,
			})
			var ve *ebpf.VerifierError
			if !k.Accepted && !errors.As(k.Err, &ve) {
				// Not a verdict: fentry/fexit cannot be loaded on every
				// machine (EPERM), or a map could not be created.
				skipped++
				t.Logf("%s: %s: no kernel verdict: %s", s.name, n, k.Reason)
				continue
			}
			programs++
			switch {
			case rep.OK() && k.Accepted:
				bothOK++
			case !rep.OK() && !k.Accepted:
				bothReject++
			case rep.OK():
				t.Errorf("%s: program %s: ktrace's verifier accepts it, the kernel rejects it: %s\n%s", s.name, n, k.Reason, s.src)
			default:
				t.Errorf("%s: program %s: ktrace's verifier rejects it, the kernel accepts it:\n%s\n%s", s.name, n, rep, s.src)
			}
		}
	}
	t.Logf("%d scripts: %d compiled (%d did not: error cases), %d programs judged by both verifiers: %d both accept, %d both reject; %d without a kernel verdict",
		len(scripts), compiled, len(notCompiled), programs, bothOK, bothReject, skipped)
	if programs < 300 {
		t.Errorf("only %d programs were judged; the corpus should give several hundred", programs)
	}
}

func canLoad() bool {
	r := verify.LoadKernel(asmReturn0(), verify.Options{Type: ebpf.RawTracepoint})
	return r.Accepted
}

func asmReturn0() asm.Instructions { return asm.Instructions{asm.Mov.Imm(asm.R0, 0), asm.Return()} }

// compileScript compiles s; a panic of the compiler is returned as an
// error (other tests own the compiler's robustness).
func compileScript(s compiledScript) (prog *ktrace.Program, err error) {
	defer func() {
		if r := recover(); r != nil {
			err = fmt.Errorf("the compiler panicked: %v", r)
		}
	}()
	return ktrace.Compile(s.name, []byte(s.src), &ktrace.Options{
		Params: s.params, NamedParams: s.named, Unsafe: true, ChildPID: os.Getpid(),
	})
}
