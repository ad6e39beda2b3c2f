package serve

import (
	"errors"
	"os"
	"path/filepath"
	"testing"
)

func TestCheckListen(t *testing.T) {
	for _, tt := range []struct {
		cfg  Config
		want string // "" for no error
	}{
		{Config{Listen: "127.0.0.1:9435"}, ""},
		{Config{Listen: "[::1]:9435"}, ""},
		{Config{Listen: "localhost:9435"}, ""},
		{Config{Listen: "127.0.0.2:0"}, ""},
		{Config{Listen: "0.0.0.0:9435"}, "--listen 0.0.0.0:9435: not a loopback address: give --tls-cert and --tls-key to serve HTTPS there, or --insecure-listen to serve plain HTTP"},
		{Config{Listen: ":9435"}, "--listen :9435: not a loopback address: give --tls-cert and --tls-key to serve HTTPS there, or --insecure-listen to serve plain HTTP"},
		{Config{Listen: "10.1.2.3:9435", InsecureListen: true}, ""},
		{Config{Listen: "0.0.0.0:9435", TLSCert: "c.pem", TLSKey: "k.pem"}, ""},
		{Config{Listen: "127.0.0.1:9435", TLSCert: "c.pem"}, "--tls-cert and --tls-key go together: give both"},
		{Config{Listen: "9435"}, "--listen 9435: address 9435: missing port in address"},
	} {
		err := tt.cfg.checkListen()
		got := ""
		if err != nil {
			got = err.Error()
		}
		if got != tt.want {
			t.Errorf("checkListen(%+v) = %q, want %q", tt.cfg, got, tt.want)
		}
		if tt.want != "" && tt.cfg.TLSCert == "" && tt.cfg.Listen != "9435" && !errors.Is(err, ErrInsecureListen) {
			t.Errorf("checkListen(%+v): not ErrInsecureListen", tt.cfg)
		}
	}
}

func TestParseScriptFlag(t *testing.T) {
	for _, tt := range []struct {
		flag string
		want ScriptConfig
		err  string
	}{
		{"drops=/etc/ktrace/drops.bt", ScriptConfig{Name: "drops", File: "/etc/ktrace/drops.bt"}, ""},
		{"/etc/ktrace/tcp-resets.bt", ScriptConfig{Name: "tcp-resets", File: "/etc/ktrace/tcp-resets.bt"}, ""},
		{"my drops=x.bt", ScriptConfig{}, `bad script: script name "my drops": use letters, digits, '_' and '-' (it becomes part of metric names)`},
		{"=x.bt", ScriptConfig{}, "bad script: a script needs a name"},
		{"drops=", ScriptConfig{}, "bad script: script drops: give a file or a program"},
	} {
		got, err := ParseScriptFlag(tt.flag)
		if tt.err != "" {
			if err == nil || err.Error() != tt.err || !errors.Is(err, ErrBadScript) {
				t.Errorf("ParseScriptFlag(%q) error = %v, want %q", tt.flag, err, tt.err)
			}
			continue
		}
		if err != nil || got.Name != tt.want.Name || got.File != tt.want.File {
			t.Errorf("ParseScriptFlag(%q) = %+v, %v; want %+v", tt.flag, got, err, tt.want)
		}
	}
}

func TestConfigFile(t *testing.T) {
	dir := t.TempDir()
	write := func(name, text string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a.bt", "BEGIN {}")
	write("b.bt", "BEGIN {}")
	write("notes.txt", "not a script")
	for _, tt := range []struct {
		name, yaml string
		flags      Config
		want       []string // script names, or
		err        string   // the error
	}{
		{"scripts and dir", "listen: 127.0.0.1:1\nscripts_dir: " + dir + "\nscripts:\n  - name: inline\n    program: 'BEGIN { @x = 1; }'\n", Config{},
			[]string{"inline", "a", "b"}, ""},
		{"flags first", "scripts:\n  - name: c\n    file: " + dir + "/a.bt\n", Config{Scripts: []ScriptConfig{{Name: "z", Program: "BEGIN {}"}}},
			[]string{"z", "c"}, ""},
		{"misspelt key", "listen: 127.0.0.1:1\nscript_dir: /x\n", Config{}, nil,
			"CONFIG: line 2: field script_dir not found in type serve.FileConfig"},
		{"bad yaml", "scripts: [\n", Config{}, nil,
			"CONFIG: line 1: did not find expected node content"},
		{"twice the same name", "scripts:\n  - name: a\n    program: 'BEGIN {}'\nscripts_dir: " + dir + "\n", Config{}, nil,
			"bad script: two scripts are named a"},
		{"file and program", "scripts:\n  - name: a\n    program: 'BEGIN {}'\n    file: a.bt\n", Config{}, nil,
			"bad script: script a: give a file or a program, not both"},
		{"missing dir", "scripts_dir: " + dir + "/nowhere\n", Config{}, nil,
			"stat " + dir + "/nowhere: no such file or directory"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.flags
			cfg.ConfigFile = write("config.yaml", tt.yaml)
			set, err := cfg.scriptSet()
			if tt.err != "" {
				want := tt.err
				if len(want) > 6 && want[:6] == "CONFIG" {
					want = cfg.ConfigFile + want[6:]
				}
				if err == nil || err.Error() != want {
					t.Fatalf("error = %v, want %q", err, want)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var names []string
			for _, s := range set {
				names = append(names, s.Name)
			}
			if len(names) != len(tt.want) {
				t.Fatalf("scripts %v, want %v", names, tt.want)
			}
			for i := range names {
				if names[i] != tt.want[i] {
					t.Fatalf("scripts %v, want %v", names, tt.want)
				}
			}
		})
	}
}

func TestApplyFile(t *testing.T) {
	cfg := Config{Listen: "127.0.0.1:7", MaxSeries: 5}
	cfg.ApplyFile(&FileConfig{Listen: "0.0.0.0:9", Node: "n1", MaxSeries: 9, InsecureListen: true, OTLPEndpoint: "http://127.0.0.1:4318"})
	if cfg.Listen != "127.0.0.1:7" || cfg.Node != "n1" || cfg.MaxSeries != 5 || !cfg.InsecureListen || cfg.OTLP == nil || cfg.OTLP.Endpoint != "http://127.0.0.1:4318" {
		t.Errorf("ApplyFile: flags must win and fill the rest: %+v", cfg)
	}
}

// TestNewDefaults: an agent told nothing listens on loopback's 9435,
// exports at most 10,000 series a map, and labels by the host name.
func TestNewDefaults(t *testing.T) {
	a, err := New(Config{Scripts: []ScriptConfig{{Name: "x", Program: "BEGIN {}"}}})
	if err != nil {
		t.Fatal(err)
	}
	host, _ := os.Hostname()
	if a.cfg.Listen != "127.0.0.1:9435" || a.cfg.MaxSeries != 10000 || a.cfg.Node != host {
		t.Errorf("defaults: listen %q, max series %d, node %q; want 127.0.0.1:9435, 10000, %q", a.cfg.Listen, a.cfg.MaxSeries, a.cfg.Node, host)
	}
}
