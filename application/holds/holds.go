// Package holds lets go of what an order holds while it waits for payment
// or shipment: its stock reservation in the catalog, and the Click attempts
// prepared to pay it. Several use cases end those holds — a refund (Payme
// cancel, Click cancel), an order cancelled by its buyer or an admin, the
// expiry of an unpaid order, the order paid by one payment while others
// were prepared — and all of them must do it the same way, so the rules
// live here once.
package holds

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// EndClickAttempts abandons the order's Click attempts that are still
// prepared, because the order no longer waits for them: it was cancelled or
// expired (a later Complete is answered -9), or another payment paid it (-4).
// Their cancel_reason stays null: Click sent no error, we ended them.
//
// It runs inside the transaction that changes the order, after the order
// row is locked, so no Complete of those attempts can slip in between.
func EndClickAttempts(ctx context.Context, clicks ports.ClickRepository, orderID string, now time.Time) error {
	attempts, err := clicks.ListByOrderForUpdate(ctx, orderID)
	if err != nil {
		return fmt.Errorf("lock click attempts of order %s: %w", orderID, err)
	}
	for _, t := range attempts {
		if !t.Abandon(now) {
			continue // confirmed or ended already
		}
		if err := clicks.Update(ctx, t); err != nil {
			return fmt.Errorf("end click attempt %s of order %s: %w", t.ID(), orderID, err)
		}
	}
	return nil
}

// ReleaseTimeout bounds one release of an order's stock. A catalog that
// hangs must not hold a webhook's answer, a buyer's request or the expiry
// sweep for longer than this.
const ReleaseTimeout = 10 * time.Second

// ReleaseStock gives orderID's reserved stock back to the catalog. Callers
// run it after the change that ends the hold has committed, never inside
// the transaction (the catalog may be a remote call).
//
// It runs on a context detached from ctx's cancellation but keeping its
// values (request id, logger): the change is committed, so the caller
// hanging up — Payme or Click giving up on a webhook, a browser closing the
// connection, the service shutting the sweep down — must not leave the stock
// held. It is bounded by ReleaseTimeout. A failure is returned, naming the
// order; Release is idempotent, so it may be tried again later.
func ReleaseStock(ctx context.Context, catalog ports.Catalog, orderID string, actor user.Actor) error {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), ReleaseTimeout)
	defer cancel()
	if err := catalog.Release(ctx, orderID, actor); err != nil {
		return fmt.Errorf("release stock of order %s: %w", orderID, err)
	}
	return nil
}
