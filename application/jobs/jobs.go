// Package jobs is the one runner of the service's background loops: the
// order expiry sweep, the Payme timeout sweep and the orphan reservation
// sweep today, and the jobs to come (reconciliation, the outbox relay, Click
// receipts). Each job is a pass, "do what is due now", and Run calls it on a
// ticker, so every loop has the same start, error, panic and shutdown
// behaviour:
//
//   - the first pass runs at once (or, with WaitFirst, after one interval);
//   - passes never overlap: the next waits for the ticker after the last
//     ended, and a tick that comes while a pass runs is not queued behind
//     it (a time.Ticker drops ticks a slow reader misses);
//   - a pass that did a full batch (Config.Full) is followed at once by
//     another, so a backlog drains without waiting an interval per batch;
//   - every pass that ended is reported, its count and error, to the
//     caller's hook, which decides what to log or count; Run itself logs
//     nothing;
//   - a pass that failed is followed by the next after one interval, or,
//     with Config.MaxBackoff, after an interval doubled per failure in a
//     row (up to MaxBackoff), so a loop whose dependency is down (the
//     outbox relay while NATS is) does not hammer it;
//   - a pass that panics is reported as a *PanicError and the loop goes on;
//   - when ctx ends Run returns promptly, and a pass in flight then is not
//     reported. With Config.Grace that pass may finish first: its context
//     ends only Grace later, so shutdown does not cancel the statements it
//     has in flight (each cancel is a CancelRequest to Postgres, or to the
//     PgBouncer in front of it) and waits at most Grace for it.
//
// Jobs run on several instances at once: a pass must claim its work in the
// database (FOR UPDATE SKIP LOCKED, an advisory lock), never in memory.
package jobs

import (
	"context"
	"fmt"
	"runtime/debug"
	"time"
)

// Pass is one pass of a job: it does what is due and returns how much it did
// (orders expired, transactions cancelled, messages sent), for the report
// and for Config.Full.
type Pass func(ctx context.Context) (int, error)

// Ticker is what Run waits on between passes: a *time.Ticker in production
// (see Config.Ticker).
type Ticker interface {
	C() <-chan time.Time
	Stop()
}

// Config says how Run paces a job.
type Config struct {
	// Interval is the time between passes; it must be positive.
	Interval time.Duration
	// WaitFirst delays the first pass by one interval. Without it the first
	// pass runs as soon as Run starts (the sweeps: whatever fell due while
	// the service was down is done at start-up).
	WaitFirst bool
	// Full, when positive, is the count from which a pass was full: more is
	// waiting, so the next pass starts at once instead of after the
	// interval. A pass that failed always waits.
	Full int
	// MaxBackoff, when above Interval, spaces out the passes after failures:
	// after n failed passes in a row the loop waits 2^n intervals (counted
	// in ticks), at most MaxBackoff; a pass that succeeds resets it. Zero:
	// one interval after a failure, as after any pass.
	MaxBackoff time.Duration
	// Report, when not nil, hears every pass that ended: its count and its
	// error (a panic arrives as a *PanicError). A pass cut short because
	// ctx ended is not reported.
	Report func(n int, err error)
	// Grace, when positive, is how long a pass in flight when ctx ends may
	// go on: its context ends Grace after ctx does (or when it returns).
	// Zero: the pass's context is ctx itself.
	Grace time.Duration
	// Ticker, when not nil, is used instead of a time.Ticker of Interval
	// (tests drive one by hand). Run stops it when it returns.
	Ticker Ticker
}

// PanicError is what Report hears when a pass panicked: the value it
// panicked with and the stack at that point, for the log.
type PanicError struct {
	Value any
	Stack []byte
}

func (e *PanicError) Error() string { return fmt.Sprintf("jobs: pass panicked: %v", e.Value) }

// Run calls pass as Config says until ctx ends, then returns nil. It
// returns an error at once, without a pass, when the interval is not
// positive (a configuration that would spin or never run).
func Run(ctx context.Context, pass Pass, cfg Config) error {
	if cfg.Interval <= 0 {
		return fmt.Errorf("jobs: interval %s is not positive", cfg.Interval)
	}
	ticker := cfg.Ticker
	if ticker == nil {
		ticker = timeTicker{time.NewTicker(cfg.Interval)}
	}
	defer ticker.Stop()

	if cfg.WaitFirst && !wait(ctx, ticker) {
		return nil
	}
	failures := 0
	for {
		n, err := runPass(ctx, pass, cfg.Grace)
		if ctx.Err() != nil {
			return nil
		}
		if cfg.Report != nil {
			cfg.Report(n, err)
		}
		if err != nil {
			failures++
		} else {
			failures = 0
		}
		if err == nil && cfg.Full > 0 && n >= cfg.Full {
			continue
		}
		for range cfg.ticksAfter(failures) {
			if !wait(ctx, ticker) {
				return nil
			}
		}
	}
}

// ticksAfter is how many ticks the loop waits after failures failed passes
// in a row: one, or with MaxBackoff 2^failures, at most MaxBackoff/Interval.
// Counting ticks rather than arming a timer keeps a test's hand-driven
// Ticker in charge of every wait.
func (c Config) ticksAfter(failures int) int {
	limit := int(c.MaxBackoff / c.Interval)
	if failures == 0 || limit <= 1 {
		return 1
	}
	return min(1<<min(failures, 30), limit)
}

// wait blocks until the next tick (true) or until ctx ends (false).
func wait(ctx context.Context, ticker Ticker) bool {
	select {
	case <-ctx.Done():
		return false
	case <-ticker.C():
		return true
	}
}

// runPass turns a panic of pass into its error, so one bad pass (a nil map,
// a driver bug) costs one interval, not the job.
func runPass(ctx context.Context, pass Pass, grace time.Duration) (n int, err error) {
	pctx, done := passContext(ctx, grace)
	defer done()
	defer func() {
		if r := recover(); r != nil {
			n, err = 0, &PanicError{Value: r, Stack: debug.Stack()}
		}
	}()
	return pass(pctx)
}

// passContext is the context of one pass: ctx, or with a grace, a context
// with ctx's values that ends grace after ctx ends (with ctx's cause). done
// releases it once the pass has returned.
func passContext(ctx context.Context, grace time.Duration) (_ context.Context, done func()) {
	if grace <= 0 {
		return ctx, func() {}
	}
	pctx, cancel := context.WithCancelCause(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() {
		t := time.NewTimer(grace)
		defer t.Stop()
		select {
		case <-t.C:
			cancel(context.Cause(ctx))
		case <-pctx.Done():
		}
	})
	return pctx, func() {
		stop()
		cancel(nil)
	}
}

type timeTicker struct{ t *time.Ticker }

func (t timeTicker) C() <-chan time.Time { return t.t.C }
func (t timeTicker) Stop()               { t.t.Stop() }
