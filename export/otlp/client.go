package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// The errors of an export, wrapped with the signal, the URL and the
// collector's own words.
var (
	// ErrRefused: the collector answered with an error, or kept asking to
	// retry until the timeout.
	ErrRefused = errors.New("otlp: export refused")
	// ErrPartialSuccess: the collector took the export but dropped some
	// of it, or took it all with a warning.
	ErrPartialSuccess = errors.New("otlp: partial success")
)

// The backoff between retries when the collector does not say how long
// to wait: doubling from the first to the last, with jitter.
const (
	firstBackoff = 500 * time.Millisecond
	maxBackoff   = 30 * time.Second
)

// maxResponse bounds what is read of a response: a collector answers an
// export with a few bytes, or with an error message.
const maxResponse = 4 << 20

// userAgent names the exporter to the collector.
const userAgent = "ktrace-otlp-exporter"

// client sends one signal's encoded export requests to one collector,
// over OTLP/HTTP or over gRPC, retrying what the specification says may
// be retried.
type client struct {
	target    *target
	http      *http.Client
	transport *http.Transport
}

func newClient(t *target) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:     t.tls,
		TLSHandshakeTimeout: 10 * time.Second,
		IdleConnTimeout:     90 * time.Second,
		MaxIdleConnsPerHost: 2,
	}
	if t.protocol == ProtocolGRPC {
		// gRPC is HTTP/2 only: over TLS, negotiated with ALPN; in plain
		// text, with prior knowledge (h2c), as gRPC clients do.
		tr.Protocols = new(http.Protocols)
		tr.Protocols.SetHTTP2(true)
		tr.Protocols.SetUnencryptedHTTP2(true)
		// A proxy can only tunnel TLS: h2c through an HTTP proxy would
		// reach the proxy, not the collector.
		tr.Proxy = func(r *http.Request) (*url.URL, error) {
			if r.URL.Scheme != "https" {
				return nil, nil
			}
			return http.ProxyFromEnvironment(r)
		}
	} else {
		tr.Proxy = http.ProxyFromEnvironment
		tr.ForceAttemptHTTP2 = true
	}
	return &client{target: t, http: &http.Client{Transport: tr}, transport: tr}
}

// close lets go of the idle connections.
func (c *client) close() { c.transport.CloseIdleConnections() }

// retryable is an error the collector says may go away: it is worth
// sending the same request again, after wait when the collector said how
// long to wait.
type retryable struct {
	err  error
	wait time.Duration
}

func (r *retryable) Error() string { return r.err.Error() }
func (r *retryable) Unwrap() error { return r.err }

// send exports msg, an encoded Export*ServiceRequest, and returns the
// encoded response. It retries until the target's timeout, waiting as
// long as the collector asks, or with exponential backoff; it gives up
// early when the next try could not begin before the timeout.
func (c *client) send(ctx context.Context, msg []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.target.timeout)
	defer cancel()
	body, err := c.encodeBody(msg)
	if err != nil {
		return nil, err
	}
	backoff := firstBackoff
	for attempt := 1; ; attempt++ {
		var resp []byte
		if c.target.protocol == ProtocolGRPC {
			resp, err = c.sendGRPC(ctx, body)
		} else {
			resp, err = c.sendHTTP(ctx, body)
		}
		var r *retryable
		if !errors.As(err, &r) {
			return resp, err
		}
		wait := r.wait
		if wait <= 0 {
			// Between half the backoff and all of it, so that agents that
			// failed together do not retry together.
			wait = backoff/2 + rand.N(backoff/2+1)
			backoff = min(2*backoff, maxBackoff)
		}
		if deadline, ok := ctx.Deadline(); ok && time.Until(deadline) < wait {
			return nil, fmt.Errorf("%w; gave up after %d %s: the next would start after the %v timeout",
				r.err, attempt, plural(attempt, "try", "tries"), c.target.timeout)
		}
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			return nil, fmt.Errorf("%w; gave up after %d %s: %w", r.err, attempt, plural(attempt, "try", "tries"), context.Cause(ctx))
		case <-timer.C:
		}
	}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// encodeBody makes the request body of msg: compressed for OTLP/HTTP,
// framed (and the message compressed) for gRPC.
func (c *client) encodeBody(msg []byte) ([]byte, error) {
	payload := msg
	if c.target.gzip {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		if _, err := zw.Write(msg); err != nil {
			return nil, err
		}
		if err := zw.Close(); err != nil {
			return nil, err
		}
		payload = buf.Bytes()
	}
	if c.target.protocol != ProtocolGRPC {
		return payload, nil
	}
	// A gRPC message: a compressed flag byte, the length as four bytes in
	// big-endian order, and the message.
	frame := make([]byte, 5, 5+len(payload))
	if c.target.gzip {
		frame[0] = 1
	}
	binary.BigEndian.PutUint32(frame[1:], uint32(len(payload)))
	return append(frame, payload...), nil
}

// errorf makes an error about this export: the signal and URL after
// the sentinel.
func (c *client) errorf(sentinel error, format string, args ...any) error {
	return fmt.Errorf("%w: %s to %s: %w", sentinel, c.target.signal.name, c.target.url, fmt.Errorf(format, args...))
}

// badResponse reports a response that could not be understood: the
// export may or may not have been taken.
func (c *client) badResponse(err error) error {
	return fmt.Errorf("otlp: %s to %s: the response: %w", c.target.signal.name, c.target.url, err)
}

// newRequest makes a POST of body with the configured headers; the
// protocol's own headers are set after them, so they cannot be
// overridden.
func (c *client) newRequest(ctx context.Context, body []byte) (*http.Request, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.target.url, bytes.NewReader(body))
	if err != nil {
		return nil, err
	}
	for k, vs := range c.target.headers {
		req.Header[k] = vs
	}
	req.Header.Set("User-Agent", userAgent)
	return req, nil
}

// transportError reports a request that got no response: a timeout, a
// refused connection, a failed TLS handshake.
func (c *client) transportError(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		err = ue.Err // the URL is in the message already
	}
	return fmt.Errorf("otlp: %s to %s: %w", c.target.signal.name, c.target.url, err)
}

// sendHTTP makes one OTLP/HTTP request.
func (c *client) sendHTTP(ctx context.Context, body []byte) ([]byte, error) {
	req, err := c.newRequest(ctx, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	if c.target.gzip {
		req.Header.Set("Content-Encoding", "gzip")
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode/100 == 2 {
		return data, nil
	}
	err = c.errorf(ErrRefused, "%s%s", resp.Status, httpErrorDetail(resp.Header.Get("Content-Type"), data))
	switch resp.StatusCode {
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return nil, &retryable{err: err, wait: retryAfter(resp.Header.Get("Retry-After"), time.Now())}
	}
	return nil, err
}

// httpErrorDetail is what an OTLP/HTTP error response says, ": " and
// the message of its google.rpc.Status, or of its text; "" when it says
// nothing readable.
func httpErrorDetail(contentType string, body []byte) string {
	var msg string
	switch mediaType, _, _ := strings.Cut(contentType, ";"); strings.TrimSpace(mediaType) {
	case "application/x-protobuf", "application/protobuf":
		if _, m, err := decodeStatus(body); err == nil {
			msg = m
		}
	case "text/plain", "application/json":
		msg = string(body)
	}
	msg = strings.TrimSpace(msg)
	if msg == "" {
		return ""
	}
	const limit = 512
	if len(msg) > limit {
		msg = msg[:limit] + "..."
	}
	return ": " + msg
}

// retryAfter is how long a Retry-After header asks to wait, in seconds
// or until a date; zero when it says nothing usable.
func retryAfter(v string, now time.Time) time.Duration {
	v = strings.TrimSpace(v)
	if v == "" {
		return 0
	}
	if s, err := strconv.ParseUint(v, 10, 32); err == nil {
		return time.Duration(s) * time.Second
	}
	if t, err := http.ParseTime(v); err == nil && t.After(now) {
		return t.Sub(now)
	}
	return 0
}
