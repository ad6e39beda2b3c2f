package serve

import (
	"flag"
	"fmt"
)

// Flags are ktrace serve's command line: the Config, and how to log.
type Flags struct {
	Config
	// LogFormat is text or json.
	LogFormat string
	// OTLPFlags are the --otlp-* flags; the command sets Config.OTLP
	// from them when any is given.
	OTLPFlags OTLPConfig
}

// Register defines the flags on fs.
func (f *Flags) Register(fs *flag.FlagSet) {
	c := &f.Config
	fs.Var((*scriptFlags)(&c.Scripts), "script", "a script to run, `NAME=FILE.bt` (or FILE.bt, named after the file); repeat for more")
	fs.StringVar(&c.ScriptsDir, "scripts", "", "run every *.bt file of `DIR`, each named after its file")
	fs.StringVar(&c.ConfigFile, "config", "", "a YAML configuration `FILE` (scripts, and defaults for these flags); re-read on SIGHUP")
	fs.StringVar(&c.Listen, "listen", "", "the HTTP `ADDRESS` (default "+DefaultListen+")")
	fs.StringVar(&c.TLSCert, "tls-cert", "", "serve HTTPS with this certificate `FILE` (PEM)")
	fs.StringVar(&c.TLSKey, "tls-key", "", "and this key `FILE` (PEM)")
	fs.BoolVar(&c.InsecureListen, "insecure-listen", false, "allow plain HTTP on an address other than loopback")
	fs.StringVar(&c.AuthTokenFile, "auth-token-file", "", "require the bearer token in `FILE` on every endpoint but /healthz and /readyz")
	fs.StringVar(&c.Node, "node", "", "the node label's `NAME` (default: the host name)")
	fs.IntVar(&c.MaxSeries, "max-series", 0, fmt.Sprintf("the most series one map exports (default %d)", DefaultMaxSeries))
	fs.BoolVar(&c.BPFStats, "bpf-stats", false, "turn on the kernel's bpf_stats, for the ktrace_script_bpf_* metrics")
	fs.BoolVar(&c.Unsafe, "unsafe", false, "allow system() and signal() in scripts")
	o := &f.OTLPFlags
	fs.StringVar(&o.Endpoint, "otlp-endpoint", "", "send metrics and printf output over OTLP to `URL` (or set OTEL_EXPORTER_OTLP_ENDPOINT)")
	fs.StringVar(&o.Protocol, "otlp-protocol", "", "OTLP `PROTOCOL`: grpc or http/protobuf (default http/protobuf, or OTEL_EXPORTER_OTLP_PROTOCOL)")
	fs.BoolVar(&o.Insecure, "otlp-insecure", false, "send OTLP to a host:port endpoint in plain text, without TLS")
	fs.DurationVar(&o.Interval, "otlp-interval", 0, "how often metrics are sent over OTLP (default 60s, or OTEL_METRIC_EXPORT_INTERVAL)")
	fs.StringVar(&f.LogFormat, "log-format", "text", "the log's `FORMAT`: text or json")
}

// scriptFlags collects repeated --script flags.
type scriptFlags []ScriptConfig

func (s *scriptFlags) String() string { return "" }

func (s *scriptFlags) Set(v string) error {
	sc, err := ParseScriptFlag(v)
	if err != nil {
		return err
	}
	*s = append(*s, sc)
	return nil
}
