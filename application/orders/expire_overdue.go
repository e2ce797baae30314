package orders

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// DefaultExpiryBatch is how many overdue orders one transaction of the
// expiry job locks.
const DefaultExpiryBatch = 100

// ExpireOverdueOrders cancels orders left unpaid for longer than the payment
// TTL, unless a live Payme transaction holds them, and gives their stock
// back. Several gateway instances may run it at once: each batch is locked
// with SKIP LOCKED, so no order is handled twice.
type ExpireOverdueOrders struct {
	tx      ports.TxManager
	orders  ports.OrderRepository
	payme   ports.PaymeRepository
	clicks  ports.ClickRepository
	catalog ports.Catalog
	clock   ports.Clock
	ttl     time.Duration
	batch   int
	events  ports.OrderEvents // nil: events off
}

// NewExpireOverdueOrders wires the job; ttl is ORDER_PAYMENT_TTL.
func NewExpireOverdueOrders(tx ports.TxManager, orders ports.OrderRepository, payme ports.PaymeRepository,
	clicks ports.ClickRepository, catalog ports.Catalog, clock ports.Clock, ttl time.Duration) *ExpireOverdueOrders {
	return &ExpireOverdueOrders{tx: tx, orders: orders, payme: payme, clicks: clicks, catalog: catalog,
		clock: clock, ttl: ttl, batch: DefaultExpiryBatch}
}

// WithBatch sets how many orders one transaction handles (n ≥ 1).
func (uc *ExpireOverdueOrders) WithBatch(n int) *ExpireOverdueOrders {
	if n >= 1 {
		uc.batch = n
	}
	return uc
}

// WithEvents records the cancelled event of every expired order in its
// batch's transaction.
func (uc *ExpireOverdueOrders) WithEvents(events ports.OrderEvents) *ExpireOverdueOrders {
	uc.events = events
	return uc
}

// ExpireInput is the moment the sweep runs at.
type ExpireInput struct {
	Now time.Time
}

// expiryActor is who the job releases stock as: no user.
var expiryActor = user.Actor{}

// Handle runs one sweep and returns how many orders it cancelled. It works in
// batches, one transaction each: lock up to a batch of pending orders created
// before Now-ttl (SKIP LOCKED), skip those with a Payme transaction live at
// Now (the buyer may still be paying), cancel
// the rest with their prepared Click attempts, commit, then release their
// reservations. Each batch starts after the last order of the one before,
// and the sweep goes on while batches come back full: a backlog drains in
// one sweep, and a batch of orders Payme holds does not keep the younger
// overdue orders behind it (and their stock) waiting.
//
// cancelled counts committed cancellations also when err is not nil: a
// failed release leaves its order cancelled and is reported in err (joined,
// one per order) while the others are still released.
func (uc *ExpireOverdueOrders) Handle(ctx context.Context, in ExpireInput) (cancelled int, err error) {
	cutoff := in.Now.Add(-uc.ttl)
	var releaseErrs []error
	var after ports.OverdueCursor
	for {
		var done []*order.Order
		var locked int
		next := after
		err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
			done, locked, next = nil, 0, after // the transaction may be retried
			overdue, err := uc.orders.LockOverdue(ctx, cutoff, after, uc.batch)
			if err != nil {
				return err
			}
			locked = len(overdue)
			if locked > 0 {
				last := overdue[locked-1]
				next = ports.OverdueCursor{CreatedAt: last.CreatedAt(), ID: last.ID()}
			}
			for _, o := range overdue {
				if !o.IsOverdue(in.Now, uc.ttl) {
					continue
				}
				live, err := uc.payme.HasLive(ctx, o.ID(), in.Now)
				if err != nil {
					return fmt.Errorf("check live payme transaction of order %s: %w", o.ID(), err)
				}
				if live {
					continue // Payme's own timeout will cancel it, then so will we
				}
				if err := o.Cancel(in.Now); err != nil {
					return fmt.Errorf("expire order %s: %w", o.ID(), err)
				}
				if err := uc.orders.Update(ctx, o); err != nil {
					return err
				}
				if err := recordEvent(ctx, uc.events, o); err != nil {
					return err
				}
				if err := holds.EndClickAttempts(ctx, uc.clicks, o.ID(), in.Now); err != nil {
					return err
				}
				done = append(done, o)
			}
			return nil
		})
		if err != nil {
			return cancelled, errors.Join(append(releaseErrs, fmt.Errorf("expire overdue orders: %w", err))...)
		}
		cancelled += len(done)
		for _, o := range done {
			if err := uc.release(ctx, o.ID()); err != nil {
				releaseErrs = append(releaseErrs, err)
			}
		}
		if locked < uc.batch {
			return cancelled, errors.Join(releaseErrs...)
		}
		after = next
	}
}

func (uc *ExpireOverdueOrders) release(ctx context.Context, orderID string) error {
	if err := holds.ReleaseStock(ctx, uc.catalog, orderID, expiryActor); err != nil {
		return fmt.Errorf("order %s expired but its stock was not released: %w", orderID, err)
	}
	return nil
}

// Sweep is one pass of the expiry job (jobs.Run calls it every
// EXPIRY_SWEEP_INTERVAL): Handle at the clock's now.
func (uc *ExpireOverdueOrders) Sweep(ctx context.Context) (cancelled int, err error) {
	return uc.Handle(ctx, ExpireInput{Now: uc.clock.Now()})
}
