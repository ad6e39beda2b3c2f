package testutil

import (
	"bytes"
	"strings"
	"sync"
	"time"
)

// SyncBuffer is a bytes.Buffer safe for a writer and a reader goroutine:
// a session's output, read by a test while the session runs.
type SyncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (s *SyncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

// String returns what was written so far.
func (s *SyncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// WaitFor waits until what was written contains sub, for at most timeout,
// and reports whether it does.
func (s *SyncBuffer) WaitFor(sub string, timeout time.Duration) bool {
	for deadline := time.Now().Add(timeout); !strings.Contains(s.String(), sub); time.Sleep(5 * time.Millisecond) {
		if time.Now().After(deadline) {
			return false
		}
	}
	return true
}
