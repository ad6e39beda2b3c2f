package otlp

import (
	"errors"
	"fmt"

	"google.golang.org/protobuf/encoding/protowire"
)

// The requests need no encoder of their own: an
// ExportMetricsServiceRequest is `repeated ResourceMetrics
// resource_metrics = 1`, the same message on the wire as MetricsData,
// and ExportLogsServiceRequest is LogsData. The collector's service
// packages, which define the requests, import gRPC, which is what this
// exporter exists to keep out of the binary.

// errMalformed is what a response the exporter cannot parse wraps.
var errMalformed = errors.New("malformed protobuf")

// partialSuccess is what an Export*ServiceResponse says: its
// partial_success field (1), a message whose rejected_data_points or
// rejected_log_records (1) counts what the collector dropped and whose
// error_message (2) says why. Both are zero on full success.
type partialSuccess struct {
	rejected int64
	message  string
}

// decodeExportResponse decodes an Export*ServiceResponse, which is the
// same for both signals but for the name of the count.
func decodeExportResponse(b []byte) (partialSuccess, error) {
	var ps partialSuccess
	err := walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		if num != 1 || typ != protowire.BytesType {
			return nil
		}
		return walkFields(v, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
			switch {
			case num == 1 && typ == protowire.VarintType:
				ps.rejected = int64(n)
			case num == 2 && typ == protowire.BytesType:
				ps.message = string(v)
			}
			return nil
		})
	})
	return ps, err
}

// decodeStatus decodes a google.rpc.Status, the body of an OTLP/HTTP
// error response: its code (1) and its message (2); the details (3) are
// left out.
func decodeStatus(b []byte) (code int32, message string, err error) {
	err = walkFields(b, func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error {
		switch {
		case num == 1 && typ == protowire.VarintType:
			code = int32(n)
		case num == 2 && typ == protowire.BytesType:
			message = string(v)
		}
		return nil
	})
	return code, message, err
}

// walkFields calls f for each field of the message b, in order: with
// the field's bytes for a length-delimited one, and with its number for
// the others (the raw bits for fixed32 and fixed64, not needed here).
// Groups are skipped.
func walkFields(b []byte, f func(num protowire.Number, typ protowire.Type, v []byte, n uint64) error) error {
	for len(b) > 0 {
		num, typ, tagLen := protowire.ConsumeTag(b)
		if tagLen < 0 {
			return fmt.Errorf("%w: %v", errMalformed, protowire.ParseError(tagLen))
		}
		b = b[tagLen:]
		var (
			v    []byte
			n    uint64
			size int
		)
		switch typ {
		case protowire.VarintType:
			n, size = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x uint32
			x, size = protowire.ConsumeFixed32(b)
			n = uint64(x)
		case protowire.Fixed64Type:
			n, size = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, size = protowire.ConsumeBytes(b)
		default:
			size = protowire.ConsumeFieldValue(num, typ, b)
		}
		if size < 0 {
			return fmt.Errorf("%w: field %d: %v", errMalformed, num, protowire.ParseError(size))
		}
		b = b[size:]
		if typ == protowire.StartGroupType {
			continue
		}
		if err := f(num, typ, v, n); err != nil {
			return err
		}
	}
	return nil
}
