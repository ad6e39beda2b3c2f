package otlp

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/base64"
	"encoding/binary"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"google.golang.org/protobuf/encoding/protowire"
)

// gRPC is HTTP/2 with a protocol of its own on top, small enough for a
// unary call to be made with net/http (which is what keeps the gRPC
// module, several megabytes, out of the binary): a POST to
// /package.Service/Method with content-type application/grpc, the
// message framed in the body, and the call's status in the trailers
// grpc-status and grpc-message.

// grpcCodes names the status codes of gRPC.
var grpcCodes = [...]string{
	0: "OK", 1: "Canceled", 2: "Unknown", 3: "InvalidArgument", 4: "DeadlineExceeded",
	5: "NotFound", 6: "AlreadyExists", 7: "PermissionDenied", 8: "ResourceExhausted",
	9: "FailedPrecondition", 10: "Aborted", 11: "OutOfRange", 12: "Unimplemented",
	13: "Internal", 14: "Unavailable", 15: "DataLoss", 16: "Unauthenticated",
}

// The codes this exporter acts on.
const (
	grpcUnknown           = 2
	grpcPermissionDenied  = 7
	grpcResourceExhausted = 8
	grpcUnimplemented     = 12
	grpcInternal          = 13
	grpcUnavailable       = 14
	grpcUnauthenticated   = 16
)

func grpcCodeName(code int) string {
	if code >= 0 && code < len(grpcCodes) {
		return grpcCodes[code]
	}
	return "Code(" + strconv.Itoa(code) + ")"
}

// grpcRetryable tells whether the OTLP specification lets an export that
// failed with code be retried. ResourceExhausted is retried only when
// the collector says when (see retryDelay).
func grpcRetryable(code int) bool {
	switch code {
	case 1, 4, 10, 11, grpcUnavailable, 15: // Canceled, DeadlineExceeded, Aborted, OutOfRange, Unavailable, DataLoss
		return true
	}
	return false
}

// grpcCodeOfHTTP is the code of a response that is not gRPC's (from a
// proxy, say), as gRPC's own clients map HTTP statuses.
func grpcCodeOfHTTP(status int) int {
	switch status {
	case http.StatusBadRequest:
		return grpcInternal
	case http.StatusUnauthorized:
		return grpcUnauthenticated
	case http.StatusForbidden:
		return grpcPermissionDenied
	case http.StatusNotFound:
		return grpcUnimplemented
	case http.StatusTooManyRequests, http.StatusBadGateway, http.StatusServiceUnavailable, http.StatusGatewayTimeout:
		return grpcUnavailable
	}
	return grpcUnknown
}

// sendGRPC makes one gRPC call of the signal's Export method.
func (c *client) sendGRPC(ctx context.Context, body []byte) ([]byte, error) {
	req, err := c.newRequest(ctx, body)
	if err != nil {
		return nil, err
	}
	req.Header.Set("Content-Type", "application/grpc")
	req.Header.Set("Te", "trailers")
	if c.target.gzip {
		req.Header.Set("Grpc-Encoding", "gzip")
	}
	if deadline, ok := ctx.Deadline(); ok {
		req.Header.Set("Grpc-Timeout", grpcTimeout(time.Until(deadline)))
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, c.transportError(err)
	}
	defer resp.Body.Close()
	// The trailers arrive after the body, which must be read to its end.
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return nil, c.transportError(err)
	}
	if resp.StatusCode != http.StatusOK {
		code := grpcCodeOfHTTP(resp.StatusCode)
		err := c.errorf(ErrRefused, "HTTP %s, which gRPC takes as %s%s", resp.Status, grpcCodeName(code), httpErrorDetail(resp.Header.Get("Content-Type"), data))
		if grpcRetryable(code) {
			return nil, &retryable{err: err}
		}
		return nil, err
	}
	// A call that fails before it answers has its status in the headers:
	// a "trailers-only" response.
	trailer := resp.Trailer
	if trailer.Get("Grpc-Status") == "" {
		trailer = resp.Header
	}
	status := trailer.Get("Grpc-Status")
	if status == "" {
		return nil, c.errorf(ErrRefused, "the response has no grpc-status: is this a gRPC server? (content-type %q)", resp.Header.Get("Content-Type"))
	}
	code, err := strconv.Atoi(status)
	if err != nil {
		return nil, c.errorf(ErrRefused, "grpc-status %q is not a number", status)
	}
	if code != 0 {
		err := c.errorf(ErrRefused, "gRPC status %s%s", grpcCodeName(code), grpcMessage(trailer.Get("Grpc-Message")))
		wait, said := retryDelay(trailer.Get("Grpc-Status-Details-Bin"))
		if grpcRetryable(code) || code == grpcResourceExhausted && said {
			return nil, &retryable{err: err, wait: wait}
		}
		return nil, err
	}
	msg, err := grpcUnframe(data, resp.Header.Get("Grpc-Encoding"))
	if err != nil {
		return nil, c.badResponse(err)
	}
	return msg, nil
}

// grpcTimeout writes d as grpc-timeout does: at most eight digits and a
// unit.
func grpcTimeout(d time.Duration) string {
	ms := max(d.Milliseconds(), 1)
	if ms < 1e8 {
		return strconv.FormatInt(ms, 10) + "m"
	}
	return strconv.FormatInt(min(ms/1000, 1e8-1), 10) + "S"
}

// grpcMessage is ": " and a grpc-message, which is percent-encoded, or
// "" for none.
func grpcMessage(v string) string {
	if v == "" {
		return ""
	}
	if m, err := url.PathUnescape(v); err == nil {
		v = m
	}
	return ": " + v
}

// grpcUnframe takes the message out of a response body: one frame, with
// its message compressed as the grpc-encoding header says when the frame
// says it is compressed.
func grpcUnframe(data []byte, encoding string) ([]byte, error) {
	if len(data) == 0 {
		// No message: nothing to report, as from an empty response.
		return nil, nil
	}
	if len(data) < 5 {
		return nil, fmt.Errorf("a frame of %d bytes, shorter than its header", len(data))
	}
	n := binary.BigEndian.Uint32(data[1:5])
	if uint64(n) != uint64(len(data)-5) {
		return nil, fmt.Errorf("a frame that says %d bytes and has %d", n, len(data)-5)
	}
	msg := data[5:]
	switch {
	case data[0] == 0:
		return msg, nil
	case data[0] == 1 && encoding == "gzip":
		zr, err := gzip.NewReader(bytes.NewReader(msg))
		if err != nil {
			return nil, err
		}
		return io.ReadAll(io.LimitReader(zr, maxResponse))
	case data[0] == 1:
		return nil, fmt.Errorf("a message compressed with %q", encoding)
	}
	return nil, fmt.Errorf("a frame with flags %#x", data[0])
}

// retryDelay finds how long the collector asks to wait in a
// grpc-status-details-bin trailer: a google.rpc.Status (base64) whose
// details (3) hold a google.rpc.RetryInfo, an Any (type URL 1, value 2)
// whose retry_delay (1) is a Duration (seconds 1, nanos 2). said is
// false when there is none.
func retryDelay(details string) (wait time.Duration, said bool) {
	if details == "" {
		return 0, false
	}
	raw, err := base64.RawStdEncoding.DecodeString(strings.TrimRight(details, "="))
	if err != nil {
		return 0, false
	}
	_ = walkFields(raw, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != 3 || typ != protowire.BytesType {
			return nil
		}
		var typeURL string
		var value []byte
		_ = walkFields(v, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			switch {
			case num == 1 && typ == protowire.BytesType:
				typeURL = string(v)
			case num == 2 && typ == protowire.BytesType:
				value = v
			}
			return nil
		})
		if !strings.HasSuffix(typeURL, "/google.rpc.RetryInfo") {
			return nil
		}
		_ = walkFields(value, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
			if num != 1 || typ != protowire.BytesType {
				return nil
			}
			said = true
			return walkFields(v, func(num protowire.Number, typ protowire.Type, _ []byte, n uint64) error {
				switch {
				case num == 1 && typ == protowire.VarintType:
					wait += time.Duration(int64(n)) * time.Second
				case num == 2 && typ == protowire.VarintType:
					wait += time.Duration(int32(n))
				}
				return nil
			})
		})
		return nil
	})
	return max(wait, 0), said
}
