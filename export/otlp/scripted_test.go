package otlp_test

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	lpb "go.opentelemetry.io/proto/otlp/logs/v1"
	mpb "go.opentelemetry.io/proto/otlp/metrics/v1"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
)

// scripted is a collector that answers as a test tells it to: the
// errors, retries and partial successes a real receiver cannot be made
// to give. It speaks HTTP/1.1 and HTTP/2 in plain text (h2c), so it
// serves both OTLP/HTTP and gRPC, and it keeps every request, decoded.
type scripted struct {
	*httptest.Server
	t *testing.T

	mu       sync.Mutex
	answers  []answer // one per request; the last repeats
	requests []request
}

// request is what the scripted collector received.
type request struct {
	Proto  int // HTTP major version
	Path   string
	Header http.Header
	// Frame is a gRPC request's compressed flag.
	Frame byte
	// Metrics or Logs is the decoded request, by the path.
	Metrics *mpb.MetricsData
	Logs    *lpb.LogsData
}

// answer writes one response.
type answer func(w http.ResponseWriter)

func startScripted(t *testing.T, answers ...answer) *scripted {
	s := &scripted{t: t, answers: answers}
	s.Server = httptest.NewUnstartedServer(http.HandlerFunc(s.serve))
	s.Config.Protocols = new(http.Protocols)
	s.Config.Protocols.SetHTTP1(true)
	s.Config.Protocols.SetUnencryptedHTTP2(true)
	s.Start()
	t.Cleanup(s.Close)
	return s
}

func (s *scripted) serve(w http.ResponseWriter, r *http.Request) {
	body, err := io.ReadAll(r.Body)
	if err != nil {
		s.t.Errorf("reading the request: %v", err)
		return
	}
	req := request{Proto: r.ProtoMajor, Path: r.URL.Path, Header: r.Header.Clone()}
	grpc := r.Header.Get("Content-Type") == "application/grpc"
	if grpc {
		if len(body) < 5 || int(binary.BigEndian.Uint32(body[1:5])) != len(body)-5 {
			s.t.Errorf("a gRPC request body that is not one frame: %x", body)
			return
		}
		req.Frame, body = body[0], body[5:]
	}
	if r.Header.Get("Content-Encoding") == "gzip" || grpc && req.Frame == 1 && r.Header.Get("Grpc-Encoding") == "gzip" {
		zr, err := gzip.NewReader(bytes.NewReader(body))
		if err == nil {
			body, err = io.ReadAll(zr)
		}
		if err != nil {
			s.t.Errorf("gunzip: %v", err)
			return
		}
	}
	// Export*ServiceRequest is MetricsData or LogsData on the wire.
	if strings.Contains(r.URL.Path, "metrics") {
		req.Metrics = new(mpb.MetricsData)
		err = proto.Unmarshal(body, req.Metrics)
	} else {
		req.Logs = new(lpb.LogsData)
		err = proto.Unmarshal(body, req.Logs)
	}
	if err != nil {
		s.t.Errorf("decoding the request to %s: %v", r.URL.Path, err)
	}
	s.mu.Lock()
	s.requests = append(s.requests, req)
	a := s.answers[min(len(s.requests), len(s.answers))-1]
	s.mu.Unlock()
	a(w)
}

// received is every request so far.
func (s *scripted) received() []request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]request(nil), s.requests...)
}

// httpAnswer answers OTLP/HTTP with status, a body of type application/x-protobuf,
// and the headers given as name, value, name, value.
func httpAnswer(status int, body []byte, header ...string) answer {
	return func(w http.ResponseWriter) {
		for i := 0; i+1 < len(header); i += 2 {
			w.Header().Set(header[i], header[i+1])
		}
		w.Header().Set("Content-Type", "application/x-protobuf")
		w.WriteHeader(status)
		w.Write(body)
	}
}

// grpcAnswer answers gRPC: msg framed, then the status in trailers.
func grpcAnswer(code int, message string, msg []byte) answer {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/grpc")
		w.WriteHeader(http.StatusOK)
		if code == 0 {
			frame := binary.BigEndian.AppendUint32([]byte{0}, uint32(len(msg)))
			w.Write(append(frame, msg...))
		}
		w.Header().Set(http.TrailerPrefix+"Grpc-Status", fmt.Sprint(code))
		if message != "" {
			w.Header().Set(http.TrailerPrefix+"Grpc-Message", message)
		}
	}
}

// grpcTrailersOnly answers gRPC with the status in the headers and no
// body, as servers do for a call that fails before it starts.
func grpcTrailersOnly(code int, message string) answer {
	return func(w http.ResponseWriter) {
		w.Header().Set("Content-Type", "application/grpc")
		w.Header().Set("Grpc-Status", fmt.Sprint(code))
		w.Header().Set("Grpc-Message", message)
		w.WriteHeader(http.StatusOK)
	}
}

// exportResponse encodes an Export*ServiceResponse with a partial
// success of rejected items and message.
func exportResponse(rejected int64, message string) []byte {
	var ps []byte
	if rejected != 0 {
		ps = protowire.AppendTag(ps, 1, protowire.VarintType)
		ps = protowire.AppendVarint(ps, uint64(rejected))
	}
	if message != "" {
		ps = protowire.AppendTag(ps, 2, protowire.BytesType)
		ps = protowire.AppendString(ps, message)
	}
	b := protowire.AppendTag(nil, 1, protowire.BytesType)
	return protowire.AppendBytes(b, ps)
}

// rpcStatus encodes a google.rpc.Status.
func rpcStatus(code int64, message string) []byte {
	b := protowire.AppendTag(nil, 1, protowire.VarintType)
	b = protowire.AppendVarint(b, uint64(code))
	b = protowire.AppendTag(b, 2, protowire.BytesType)
	return protowire.AppendString(b, message)
}
