// Package testsupport is what the unit tests of the core share instead of
// copying it: fakes of the small ports every use case needs (a transaction
// manager that runs in place, and one that also records how its
// transactions ended; a fixed clock, one a test moves and one that steps at
// every reading; a fixed id), FieldsOf, which reads a validation error the
// way the assertions compare it, and two io fakes (a buffer safe to read
// while written, a request body that tells whether it was read).
//
// It is imported by tests only (test/architecture fails the build when a
// package outside test/ imports it outside its _test files).
package testsupport

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
)

// InlineTx is a ports.TxManager that runs fn in place: a use case's
// atomicity is the Postgres adapter's job, tested against real Postgres. The
// context fn gets is marked, so InTx tells the calls made inside the
// transaction from those outside it. CommitErr, when set, is returned after
// fn succeeded, as a COMMIT that fails.
type InlineTx struct {
	CommitErr error
}

type inTxKey struct{}

// WithinTx runs fn with a context InTx recognises.
func (tx InlineTx) WithinTx(ctx context.Context, fn func(context.Context) error) error {
	if err := fn(context.WithValue(ctx, inTxKey{}, true)); err != nil {
		return err
	}
	return tx.CommitErr
}

// InTx reports whether ctx is (derived from) the context of an
// InlineTx.WithinTx.
func InTx(ctx context.Context) bool { return ctx.Value(inTxKey{}) != nil }

// RecordingTx is an InlineTx that remembers how many transactions it ran
// and how the latest ended, for the tests that assert a failure rolled back
// what the use case wrote, a refusal never opened a transaction, or a step
// ran only once its transaction had committed. A transaction commits when
// fn returns nil and no CommitErr is set; it rolls back otherwise. It is
// safe for concurrent use.
type RecordingTx struct {
	InlineTx
	mu   sync.Mutex
	runs int
	last error // how the latest transaction ended: nil for a commit
}

// WithinTx runs fn as InlineTx does and records the outcome.
func (tx *RecordingTx) WithinTx(ctx context.Context, fn func(context.Context) error) error {
	err := tx.InlineTx.WithinTx(ctx, fn)
	tx.mu.Lock()
	defer tx.mu.Unlock()
	tx.runs++
	tx.last = err
	return err
}

// Runs is how many transactions were started.
func (tx *RecordingTx) Runs() int {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.runs
}

// Committed reports whether the latest transaction committed; false
// before the first.
func (tx *RecordingTx) Committed() bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.runs > 0 && tx.last == nil
}

// RolledBack reports whether the latest transaction rolled back; false
// before the first.
func (tx *RecordingTx) RolledBack() bool {
	tx.mu.Lock()
	defer tx.mu.Unlock()
	return tx.runs > 0 && tx.last != nil
}

// FixedClock is a ports.Clock that always reads the same instant.
type FixedClock time.Time

// Now returns the instant the clock was made with.
func (c FixedClock) Now() time.Time { return time.Time(c) }

// Clock is a ports.Clock a test moves by hand, or that steps forward at
// every reading. It is safe for concurrent use, so a test may move it while
// the code under test reads it.
type Clock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

// NewClock returns a clock that reads t until moved.
func NewClock(t time.Time) *Clock { return &Clock{now: t} }

// NewStepClock returns a clock that reads t first and moves forward by step
// after every reading, so things made one after another get distinct,
// ordered times, and a span timed by two readings is exactly step, without
// sleeping.
func NewStepClock(t time.Time, step time.Duration) *Clock { return &Clock{now: t, step: step} }

// Now returns the clock's reading (and then steps, for a step clock).
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

// Set moves the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = t
}

// Advance moves the clock forward by d.
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// FixedID is a ports.IDGenerator that hands out the same id every time.
type FixedID string

// NewID returns the id.
func (id FixedID) NewID() string { return string(id) }

// FieldsOf returns the fields err names, in order, failing the test unless
// err is a *domain.ValidationError.
func FieldsOf(t testing.TB, err error) []string {
	t.Helper()
	var verr *domain.ValidationError
	require.ErrorAs(t, err, &verr, "a validation error names its fields: %v", err)
	out := make([]string, 0, len(verr.Fields))
	for _, f := range verr.Fields {
		out = append(out, f.Field)
	}
	return out
}
