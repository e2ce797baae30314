package cart

import (
	"context"

	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// RemoveItem takes a product out of the caller's cart.
type RemoveItem struct {
	carts ports.CartRepository
	get   *GetCart
}

// NewRemoveItem wires the use case.
func NewRemoveItem(carts ports.CartRepository, catalog ports.Catalog) *RemoveItem {
	return &RemoveItem{carts: carts, get: NewGetCart(carts, catalog)}
}

// RemoveItemInput is the caller and the product to take out.
type RemoveItemInput struct {
	Actor     user.Actor
	ProductID string
}

// Handle returns the cart after the removal; a product that is not in the
// cart leaves it unchanged and is no error.
func (uc *RemoveItem) Handle(ctx context.Context, in RemoveItemInput) (cart.Cart, error) {
	if err := uc.carts.Remove(ctx, in.Actor.ID, in.ProductID); err != nil {
		return cart.Cart{}, err
	}
	return uc.get.Handle(ctx, GetCartInput{Actor: in.Actor})
}
