package orders

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ChangeOrderStatus is the admin's fulfilment step: paid → shipped → delivered.
type ChangeOrderStatus struct {
	tx     ports.TxManager
	orders ports.OrderRepository
	clock  ports.Clock
	events ports.OrderEvents // nil: events off
}

// NewChangeOrderStatus wires the use case.
func NewChangeOrderStatus(tx ports.TxManager, orders ports.OrderRepository, clock ports.Clock) *ChangeOrderStatus {
	return &ChangeOrderStatus{tx: tx, orders: orders, clock: clock}
}

// WithEvents records the shipped and delivered events in the change's
// transaction.
func (uc *ChangeOrderStatus) WithEvents(events ports.OrderEvents) *ChangeOrderStatus {
	uc.events = events
	return uc
}

// ChangeOrderStatusInput is the caller, the order id and the raw target status.
type ChangeOrderStatusInput struct {
	Actor  user.Actor
	ID     string
	Status string
}

// Handle returns the updated order. Errors, in the order they are checked:
// ErrNotAllowed (403) unless the caller is an admin; order.ErrInvalidStatus
// (422, field status) for an unknown status; order.ErrNotFound (404);
// order.ErrIllegalTransition (409 conflict) for any move but paid → shipped
// and shipped → delivered.
func (uc *ChangeOrderStatus) Handle(ctx context.Context, in ChangeOrderStatusInput) (*order.Order, error) {
	if !in.Actor.IsAdmin() {
		return nil, fmt.Errorf("change status of order %s as %q: %w", in.ID, in.Actor.Role, ErrNotAllowed)
	}
	target, err := order.ParseStatus(in.Status)
	if err != nil {
		return nil, err
	}
	var out *order.Order
	err = uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		o, err := uc.orders.GetForUpdate(ctx, in.ID)
		if err != nil {
			return err
		}
		if err := o.AdvanceTo(target, uc.clock.Now()); err != nil {
			return fmt.Errorf("move order %s from %s to %s: %w", o.ID(), o.Status(), target, err)
		}
		if err := uc.orders.Update(ctx, o); err != nil {
			return err
		}
		if err := recordEvent(ctx, uc.events, o); err != nil {
			return err
		}
		out = o
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}
