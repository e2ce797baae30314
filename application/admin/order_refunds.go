package admin

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// OrderRefunds is the refund audit of one order, which only admins see.
type OrderRefunds struct {
	refunds ports.RefundRepository
}

// NewOrderRefunds wires the use case.
func NewOrderRefunds(refunds ports.RefundRepository) *OrderRefunds {
	return &OrderRefunds{refunds: refunds}
}

// Handle returns the order's refunds, oldest first, and user.ErrNotAllowed
// (403) unless the caller is an admin. The caller has already shown the
// order to the actor (GetOrder).
func (uc *OrderRefunds) Handle(ctx context.Context, actor user.Actor, orderID string) ([]*payment.Refund, error) {
	if !actor.IsAdmin() {
		return nil, fmt.Errorf("refunds of order %s as %q: %w", orderID, actor.Role, user.ErrNotAllowed)
	}
	refunds, err := uc.refunds.ListByOrder(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("refunds of order %s: %w", orderID, err)
	}
	return refunds, nil
}
