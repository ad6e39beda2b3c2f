package serve

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/pprof/profile"
)

// TestAuthToken requires the bearer token everywhere but the health
// checks.
func TestAuthToken(t *testing.T) {
	token := filepath.Join(t.TempDir(), "token")
	os.WriteFile(token, []byte("s3cret\n"), 0o600)
	ta := startAgent(t, Config{AuthTokenFile: token, Scripts: []ScriptConfig{{Name: "drops", Program: dropsScript}}})
	const denied = "a bearer token is required (Authorization: Bearer TOKEN)\n"
	for _, tt := range []struct {
		path, auth string
		code       int
		body       string // prefix
	}{
		{"/metrics", "", http.StatusUnauthorized, denied},
		{"/metrics", "Bearer wrong", http.StatusUnauthorized, denied},
		{"/metrics", "Basic czNjcmV0", http.StatusUnauthorized, denied},
		{"/metrics", "Bearer s3cret", http.StatusOK, "# HELP "},
		{"/scripts", "", http.StatusUnauthorized, denied},
		{"/scripts", "Bearer s3cret", http.StatusOK, "[\n  {\n    \"name\": \"drops\""},
		{"/debug/pprof/profile?seconds=0", "", http.StatusUnauthorized, denied},
		{"/healthz", "", http.StatusOK, "ok\n"},
		{"/readyz", "", http.StatusOK, "ok\n"},
	} {
		var header []string
		if tt.auth != "" {
			header = []string{"Authorization", tt.auth}
		}
		code, body := ta.get(t, tt.path, header...)
		if code != tt.code || !strings.HasPrefix(body, tt.body) {
			t.Errorf("GET %s (Authorization %q): %d %q; want %d %q...", tt.path, tt.auth, code, body, tt.code, tt.body)
		}
	}
	empty := filepath.Join(t.TempDir(), "empty")
	os.WriteFile(empty, []byte("\n"), 0o600)
	if _, err := New(Config{AuthTokenFile: empty, Scripts: []ScriptConfig{{Name: "x", Program: dropsScript}}}); err == nil || err.Error() != "--auth-token-file "+empty+" is empty" {
		t.Errorf("an empty token file: %v", err)
	}
}

// TestTLS serves HTTPS on every address with a certificate, and refuses
// plain HTTP there.
func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile, pool := selfSigned(t, dir)
	ta := startAgent(t, Config{Listen: "0.0.0.0:0", TLSCert: certFile, TLSKey: keyFile,
		Scripts: []ScriptConfig{{Name: "drops", Program: dropsScript}}})
	_, port, _ := net.SplitHostPort(ta.Addr().String())
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 10 * time.Second}
	resp, err := client.Get("https://127.0.0.1:" + port + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `ktrace_script_up{node="test-node",script="drops"} 1`) {
		t.Errorf("HTTPS /metrics: %d\n%s", resp.StatusCode, body)
	}
	resp, err = http.Get("http://127.0.0.1:" + port + "/metrics")
	if err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d, want 400 (client sent an HTTP request to an HTTPS server)", resp.StatusCode)
		}
	}
	if _, err := New(Config{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: certFile, Scripts: []ScriptConfig{{Name: "x", Program: dropsScript}}}); err != nil {
		t.Fatal(err) // New reads nothing yet
	}
	a, _ := New(Config{Listen: "127.0.0.1:0", TLSCert: certFile, TLSKey: certFile, Scripts: []ScriptConfig{{Name: "x", Program: dropsScript}}})
	if err := a.Start(t.Context()); err == nil || !strings.HasPrefix(err.Error(), "--tls-cert/--tls-key: tls: ") {
		t.Errorf("a certificate as its own key: %v", err)
	}
}

// selfSigned writes a certificate for 127.0.0.1 and its key.
func selfSigned(t *testing.T, dir string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "ktrace test"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o644)
	os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: keyDER}), 0o600)
	cert, _ := x509.ParseCertificate(der)
	pool = x509.NewCertPool()
	pool.AddCert(cert)
	return certFile, keyFile, pool
}

// TestProfileEndpoint serves a CPU profile of the machine that pprof
// reads.
func TestProfileEndpoint(t *testing.T) {
	ta := startAgent(t, Config{Scripts: []ScriptConfig{{Name: "drops", Program: dropsScript}}})
	resp, err := http.Get(ta.url + "/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		body, _ := io.ReadAll(resp.Body)
		t.Fatalf("/debug/pprof/profile: %d %s", resp.StatusCode, body)
	}
	p, err := profile.Parse(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if err := p.CheckValid(); err != nil {
		t.Fatal(err)
	}
	if d := time.Duration(p.DurationNanos); d < time.Second || d > 5*time.Second || len(p.SampleType) != 2 || p.SampleType[1].Type != "cpu" {
		t.Errorf("profile: duration %v, sample types %v; want one second of cpu samples", d, p.SampleType)
	}
}
