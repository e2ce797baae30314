package testsupport

import (
	"bytes"
	"io"
	"sync"
)

// SyncBuffer is an io.Writer a test reads while other goroutines write to
// it: a logger the server under test logs to, or a child process's output.
type SyncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

// Write appends p.
func (b *SyncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

// String returns what was written so far.
func (b *SyncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// Bytes returns a copy of what was written so far, which later writes do
// not change.
func (b *SyncBuffer) Bytes() []byte {
	b.mu.Lock()
	defer b.mu.Unlock()
	return bytes.Clone(b.buf.Bytes())
}

// RecordingBody is a request body of Size zero bytes that remembers
// whether anyone read from it: a webhook must refuse a caller from the
// wrong address or without the key before it reads (and buffers) a byte.
type RecordingBody struct {
	Size int
	off  int
	read bool
}

// Read reads zeros up to Size, and records that it was called.
func (b *RecordingBody) Read(p []byte) (int, error) {
	b.read = true
	if b.off >= b.Size {
		return 0, io.EOF
	}
	n := min(len(p), b.Size-b.off)
	clear(p[:n])
	b.off += n
	return n, nil
}

// WasRead reports whether Read was called.
func (b *RecordingBody) WasRead() bool { return b.read }
