package outbox

import (
	"context"
	"time"
)

// Defaults of Pacing.
const (
	// DefaultPoll is the wait after a pass that found nothing: an event
	// committed meanwhile reaches the broker within about this long (plus a
	// publish), well inside API.md's 1 s.
	DefaultPoll = 200 * time.Millisecond
	// DefaultMaxBackoff caps the wait after failed passes: once the broker
	// is back, the backlog starts draining within this long.
	DefaultMaxBackoff = 5 * time.Second
)

// Pacing decides how long the relay loop waits between passes. It is kept
// apart from the loop (a pure function of the last pass) so that a shared
// runner for background loops can use it.
type Pacing struct {
	Poll       time.Duration // wait after an idle pass (default DefaultPoll)
	MaxBackoff time.Duration // cap of the wait after failed passes (default DefaultMaxBackoff)
}

func (p Pacing) withDefaults() Pacing {
	if p.Poll <= 0 {
		p.Poll = DefaultPoll
	}
	if p.MaxBackoff < p.Poll {
		p.MaxBackoff = max(DefaultMaxBackoff, p.Poll)
	}
	return p
}

// Next returns the wait before the next pass and the new count of failed
// passes in a row, from the last pass's result and error and the count
// before it:
//
//   - the pass failed (broker or database unavailable): Poll doubled per
//     failure in a row, at most MaxBackoff;
//   - it claimed something: no wait, since a full batch means more is
//     waiting and a published message may have let the next one of its
//     aggregate through;
//   - it found nothing: Poll.
func (p Pacing) Next(res PassResult, err error, failures int) (wait time.Duration, nextFailures int) {
	p = p.withDefaults()
	switch {
	case err != nil:
		failures++
		wait = p.Poll
		for i := 0; i < failures && wait < p.MaxBackoff; i++ {
			wait *= 2
		}
		return min(wait, p.MaxBackoff), failures
	case res.Claimed > 0:
		return 0, 0
	default:
		return p.Poll, 0
	}
}

// Run runs passes until ctx ends, waiting between them as pacing says.
// report (when not nil) gets every pass that claimed something or failed,
// not the idle ones; the caller decides what to log or count. A pass cut
// short because ctx ended is not reported.
func (r *Relay) Run(ctx context.Context, pacing Pacing, report func(PassResult, error)) {
	failures := 0
	timer := time.NewTimer(time.Hour)
	timer.Stop()
	defer timer.Stop()
	for {
		res, err := r.Pass(ctx)
		if ctx.Err() != nil {
			return
		}
		if report != nil && (err != nil || res.Claimed > 0) {
			report(res, err)
		}
		var wait time.Duration
		wait, failures = pacing.Next(res, err, failures)
		if wait == 0 {
			continue
		}
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-timer.C:
		}
	}
}
