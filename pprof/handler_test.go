package pprof_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/ktrace/ktrace/internal/testutil"
	"github.com/ktrace/ktrace/pprof"
)

// get fetches url and returns the response with its body read.
func get(t *testing.T, ctx context.Context, url string) (*http.Response, []byte, error) {
	t.Helper()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, nil, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	return resp, body, err
}

// TestHandler fetches a one-second profile of the busy program as a
// profiling agent would.
func TestHandler(t *testing.T) {
	b := startBusy(t)
	srv := httptest.NewServer(pprof.Handler(pprof.HandlerOptions{Options: pprof.Options{Hz: 199, PID: b.cmd.Process.Pid}}))
	defer srv.Close()
	began := time.Now()
	resp, body, err := get(t, context.Background(), srv.URL+"/debug/pprof/profile?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("status %s: %s", resp.Status, body)
	}
	if took := time.Since(began); took < time.Second {
		t.Errorf("a one-second profile came after %v", took)
	}
	for k, want := range map[string]string{
		"Content-Type":        "application/octet-stream",
		"Content-Disposition": `attachment; filename="profile"`,
		"Content-Length":      strconv.Itoa(len(body)),
	} {
		if got := resp.Header.Get(k); got != want {
			t.Errorf("%s: %q, want %q", k, got, want)
		}
	}
	if len(body) < 2 || body[0] != 0x1f || body[1] != 0x8b {
		t.Errorf("the body is not gzipped: % x", body[:min(len(body), 8)])
	}
	p := b.check(t, body, strconv.FormatUint(b.cgroup, 10))
	if p.Period != int64(time.Second)/199 || time.Duration(p.DurationNanos) < time.Second {
		t.Errorf("period %d and duration %d: want 1/199 s and a second", p.Period, p.DurationNanos)
	}
}

// TestHandlerBadSeconds: seconds that are not a whole number from 1 to
// the limit are refused, before anything is loaded.
func TestHandlerBadSeconds(t *testing.T) {
	srv := httptest.NewServer(pprof.Handler(pprof.HandlerOptions{MaxSeconds: 120}))
	defer srv.Close()
	for _, v := range []string{"abc", "0", "-1", "121", "1.5", "1e3", "99999999999999999999", "%20"} {
		resp, body, err := get(t, context.Background(), srv.URL+"/debug/pprof/profile?seconds="+v)
		if err != nil {
			t.Fatal(err)
		}
		got := resp.Request.URL.Query().Get("seconds")
		want := fmt.Sprintf("invalid seconds %q: want a whole number of seconds from 1 to 120\n", got)
		if resp.StatusCode != http.StatusBadRequest || string(body) != want {
			t.Errorf("seconds=%s: %s %q, want 400 %q", v, resp.Status, body, want)
		}
	}
	// The default limit.
	srv = httptest.NewServer(pprof.Handler(pprof.HandlerOptions{}))
	defer srv.Close()
	resp, body, err := get(t, context.Background(), srv.URL+"/debug/pprof/profile?seconds=301")
	if err != nil {
		t.Fatal(err)
	}
	if want := "invalid seconds \"301\": want a whole number of seconds from 1 to 300\n"; resp.StatusCode != http.StatusBadRequest || string(body) != want {
		t.Errorf("seconds=301: %s %q, want 400 %q", resp.Status, body, want)
	}
}

// TestHandlerFailure: a profile that cannot be taken is a 500 with the
// reason, and frees the handler for the next request.
func TestHandlerFailure(t *testing.T) {
	srv := httptest.NewServer(pprof.Handler(pprof.HandlerOptions{Options: pprof.Options{UserOnly: true, KernelOnly: true}}))
	defer srv.Close()
	for range 2 {
		resp, body, err := get(t, context.Background(), srv.URL+"?seconds=1")
		if err != nil {
			t.Fatal(err)
		}
		want := "could not take the profile: user-only and kernel-only stacks are alternatives: choose one\n"
		if resp.StatusCode != http.StatusInternalServerError || string(body) != want {
			t.Errorf("%s %q, want 500 %q", resp.Status, body, want)
		}
	}
}

// TestHandlerOneAtATime: while a profile is taken, another request is
// refused with 429 and when to retry; once it is done, the next is served.
func TestHandlerOneAtATime(t *testing.T) {
	testutil.RequireRoot(t)
	started := make(chan struct{}, 2)
	srv := httptest.NewServer(pprof.Handler(pprof.HandlerOptions{Options: pprof.Options{Started: func() { started <- struct{}{} }}}))
	defer srv.Close()
	var wg sync.WaitGroup
	wg.Add(1)
	var first *http.Response
	var firstErr error
	go func() {
		defer wg.Done()
		first, _, firstErr = get(t, context.Background(), srv.URL+"?seconds=3")
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the first profile did not start")
	}
	resp, body, err := get(t, context.Background(), srv.URL+"?seconds=1")
	if err != nil {
		t.Fatal(err)
	}
	retry := resp.Header.Get("Retry-After")
	n, err := strconv.Atoi(retry)
	want := fmt.Sprintf("a profile is already being taken (one at a time): retry in %ds\n", n)
	if resp.StatusCode != http.StatusTooManyRequests || err != nil || n < 1 || n > 3 || string(body) != want {
		t.Errorf("a second request: %s, Retry-After %q, %q; want 429, 1 to 3 seconds, %q", resp.Status, retry, body, want)
	}
	wg.Wait()
	if firstErr != nil || first.StatusCode != http.StatusOK {
		t.Fatalf("the first request: %v %v", first, firstErr)
	}
	if resp, body, err := get(t, context.Background(), srv.URL+"?seconds=1"); err != nil || resp.StatusCode != http.StatusOK {
		t.Errorf("a request after the first: %v %v %s", resp, err, body)
	}
}

// TestHandlerClientGone: a client that goes away stops its profile, and
// the next request is served at once.
func TestHandlerClientGone(t *testing.T) {
	testutil.RequireRoot(t)
	started := make(chan struct{}, 2)
	srv := httptest.NewServer(pprof.Handler(pprof.HandlerOptions{Options: pprof.Options{Started: func() { started <- struct{}{} }}}))
	defer srv.Close()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		_, _, err := get(t, ctx, srv.URL+"?seconds=120")
		done <- err
	}()
	select {
	case <-started:
	case <-time.After(30 * time.Second):
		t.Fatal("the profile did not start")
	}
	cancel()
	if err := <-done; err == nil {
		t.Error("the canceled request succeeded")
	}
	// The handler notices the client is gone and gives up the slot;
	// before it has, a request may still be refused.
	deadline := time.Now().Add(20 * time.Second)
	for {
		resp, body, err := get(t, context.Background(), srv.URL+"?seconds=1")
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode == http.StatusOK {
			break
		}
		if resp.StatusCode != http.StatusTooManyRequests || time.Now().After(deadline) {
			t.Fatalf("after the client left: %s %s", resp.Status, body)
		}
		time.Sleep(100 * time.Millisecond)
	}
}
