package deploy_test

import (
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/ktrace/ktrace/internal/testutil"
)

// unitFile is a systemd unit: section → key → values, in order.
type unitFile map[string]map[string][]string

// parseUnit reads a unit file's sections and assignments (the unit's own
// syntax: no continuation lines).
func parseUnit(data string) (unitFile, error) {
	u := unitFile{}
	section := ""
	for i, line := range strings.Split(data, "\n") {
		line = strings.TrimSpace(line)
		switch {
		case line == "" || line[0] == '#' || line[0] == ';':
		case strings.HasSuffix(line, `\`):
			return nil, fmt.Errorf("line %d: continuation lines are not used here", i+1)
		case line[0] == '[' && line[len(line)-1] == ']':
			section = line[1 : len(line)-1]
			u[section] = map[string][]string{}
		case section == "":
			return nil, fmt.Errorf("line %d: assignment outside a section", i+1)
		default:
			k, v, ok := strings.Cut(line, "=")
			if !ok {
				return nil, fmt.Errorf("line %d: not KEY=VALUE: %s", i+1, line)
			}
			u[section][k] = append(u[section][k], v)
		}
	}
	return u, nil
}

// one returns a key's only value.
func (u unitFile) one(t *testing.T, section, key string) string {
	t.Helper()
	v := u[section][key]
	if len(v) != 1 {
		t.Errorf("[%s] %s is set %d times, want once", section, key, len(v))
		return ""
	}
	return v[0]
}

func loadUnit(t *testing.T) (unitFile, string) {
	t.Helper()
	text := string(readFile(t, filepath.Join("systemd", "ktrace.service")))
	u, err := parseUnit(text)
	if err != nil {
		t.Fatal(err)
	}
	return u, text
}

// TestSystemdUnit checks the unit's settings: the command, the reload,
// the restarts, and the hardening: exactly the documented capabilities,
// each explained in a comment.
func TestSystemdUnit(t *testing.T) {
	u, text := loadUnit(t)
	exec := strings.Fields(u.one(t, "Service", "ExecStart"))
	if len(exec) < 2 || exec[0] != "/usr/local/bin/ktrace" || exec[1] != "serve" {
		t.Fatalf("ExecStart %q: want /usr/local/bin/ktrace serve ...", exec)
	}
	flags := checkServeArgs(t, "ExecStart", exec[2:])
	if flags["--scripts"] != "/etc/ktrace/scripts" {
		t.Errorf("--scripts %q, want /etc/ktrace/scripts", flags["--scripts"])
	}
	for _, kv := range [][2]string{
		{"Type", "exec"},
		{"ExecReload", "/bin/kill -HUP $MAINPID"},
		{"Restart", "on-failure"},
		{"NoNewPrivileges", "yes"},
		{"ProtectSystem", "strict"},
		{"ProtectHome", "read-only"},
		{"PrivateTmp", "yes"},
		{"PrivateDevices", "yes"},
		{"ProtectKernelTunables", "yes"},
		{"ProtectControlGroups", "yes"},
		{"LimitMEMLOCK", "infinity"},
	} {
		if got := u.one(t, "Service", kv[0]); got != kv[1] {
			t.Errorf("%s=%s, want %s", kv[0], got, kv[1])
		}
	}
	for _, key := range []string{"User", "DynamicUser", "ProtectKernelLogs", "ProtectProc", "ReadWritePaths"} {
		if v, ok := u["Service"][key]; ok {
			t.Errorf("%s=%v is set (see the unit's comments for why not)", key, v)
		}
	}
	for _, key := range []string{"CapabilityBoundingSet", "AmbientCapabilities"} {
		if got := strings.Fields(u.one(t, "Service", key)); !slices.Equal(got, documentedCaps) {
			t.Errorf("%s=%v, want %v", key, got, documentedCaps)
		}
	}
	for _, c := range documentedCaps {
		if !strings.Contains(text, "\n# "+c+" ") {
			t.Errorf("no comment line says why the unit needs %s", c)
		}
	}
	if got := u.one(t, "Install", "WantedBy"); got != "multi-user.target" {
		t.Errorf("WantedBy=%s, want multi-user.target", got)
	}
}

// TestSystemdAnalyze runs systemd-analyze verify on the unit, with
// ExecStart's binary a ktrace built here (verify checks that it exists),
// and fails on anything it prints; and systemd-analyze security, whose
// exposure score must stay "OK" (3.0 or less). A unit with a misspelt key
// shows that the check sees verify's warnings.
func TestSystemdAnalyze(t *testing.T) {
	sa := testutil.RequireTool(t, "systemd-analyze", "systemd")
	bin := buildKtrace(t)
	_, text := loadUnit(t)
	const execStart = "\nExecStart=/usr/local/bin/ktrace "
	if strings.Count(text, execStart) != 1 {
		t.Fatalf("want %q once in the unit, to replace", execStart)
	}
	text = strings.Replace(text, execStart, "\nExecStart="+bin+" ", 1)

	run := func(t *testing.T, unit string, args ...string) (string, error) {
		t.Helper()
		// The unit's name is the file's: ktrace.service.
		path := filepath.Join(t.TempDir(), "ktrace.service")
		if err := os.WriteFile(path, []byte(unit), 0o644); err != nil {
			t.Fatal(err)
		}
		var out bytes.Buffer
		cmd := exec.Command(sa, append(args, path)...)
		cmd.Stdout, cmd.Stderr = &out, &out
		err := cmd.Run()
		return out.String(), err
	}
	if out, err := run(t, text, "verify"); err != nil || out != "" {
		t.Errorf("systemd-analyze verify: %v\n%s", err, out)
	}
	if out, err := run(t, text, "security", "--offline=yes", "--threshold=30"); err != nil {
		t.Errorf("systemd-analyze security: exposure over 3.0: %v\n%s", err, out)
	}

	typo := strings.Replace(text, "ProtectSystem=strict", "ProtectSytem=strict", 1)
	out, err := run(t, typo, "verify")
	if !strings.Contains(out, "Unknown key 'ProtectSytem' in section [Service], ignoring.") {
		t.Errorf("verify of a unit with a misspelt key printed %q (%v): the check above would miss it", out, err)
	}
	missing := strings.Replace(text, bin+" ", filepath.Join(t.TempDir(), "nothing")+" ", 1)
	if out, err := run(t, missing, "verify"); err == nil || !strings.Contains(out, "is not executable: No such file or directory") {
		t.Errorf("verify of a unit whose ExecStart does not exist: %v, %q", err, out)
	}
}
