package orders

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// GetOrder shows one order to its owner or an admin.
type GetOrder struct {
	orders ports.OrderRepository
}

// NewGetOrder wires the use case.
func NewGetOrder(orders ports.OrderRepository) *GetOrder {
	return &GetOrder{orders: orders}
}

// GetOrderInput is the caller and the order id.
type GetOrderInput struct {
	Actor user.Actor
	ID    string
}

// Handle returns order.ErrNotFound (404) for an unknown order and for one
// that is neither the caller's nor visible to them as an admin.
func (uc *GetOrder) Handle(ctx context.Context, in GetOrderInput) (*order.Order, error) {
	o, err := uc.orders.Get(ctx, in.ID)
	if err != nil {
		return nil, err
	}
	if !o.VisibleTo(in.Actor) {
		return nil, fmt.Errorf("order %s asked for by user %s: %w", in.ID, in.Actor.ID, order.ErrNotFound)
	}
	return o, nil
}
