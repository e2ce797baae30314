package cart

import (
	"context"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Clear empties the caller's cart.
type Clear struct {
	carts ports.CartRepository
}

// NewClear wires the use case.
func NewClear(carts ports.CartRepository) *Clear {
	return &Clear{carts: carts}
}

// ClearInput is the caller whose cart is emptied.
type ClearInput struct {
	Actor user.Actor
}

// Handle empties the cart; an empty cart stays empty.
func (uc *Clear) Handle(ctx context.Context, in ClearInput) error {
	return uc.carts.Clear(ctx, in.Actor.ID)
}
