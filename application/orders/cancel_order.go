package orders

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// CancelOrder cancels an unpaid order for its owner or an admin.
type CancelOrder struct {
	tx      ports.TxManager
	orders  ports.OrderRepository
	clicks  ports.ClickRepository
	catalog ports.Catalog
	clock   ports.Clock
	events  ports.OrderEvents // nil: events off
}

// NewCancelOrder wires the use case.
func NewCancelOrder(tx ports.TxManager, orders ports.OrderRepository, clicks ports.ClickRepository, catalog ports.Catalog, clock ports.Clock) *CancelOrder {
	return &CancelOrder{tx: tx, orders: orders, clicks: clicks, catalog: catalog, clock: clock}
}

// WithEvents records the cancelled event in the cancel's transaction.
func (uc *CancelOrder) WithEvents(events ports.OrderEvents) *CancelOrder {
	uc.events = events
	return uc
}

// CancelOrderInput is the caller and the order id.
type CancelOrderInput struct {
	Actor user.Actor
	ID    string
}

// Handle returns the cancelled order. Errors: order.ErrNotFound (404) for an
// unknown order or one that is neither the caller's nor an admin's to see;
// order.ErrIllegalTransition (409 conflict) once the order has left
// pending_payment (paid, or cancelled already).
//
// One transaction locks the order, cancels it and cancels its prepared Click
// attempts (a later Click Complete for them is refused). The reservation is
// released after the commit; if that release fails the order stays cancelled
// and the error, naming the order, is returned for the edge to log.
func (uc *CancelOrder) Handle(ctx context.Context, in CancelOrderInput) (*order.Order, error) {
	var out *order.Order
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		o, err := uc.orders.GetForUpdate(ctx, in.ID)
		if err != nil {
			return err
		}
		if !o.VisibleTo(in.Actor) {
			return fmt.Errorf("order %s cancelled by user %s: %w", in.ID, in.Actor.ID, order.ErrNotFound)
		}
		now := uc.clock.Now()
		if err := o.Cancel(now); err != nil {
			return fmt.Errorf("cancel order %s in status %s: %w", o.ID(), o.Status(), err)
		}
		if err := uc.orders.Update(ctx, o); err != nil {
			return err
		}
		if err := recordEvent(ctx, uc.events, o); err != nil {
			return err
		}
		if err := holds.EndClickAttempts(ctx, uc.clicks, o.ID(), now); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	// Committed: release even if the client has gone.
	if err := holds.ReleaseStock(ctx, uc.catalog, out.ID(), in.Actor); err != nil {
		return nil, fmt.Errorf("order %s was cancelled but its stock was not released: %w", out.ID(), err)
	}
	return out, nil
}
