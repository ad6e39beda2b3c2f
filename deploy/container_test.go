package deploy_test

import (
	"debug/elf"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
)

// instruction is one instruction of a container file: "FROM", and the
// rest of its line (continuations joined).
type instruction struct {
	op, args string
	line     int
}

// parseContainerfile reads a Dockerfile-syntax file into instructions,
// stage by stage (each stage starts with FROM).
func parseContainerfile(data string) ([][]instruction, error) {
	var stages [][]instruction
	var pending string
	start := 0
	for i, line := range strings.Split(data, "\n") {
		trimmed := strings.TrimSpace(line)
		if pending == "" && (trimmed == "" || strings.HasPrefix(trimmed, "#")) {
			continue
		}
		if pending == "" {
			start = i + 1
		}
		if c, ok := strings.CutSuffix(trimmed, `\`); ok {
			pending += c + " "
			continue
		}
		full := pending + trimmed
		pending = ""
		op, args, _ := strings.Cut(full, " ")
		op = strings.ToUpper(op)
		in := instruction{op: op, args: strings.TrimSpace(args), line: start}
		if op == "FROM" {
			stages = append(stages, nil)
		} else if len(stages) == 0 {
			return nil, fmt.Errorf("line %d: %s before FROM", start, op)
		}
		stages[len(stages)-1] = append(stages[len(stages)-1], in)
	}
	if pending != "" {
		return nil, fmt.Errorf("the file ends in a continuation line")
	}
	return stages, nil
}

// find returns a stage's instructions of one kind.
func find(stage []instruction, op string) []instruction {
	var out []instruction
	for _, in := range stage {
		if in.op == op {
			out = append(out, in)
		}
	}
	return out
}

var (
	buildOnce sync.Once
	buildDir  string
	builtPath string
	buildErr  error
)

// buildKtrace builds ktrace once for the package's tests, with the
// container file's own build command, and returns the binary's path.
func buildKtrace(t *testing.T) string {
	t.Helper()
	root := repoRoot(t)
	buildOnce.Do(func() {
		cmd, err := containerBuildCommand(root)
		if err != nil {
			buildErr = err
			return
		}
		if buildDir, err = os.MkdirTemp("", "ktrace-deploy-test-"); err != nil {
			buildErr = err
			return
		}
		builtPath = filepath.Join(buildDir, "ktrace")
		cmd.setOutput(builtPath)
		c := exec.Command(cmd.argv[0], cmd.argv[1:]...)
		c.Dir = root
		c.Env = append(os.Environ(), cmd.env...)
		if out, err := c.CombinedOutput(); err != nil {
			buildErr = fmt.Errorf("%s: %v\n%s", strings.Join(cmd.argv, " "), err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return builtPath
}

// buildCommand is the container file's go build command.
type buildCommand struct {
	env  []string // CGO_ENABLED=0, ...
	argv []string
	out  int // the index of -o's value in argv
}

func (b *buildCommand) setOutput(path string) { b.argv[b.out] = path }

// containerBuildCommand finds the build stage's go build command: env
// assignments, then go build's arguments, with no shell syntax.
func containerBuildCommand(root string) (*buildCommand, error) {
	data, err := os.ReadFile(filepath.Join(root, "deploy", "container", "Containerfile"))
	if err != nil {
		return nil, err
	}
	stages, err := parseContainerfile(string(data))
	if err != nil {
		return nil, err
	}
	for _, run := range find(stages[0], "RUN") {
		words := strings.Fields(run.args)
		b := &buildCommand{}
		for len(words) > 0 && strings.Contains(words[0], "=") {
			b.env = append(b.env, words[0])
			words = words[1:]
		}
		if len(words) < 2 || words[0] != "go" || words[1] != "build" {
			continue
		}
		if strings.ContainsAny(run.args, `"'$&|;<>`) {
			return nil, fmt.Errorf("line %d: the go build command has shell syntax: %s", run.line, run.args)
		}
		b.argv = words
		for i, w := range words {
			if w == "-o" && i+1 < len(words) {
				b.out = i + 1
			}
		}
		if b.out == 0 {
			return nil, fmt.Errorf("line %d: go build has no -o", run.line)
		}
		return b, nil
	}
	return nil, fmt.Errorf("the build stage runs no go build")
}

// TestContainerfile checks the container file's shape: a Go build stage
// no older than go.mod's Go, whose build is static, and a final stage
// with the binary only, whose entrypoint is that binary and whose command
// is ktrace serve. There is no container engine here: the build stage's
// command is run on the host instead (and its binary is the one the other
// tests use).
func TestContainerfile(t *testing.T) {
	root := repoRoot(t)
	stages, err := parseContainerfile(string(readFile(t, filepath.Join("container", "Containerfile"))))
	if err != nil {
		t.Fatal(err)
	}
	if len(stages) != 2 {
		t.Fatalf("%d stages, want 2 (build, then the image)", len(stages))
	}
	build, final := stages[0], stages[1]

	from := regexp.MustCompile(`^golang:(\d+\.\d+)(?:[.-]\S*)? AS (\w+)$`).FindStringSubmatch(build[0].args)
	if from == nil {
		t.Fatalf("FROM %s: want golang:VERSION AS NAME", build[0].args)
	}
	goMod := regexp.MustCompile(`(?m)^go (\d+\.\d+)`).FindStringSubmatch(string(readFile(t, filepath.Join(root, "go.mod"))))
	if goMod == nil || from[1] != goMod[1] {
		t.Errorf("the build stage's Go is %s, go.mod's %v", from[1], goMod)
	}
	cmd, err := containerBuildCommand(root)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(cmd.env, " "), "CGO_ENABLED=0") {
		t.Errorf("go build without CGO_ENABLED=0: %v", cmd.env)
	}
	if pkg := cmd.argv[len(cmd.argv)-1]; pkg != "./cmd/ktrace" {
		t.Errorf("go build builds %s, want ./cmd/ktrace", pkg)
	}
	out := cmd.argv[cmd.out]

	if img := final[0].args; img != "gcr.io/distroless/static-debian12" && img != "scratch" {
		t.Errorf("the image is based on %s: want distroless/static or scratch (one static binary)", img)
	}
	copies := find(final, "COPY")
	want := fmt.Sprintf("--from=%s %s ", from[2], out)
	if len(copies) != 1 || !strings.HasPrefix(copies[0].args, want) {
		t.Fatalf("the image's COPY %v: want one, %s<dest>", copies, want)
	}
	dest := strings.TrimPrefix(copies[0].args, want)
	var entry, args []string
	for _, x := range []struct {
		op  string
		out *[]string
	}{{"ENTRYPOINT", &entry}, {"CMD", &args}} {
		ins := find(final, x.op)
		if len(ins) != 1 {
			t.Fatalf("%d %s instructions, want 1", len(ins), x.op)
		}
		// The exec form: no shell in the image to run the other.
		if err := json.Unmarshal([]byte(ins[0].args), x.out); err != nil {
			t.Fatalf("%s %s: want the JSON (exec) form: %v", x.op, ins[0].args, err)
		}
	}
	if len(entry) != 1 || entry[0] != dest {
		t.Errorf("ENTRYPOINT %q, want [%q]", entry, dest)
	}
	if len(args) == 0 || args[0] != "serve" {
		t.Fatalf("CMD %q: want ktrace serve", args)
	}
	checkServeArgs(t, "CMD", args[1:])

	bin := buildKtrace(t)
	f, err := elf.Open(bin)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Error("the binary has an ELF interpreter: it is not static")
		}
	}
	if libs, err := f.ImportedLibraries(); err != nil || len(libs) != 0 {
		t.Errorf("the binary needs shared libraries %v (%v)", libs, err)
	}
	if syms, err := f.Symbols(); err == nil || len(syms) != 0 {
		t.Errorf("the binary has a symbol table (-ldflags=-s strips it): %d symbols", len(syms))
	}
}
