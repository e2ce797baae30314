package orders

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/ports"
)

const (
	// OrphanReservationAge is how old a reservation whose order does not
	// exist must be before the orphan sweep gives its stock back. Placing an
	// order stores it right after reserving, and gives the reservation back
	// within cleanupTimeout when that fails, so ten minutes is far longer
	// than any placement still running: a reservation that old without an
	// order is one whose release failed.
	OrphanReservationAge = 10 * time.Minute
	// DefaultOrphanBatch is how many reservation lines one transaction of
	// the orphan sweep releases.
	DefaultOrphanBatch = 100
)

// OrphanReleaser is a catalog that keeps its reservations next to the
// orders and so can find those of orders that were never stored: the
// built-in catalog (postgres.ProductStore). An upstream catalog owns its
// reservations and is not one.
type OrphanReleaser interface {
	// ReleaseOrphans gives back at most limit lines of reservations made
	// before olderThan whose order does not exist, once each, also with
	// several instances sweeping, and returns how many it released.
	ReleaseOrphans(ctx context.Context, olderThan time.Time, limit int) (released int, err error)
}

// ReleaseOrphanedStock is the safety net of PlaceOrder's compensation: when
// both the order's transaction and every attempt to release its reservation
// failed (one outage), the stock would stay held for an order that does not
// exist. This job needs no memory of those failures: it asks the catalog for
// reservations older than OrphanReservationAge without an order.
type ReleaseOrphanedStock struct {
	catalog OrphanReleaser
	clock   ports.Clock
	batch   int
}

// NewReleaseOrphanedStock wires the job.
func NewReleaseOrphanedStock(catalog OrphanReleaser, clock ports.Clock) *ReleaseOrphanedStock {
	return &ReleaseOrphanedStock{catalog: catalog, clock: clock, batch: DefaultOrphanBatch}
}

// WithBatch sets how many lines one transaction releases (n ≥ 1).
func (uc *ReleaseOrphanedStock) WithBatch(n int) *ReleaseOrphanedStock {
	if n >= 1 {
		uc.batch = n
	}
	return uc
}

// Handle runs one sweep at now and returns how many reservation lines it
// released: batch after batch while a batch comes back full, so a backlog
// drains in one sweep. released counts the committed batches also when err
// is not nil.
func (uc *ReleaseOrphanedStock) Handle(ctx context.Context, now time.Time) (released int, err error) {
	olderThan := now.Add(-OrphanReservationAge)
	for {
		n, err := uc.catalog.ReleaseOrphans(ctx, olderThan, uc.batch)
		released += n
		if err != nil {
			return released, fmt.Errorf("release orphaned stock: %w", err)
		}
		if n < uc.batch || ctx.Err() != nil {
			return released, nil //nolint:nilerr // shutdown stops the sweep between batches: what was released is the result, not a failure
		}
	}
}

// Sweep is one pass of the job (jobs.Run calls it every
// EXPIRY_SWEEP_INTERVAL): Handle at the clock's now.
func (uc *ReleaseOrphanedStock) Sweep(ctx context.Context) (released int, err error) {
	return uc.Handle(ctx, uc.clock.Now())
}
