// Package outbox holds the use cases around the transactional outbox: the
// relay that publishes domain events from it (Relay), the loop that runs the
// relay (Pacing, Relay.Run), the backlog report for metrics (Backlog), and
// the purge of old done rows (PurgeDone).
package outbox

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/ports"
)

// Defaults of the relay.
const (
	// DefaultBatch is how many messages one pass claims.
	DefaultBatch = 100
	// DefaultLease is how long a claim holds its messages. A pass stops
	// publishing after half of it, so its messages are settled while still
	// its own; a relay that dies holds them this long.
	DefaultLease = 30 * time.Second
	// DefaultRetryMin and DefaultRetryMax bound the backoff of a message the
	// broker refused: 1 s, doubling per attempt, at most a minute.
	DefaultRetryMin = time.Second
	DefaultRetryMax = time.Minute
	// settleTimeout bounds the bookkeeping after the publishes, which runs
	// even when the pass's context ended (shutdown), so what was published is
	// marked done rather than published again after the restart.
	settleTimeout = 5 * time.Second
)

// Relay publishes the outbox's domain events (kind ports.OutboxEvent) to
// the event broker. Several relays, in one process or many, may run at once:
// the store hands each message to one claim at a time and the messages of
// one aggregate one after the other, so every event is published at least
// once and in commit order per aggregate; a copy sent twice (after a lost
// ack, or by a relay whose lease ran out) carries the same id, and the
// broker drops it.
type Relay struct {
	store     ports.Outbox
	publisher ports.EventPublisher
	clock     ports.Clock
	batch     int
	lease     time.Duration
	retryMin  time.Duration
	retryMax  time.Duration
}

// NewRelay returns a relay with the default batch, lease and retry backoff.
func NewRelay(store ports.Outbox, publisher ports.EventPublisher, clock ports.Clock) *Relay {
	return &Relay{store: store, publisher: publisher, clock: clock, batch: DefaultBatch, lease: DefaultLease,
		retryMin: DefaultRetryMin, retryMax: DefaultRetryMax}
}

// WithBatch sets how many messages one pass claims (n ≥ 1).
func (r *Relay) WithBatch(n int) *Relay {
	if n >= 1 {
		r.batch = n
	}
	return r
}

// WithLease sets how long a claim holds its messages (d > 0). Keep it well
// above the publisher's timeout and below the broker's duplicate window.
func (r *Relay) WithLease(d time.Duration) *Relay {
	if d > 0 {
		r.lease = d
	}
	return r
}

// WithRetry sets the backoff of a refused message: min, doubling per
// attempt, at most max (0 < min ≤ max).
func (r *Relay) WithRetry(minDelay, maxDelay time.Duration) *Relay {
	if minDelay > 0 && maxDelay >= minDelay {
		r.retryMin, r.retryMax = minDelay, maxDelay
	}
	return r
}

// PassResult is what one pass did.
type PassResult struct {
	Claimed   int // messages the pass claimed
	Published int // published and marked done
	Failed    int // attempted and failed: counted, retried later
	Released  int // claimed but not attempted (broker down, time up, shutdown): freed at once
	// Rejected holds the errors of the messages the broker refused on their
	// own merits. They are retried after a backoff; they say nothing about
	// the broker's health, so they do not slow the loop down.
	Rejected []error
}

// Pass claims a batch of events and publishes them, one by one in commit
// order, with no transaction open; then it marks the published ones done,
// the failed ones failed and the rest released, each in a short statement of
// its own.
//
// A claim holds at most one message per aggregate (the store hands out an
// aggregate's next message only once the one before is done), so a failure
// leaves the later messages of its aggregate for later passes, in order. A
// message the broker refused is retried after a backoff and the pass goes on
// with the others. Any other publish error means the broker is unreachable:
// the pass stops there, frees the rest at once and returns the error (the
// loop backs off); the failed message is free again at once too, since its
// retry is paced by the loop.
//
// err is not nil when the pass could not do its work: the broker or the
// database unavailable. Messages are never lost: whatever was not marked
// done is claimed again, at the latest when the lease runs out.
func (r *Relay) Pass(ctx context.Context) (PassResult, error) {
	now := r.clock.Now()
	claim, err := r.store.Claim(ctx, ports.OutboxEvent, r.batch, now, r.lease)
	if err != nil {
		return PassResult{}, fmt.Errorf("outbox relay: claim: %w", err)
	}
	res := PassResult{Claimed: len(claim.Messages)}
	if res.Claimed == 0 {
		return res, nil
	}
	budget := now.Add(r.lease / 2)
	var (
		done    []string
		failed  []ports.OutboxFailure
		rest    []string
		downErr error
	)
	for i, m := range claim.Messages {
		if ctx.Err() != nil || r.clock.Now().After(budget) {
			rest = messageIDs(claim.Messages[i:])
			break
		}
		err := r.publisher.Publish(ctx, m.OutboxMessage)
		if err == nil {
			done = append(done, m.ID)
			continue
		}
		if ctx.Err() != nil {
			// Shutting down mid-publish: not the message's failure. It is
			// published again after the restart (a duplicate if it landed).
			rest = messageIDs(claim.Messages[i:])
			break
		}
		at := r.clock.Now()
		if errors.Is(err, ports.ErrPublishRejected) {
			failed = append(failed, ports.OutboxFailure{ID: m.ID, RetryAt: at.Add(r.retryDelay(m.Attempts + 1)),
				Reason: err.Error()})
			res.Rejected = append(res.Rejected, err)
			continue
		}
		failed = append(failed, ports.OutboxFailure{ID: m.ID, RetryAt: at, Reason: err.Error()})
		downErr = fmt.Errorf("outbox relay: publish: %w", err)
		rest = messageIDs(claim.Messages[i+1:])
		break
	}
	res.Published, res.Failed, res.Released = len(done), len(failed), len(rest)
	return res, errors.Join(downErr, r.settle(ctx, claim.Token, done, failed, rest))
}

// settle records the outcome of a pass. It runs on a context that outlives
// the pass's (bounded by settleTimeout): a shutdown must not leave published
// messages undone.
func (r *Relay) settle(ctx context.Context, token string, done []string, failed []ports.OutboxFailure, rest []string) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), settleTimeout)
	defer cancel()
	var errs []error
	if len(done) > 0 {
		if err := r.store.MarkDone(ctx, done, r.clock.Now()); err != nil {
			errs = append(errs, fmt.Errorf("outbox relay: %d published events stay claimed until the lease ends "+
				"and will be published again: %w", len(done), err))
		}
	}
	if len(failed) > 0 {
		if err := r.store.MarkFailed(ctx, token, failed); err != nil {
			errs = append(errs, fmt.Errorf("outbox relay: %w", err))
		}
	}
	if len(rest) > 0 {
		if err := r.store.Release(ctx, token, rest); err != nil {
			errs = append(errs, fmt.Errorf("outbox relay: %w", err))
		}
	}
	return errors.Join(errs...)
}

// retryDelay is the backoff before attempt n+1 of a refused message:
// retryMin doubling per attempt, at most retryMax.
func (r *Relay) retryDelay(attempts int) time.Duration {
	d := r.retryMin
	for i := 1; i < attempts && d < r.retryMax; i++ {
		d *= 2
	}
	return min(d, r.retryMax)
}

func messageIDs(msgs []ports.ClaimedMessage) []string {
	out := make([]string, len(msgs))
	for i, m := range msgs {
		out[i] = m.ID
	}
	return out
}
