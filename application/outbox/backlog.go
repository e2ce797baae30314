package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/ports"
)

// BacklogStat is the outbox work of one kind not done yet.
type BacklogStat struct {
	Kind    ports.OutboxKind
	Pending int64
	// OldestAge is how long the oldest pending message has waited (0 when
	// none does). While the broker is up it stays under a second or so; a
	// growing age means the relay is stuck (broker down, a refused message).
	OldestAge time.Duration
}

// Backlog reports the pending outbox work per kind, for the metrics adapter
// to poll (a gauge each of count and age, labelled by kind). Every kind is
// listed, an empty one with zeros, so the gauges fall back to zero.
type Backlog struct {
	store ports.Outbox
	clock ports.Clock
}

// NewBacklog returns the backlog report.
func NewBacklog(store ports.Outbox, clock ports.Clock) *Backlog {
	return &Backlog{store: store, clock: clock}
}

// Handle reads the backlog.
func (b *Backlog) Handle(ctx context.Context) ([]BacklogStat, error) {
	rows, err := b.store.Backlog(ctx)
	if err != nil {
		return nil, fmt.Errorf("outbox backlog: %w", err)
	}
	now := b.clock.Now()
	out := make([]BacklogStat, 0, len(rows))
	for _, r := range rows {
		s := BacklogStat{Kind: r.Kind, Pending: r.Pending}
		if r.Pending > 0 && !r.OldestCreatedAt.IsZero() {
			s.OldestAge = max(now.Sub(r.OldestCreatedAt), 0) // another instance's clock may run ahead
		}
		out = append(out, s)
	}
	return out, nil
}
