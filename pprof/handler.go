package pprof

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"sync"
	"time"
)

// Handler limits.
const (
	// DefaultSeconds is a profile's length when the request does not
	// say, as in Go's net/http/pprof.
	DefaultSeconds = 30
	// DefaultMaxSeconds bounds ?seconds= when HandlerOptions.MaxSeconds
	// is zero.
	DefaultMaxSeconds = 300
)

// HandlerOptions configure Handler.
type HandlerOptions struct {
	// Options are every profile's: the rate, the process, the stacks.
	// Their Duration is the length of a profile whose request gives no
	// seconds; zero means DefaultSeconds.
	Options
	// MaxSeconds bounds the seconds a request may ask for; zero means
	// DefaultMaxSeconds.
	MaxSeconds int
}

// Handler serves CPU profiles as Go's net/http/pprof serves
// /debug/pprof/profile, where profiling agents (Parca, Grafana Alloy)
// scrape them: GET ?seconds=N samples for N seconds and answers with the
// gzipped profile (application/octet-stream, as an attachment named
// "profile").
//
// seconds must be a whole number from 1 to MaxSeconds, or the answer is
// 400 Bad Request. One profile is taken at a time: a request that comes
// while another's profile is being taken gets 429 Too Many Requests at
// once, with a Retry-After of the seconds that profile has left. (Go's
// own handler refuses a second CPU profile too. Waiting instead would
// hold the scraper's connection past its timeout, and two profiles at
// once would double the sampling's cost for the same data.) A request
// whose client goes away stops its profile. A failure to profile is 500
// Internal Server Error, with the reason.
func Handler(opts HandlerOptions) http.Handler {
	if opts.Duration <= 0 {
		opts.Duration = DefaultSeconds * time.Second
	}
	if opts.MaxSeconds <= 0 {
		opts.MaxSeconds = DefaultMaxSeconds
	}
	return &handler{opts: opts}
}

type handler struct {
	opts HandlerOptions

	mu   sync.Mutex
	busy bool
	ends time.Time // when the profile being taken ends
}

// errSeconds is the answer to a bad ?seconds=.
func (h *handler) errSeconds(v string) string {
	return fmt.Sprintf("invalid seconds %q: want a whole number of seconds from 1 to %d", v, h.opts.MaxSeconds)
}

func (h *handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	d := h.opts.Duration
	if v := r.FormValue("seconds"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > h.opts.MaxSeconds {
			http.Error(w, h.errSeconds(v), http.StatusBadRequest)
			return
		}
		d = time.Duration(n) * time.Second
	}
	if left, ok := h.acquire(d); !ok {
		retry := int(math.Ceil(left.Seconds()))
		w.Header().Set("Retry-After", strconv.Itoa(retry))
		http.Error(w, fmt.Sprintf("a profile is already being taken (one at a time): retry in %ds", retry), http.StatusTooManyRequests)
		return
	}
	defer h.release()
	opts := h.opts.Options
	opts.Duration = d
	p, err := Collect(r.Context(), opts)
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			// The client is gone: there is no one to answer.
			return
		}
		http.Error(w, "could not take the profile: "+err.Error(), http.StatusInternalServerError)
		return
	}
	var b bytes.Buffer
	if err := p.Write(&b); err != nil {
		http.Error(w, "could not write the profile: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/octet-stream")
	w.Header().Set("Content-Disposition", `attachment; filename="profile"`)
	w.Header().Set("Content-Length", strconv.Itoa(b.Len()))
	w.Write(b.Bytes())
}

// acquire takes the one profile slot for d, or returns how long the
// profile that holds it has left.
func (h *handler) acquire(d time.Duration) (time.Duration, bool) {
	h.mu.Lock()
	defer h.mu.Unlock()
	if h.busy {
		return max(time.Until(h.ends), time.Second), false
	}
	h.busy, h.ends = true, time.Now().Add(d)
	return 0, true
}

func (h *handler) release() {
	h.mu.Lock()
	h.busy = false
	h.mu.Unlock()
}
