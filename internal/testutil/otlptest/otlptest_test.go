package otlptest

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"net/http"
	"os"
	"reflect"
	"testing"
	"time"

	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// TestStart posts one metric to the receiver over OTLP/HTTP, in plain
// text and over TLS with a certificate of SelfSignedCert, and finds it
// in the sink, flattened.
func TestStart(t *testing.T) {
	cert, key := SelfSignedCert(t, "collector")
	pem, err := os.ReadFile(cert)
	if err != nil {
		t.Fatal(err)
	}
	roots := x509.NewCertPool()
	if !roots.AppendCertsFromPEM(pem) {
		t.Fatal("SelfSignedCert wrote no PEM certificate")
	}
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: roots}}}

	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "test")
	m := rm.ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName("drops")
	m.SetDescription("packet drops")
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetIntValue(3)
	dp.Attributes().PutStr("comm", "curl")
	body, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	if err != nil {
		t.Fatal(err)
	}

	for _, tc := range []struct {
		name   string
		opts   []Option
		scheme string
	}{
		{"plain", []Option{WithPathPrefix("/otlp")}, "http://"},
		{"tls", []Option{WithTLS(cert, key)}, "https://"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := Start(t, tc.opts...)
			if got := r.HTTPURL[:len(tc.scheme)]; got != tc.scheme {
				t.Errorf("HTTPURL %s, want %s...", r.HTTPURL, tc.scheme)
			}
			if want := tc.scheme + r.GRPCAddr; r.GRPCURL() != want {
				t.Errorf("GRPCURL %s, want %s", r.GRPCURL(), want)
			}
			resp, err := client.Post(r.HTTPURL+"/v1/metrics", "application/x-protobuf", bytes.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %s", resp.Status)
			}
			got := LastMetrics(t, r.Metrics)
			if got.Resource["service.name"] != "test" {
				t.Errorf("resource %v", got.Resource)
			}
			want := Metric{Type: pmetric.MetricTypeGauge, Description: "packet drops", Points: []Point{{Attrs: "comm=curl", Int: 3, IsInt: true, Start: time.Unix(0, 0).UTC()}}}
			if g := got.Metrics["drops"]; !reflect.DeepEqual(g, want) {
				t.Errorf("got %v, want %v", g, want)
			}
		})
	}
}
