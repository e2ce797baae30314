package testsupport

import (
	"sync/atomic"
	"testing"
	"time"
)

// Ticker is a jobs.Ticker a test drives by hand, so a background loop is
// tested without sleeping. Its channel has no buffer: Tick returns once the
// loop took the tick, which tells the test the loop was waiting (its
// previous pass had ended and been reported).
type Ticker struct {
	c       chan time.Time
	stopped atomic.Bool
}

// NewTicker returns a ticker that ticks only when told.
func NewTicker() *Ticker { return &Ticker{c: make(chan time.Time)} }

// C is the channel the loop waits on.
func (t *Ticker) C() <-chan time.Time { return t.c }

// Stop records that the loop let go of the ticker.
func (t *Ticker) Stop() { t.stopped.Store(true) }

// Stopped reports whether Stop was called.
func (t *Ticker) Stopped() bool { return t.stopped.Load() }

// Tick hands the loop one tick, waiting until it takes it; a loop that
// never does (it has returned, or hangs in a pass) fails the test.
func (t *Ticker) Tick(tb testing.TB) {
	tb.Helper()
	select {
	case t.c <- time.Now():
	case <-time.After(tickWait):
		tb.Fatalf("the loop did not wait for a tick within %s", tickWait)
	}
}

// tickWait bounds Tick: generous, since it is only reached when the loop
// under test is broken, and a loaded machine must not fail a sound one.
const tickWait = 10 * time.Second

// TryTick hands the loop a tick only if it is waiting for one right now,
// and reports whether it was: a tick nobody waits for is dropped, as a
// time.Ticker drops the ticks a busy reader misses.
func (t *Ticker) TryTick() bool {
	select {
	case t.c <- time.Now():
		return true
	default:
		return false
	}
}
