package serve

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// DefaultListen is where the agent listens unless told otherwise: loopback
// only, on the port registered for ktrace in Prometheus's list of exporter
// ports.
const DefaultListen = "127.0.0.1:9435"

// DefaultMaxSeries is the most series one map exports.
const DefaultMaxSeries = 10000

// Errors of the configuration.
var (
	// ErrInsecureListen is returned for a non-loopback listen address
	// without TLS and without InsecureListen.
	ErrInsecureListen = errors.New("not a loopback address")
	// ErrBadScript is returned for a malformed script entry.
	ErrBadScript = errors.New("bad script")
	// ErrClosed is returned by a Reload that ran into Close.
	ErrClosed = errors.New("the agent is closed")
)

// Config is the agent's configuration: the command line's flags, or the
// same read from a YAML file (LoadConfigFile).
type Config struct {
	// Listen is the HTTP address; DefaultListen when empty.
	Listen string
	// TLSCert and TLSKey are PEM files: with them the agent serves HTTPS.
	TLSCert, TLSKey string
	// InsecureListen allows plain HTTP on an address other than loopback.
	InsecureListen bool
	// AuthTokenFile holds a bearer token every request but /healthz and
	// /readyz must carry.
	AuthTokenFile string

	// Scripts are the scripts named on the command line.
	Scripts []ScriptConfig
	// ScriptsDir is a directory whose *.bt files are scripts, each named
	// after its file.
	ScriptsDir string
	// ConfigFile is a YAML file (see FileConfig) whose scripts and
	// scripts_dir are re-read on every Reload.
	ConfigFile string

	// Node is the value of the node label on every metric; the host name
	// when empty.
	Node string
	// MaxSeries is the most series a map exports; past it the map is
	// truncated and ktrace_series_truncated says by how much.
	// DefaultMaxSeries when zero.
	MaxSeries int
	// Unsafe allows system() and signal() in scripts.
	Unsafe bool
	// BPFStats turns on the kernel's bpf_stats while the agent runs, so
	// ktrace_script_bpf_* count every program's runs and run time.
	BPFStats bool

	// OTLP, when set, sends the metrics and the scripts' output over
	// OTLP.
	OTLP *OTLPConfig

	// Logger receives the agent's structured log; slog.Default() when
	// nil.
	Logger *slog.Logger
}

// OTLPConfig says where to send OpenTelemetry data. Empty fields take
// the standard OTEL_EXPORTER_OTLP_* variables.
type OTLPConfig struct {
	// Endpoint is a URL (http://host:4318, https://..., or for gRPC
	// http://host:4317) or host:port; see export/otlp.Config.
	Endpoint string
	// Protocol is grpc or http/protobuf.
	Protocol string
	// Insecure sends plain text to a host:port endpoint.
	Insecure bool
	// Interval is how often metrics are exported; the SDK's 60 s (or
	// OTEL_METRIC_EXPORT_INTERVAL) when zero.
	Interval time.Duration
}

// ScriptConfig is one script: a file or an inline program.
type ScriptConfig struct {
	// Name names the script in metric names (ktrace_<name>_<map>) and
	// labels: letters, digits, '_' and '-'.
	Name string `yaml:"name"`
	// File is the script's path.
	File string `yaml:"file"`
	// Program is the script's text, instead of a file.
	Program string `yaml:"program"`
	// Params are the positional parameters $1, $2, ...
	Params []string `yaml:"params"`
}

// FileConfig is the YAML configuration file. Every field is optional;
// the command line's flags win over the file's values.
//
//	listen: 127.0.0.1:9435
//	node: node-1
//	max_series: 10000
//	scripts_dir: /etc/ktrace/scripts
//	scripts:
//	  - name: drops
//	    file: /etc/ktrace/drops.bt
//	  - name: opens
//	    program: 'tracepoint:syscalls:sys_enter_openat { @opens[comm] = count(); }'
type FileConfig struct {
	Listen         string         `yaml:"listen"`
	TLSCert        string         `yaml:"tls_cert"`
	TLSKey         string         `yaml:"tls_key"`
	InsecureListen bool           `yaml:"insecure_listen"`
	AuthTokenFile  string         `yaml:"auth_token_file"`
	Node           string         `yaml:"node"`
	MaxSeries      int            `yaml:"max_series"`
	BPFStats       bool           `yaml:"bpf_stats"`
	OTLPEndpoint   string         `yaml:"otlp_endpoint"`
	OTLPProtocol   string         `yaml:"otlp_protocol"`
	ScriptsDir     string         `yaml:"scripts_dir"`
	Scripts        []ScriptConfig `yaml:"scripts"`
}

// LoadConfigFile reads a YAML configuration file strictly: an unknown
// key is an error, so a misspelt one is not silently ignored.
func LoadConfigFile(path string) (*FileConfig, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	var fc FileConfig
	if err := dec.Decode(&fc); err != nil && !errors.Is(err, io.EOF) {
		return nil, fmt.Errorf("%s: %w", path, yamlError(err))
	}
	return &fc, nil
}

// yamlError drops the YAML library's "yaml: " prefix: the file name
// already says what failed.
func yamlError(err error) error {
	msg := strings.TrimPrefix(err.Error(), "yaml: ")
	msg = strings.ReplaceAll(msg, "\n  ", "; ")
	return errors.New(strings.TrimPrefix(msg, "unmarshal errors:; "))
}

// ApplyFile fills the fields the command line left empty from a
// configuration file. The file's scripts are not copied: the agent
// re-reads them on every reload.
func (c *Config) ApplyFile(fc *FileConfig) {
	set := func(dst *string, v string) {
		if *dst == "" {
			*dst = v
		}
	}
	set(&c.Listen, fc.Listen)
	set(&c.TLSCert, fc.TLSCert)
	set(&c.TLSKey, fc.TLSKey)
	set(&c.AuthTokenFile, fc.AuthTokenFile)
	set(&c.Node, fc.Node)
	c.InsecureListen = c.InsecureListen || fc.InsecureListen
	c.BPFStats = c.BPFStats || fc.BPFStats
	if c.MaxSeries == 0 {
		c.MaxSeries = fc.MaxSeries
	}
	if c.OTLP == nil && (fc.OTLPEndpoint != "" || fc.OTLPProtocol != "") {
		c.OTLP = &OTLPConfig{Endpoint: fc.OTLPEndpoint, Protocol: fc.OTLPProtocol}
	}
}

// ParseScriptFlag reads a --script value: NAME=FILE, or FILE alone,
// named after the file without its .bt suffix.
func ParseScriptFlag(v string) (ScriptConfig, error) {
	name, file, ok := strings.Cut(v, "=")
	if !ok {
		file = v
		name = strings.TrimSuffix(filepath.Base(v), ".bt")
	}
	sc := ScriptConfig{Name: name, File: file}
	return sc, sc.check()
}

var scriptName = regexp.MustCompile(`^[A-Za-z0-9_-]+$`)

func (sc *ScriptConfig) check() error {
	switch {
	case sc.Name == "":
		return fmt.Errorf("%w: a script needs a name", ErrBadScript)
	case !scriptName.MatchString(sc.Name):
		return fmt.Errorf("%w: script name %q: use letters, digits, '_' and '-' (it becomes part of metric names)", ErrBadScript, sc.Name)
	case sc.File == "" && sc.Program == "":
		return fmt.Errorf("%w: script %s: give a file or a program", ErrBadScript, sc.Name)
	case sc.File != "" && sc.Program != "":
		return fmt.Errorf("%w: script %s: give a file or a program, not both", ErrBadScript, sc.Name)
	}
	return nil
}

// checkListen refuses plain HTTP on an address other than loopback unless
// told otherwise: the agent's endpoints show what the kernel is doing.
func (c *Config) checkListen() error {
	host, _, err := net.SplitHostPort(c.Listen)
	if err != nil {
		return fmt.Errorf("--listen %s: %w", c.Listen, err)
	}
	if (c.TLSCert == "") != (c.TLSKey == "") {
		return errors.New("--tls-cert and --tls-key go together: give both")
	}
	if c.TLSCert != "" || c.InsecureListen || isLoopback(host) {
		return nil
	}
	return fmt.Errorf("--listen %s: %w: give --tls-cert and --tls-key to serve HTTPS there, or --insecure-listen to serve plain HTTP", c.Listen, ErrInsecureListen)
}

// isLoopback reports whether host names only this machine.
func isLoopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// scriptSet resolves the set of scripts to run: the command line's, the
// configuration file's and the scripts directory's, read now. A name
// given twice is an error.
func (c *Config) scriptSet() ([]ScriptConfig, error) {
	scripts := append([]ScriptConfig(nil), c.Scripts...)
	dir := c.ScriptsDir
	if c.ConfigFile != "" {
		fc, err := LoadConfigFile(c.ConfigFile)
		if err != nil {
			return nil, err
		}
		scripts = append(scripts, fc.Scripts...)
		if dir == "" {
			dir = fc.ScriptsDir
		}
	}
	if dir != "" {
		files, err := filepath.Glob(filepath.Join(dir, "*.bt"))
		if err != nil {
			return nil, err
		}
		if files == nil {
			if _, err := os.Stat(dir); err != nil {
				return nil, err
			}
		}
		sort.Strings(files)
		for _, f := range files {
			scripts = append(scripts, ScriptConfig{Name: strings.TrimSuffix(filepath.Base(f), ".bt"), File: f})
		}
	}
	seen := map[string]bool{}
	for i := range scripts {
		if err := scripts[i].check(); err != nil {
			return nil, err
		}
		if seen[scripts[i].Name] {
			return nil, fmt.Errorf("%w: two scripts are named %s", ErrBadScript, scripts[i].Name)
		}
		seen[scripts[i].Name] = true
	}
	return scripts, nil
}
