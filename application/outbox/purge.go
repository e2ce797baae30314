package outbox

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/ports"
)

// Defaults of PurgeDone.
const (
	// DefaultRetention is how long done rows are kept: as long as the stream
	// keeps the events, so "was it published, when, after how many tries"
	// can be answered for any event a consumer can still read.
	DefaultRetention = 7 * 24 * time.Hour
	// DefaultPurgeBatch is how many rows one DELETE removes, so a big
	// purge never holds many row locks or bloats one transaction.
	DefaultPurgeBatch = 1000
)

// PurgeDone deletes the outbox rows done longer ago than the retention, in
// batches. Safe with several instances: each DELETE removes what it finds.
type PurgeDone struct {
	store     ports.Outbox
	clock     ports.Clock
	retention time.Duration
	batch     int
}

// NewPurgeDone returns the purge with retention (DefaultRetention when not
// positive).
func NewPurgeDone(store ports.Outbox, clock ports.Clock, retention time.Duration) *PurgeDone {
	if retention <= 0 {
		retention = DefaultRetention
	}
	return &PurgeDone{store: store, clock: clock, retention: retention, batch: DefaultPurgeBatch}
}

// WithBatch sets how many rows one DELETE removes (n ≥ 1).
func (p *PurgeDone) WithBatch(n int) *PurgeDone {
	if n >= 1 {
		p.batch = n
	}
	return p
}

// Handle deletes batch after batch until one comes back short, and returns
// how many rows it deleted (also when err is not nil).
func (p *PurgeDone) Handle(ctx context.Context) (int, error) {
	before := p.clock.Now().Add(-p.retention)
	total := 0
	for {
		n, err := p.store.PurgeDone(ctx, before, p.batch)
		total += n
		if err != nil {
			return total, fmt.Errorf("outbox purge: %w", err)
		}
		if n < p.batch {
			return total, nil
		}
	}
}
