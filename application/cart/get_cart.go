package cart

import (
	"context"

	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// GetCart shows the caller's cart, priced now.
type GetCart struct {
	carts   ports.CartRepository
	catalog ports.Catalog
}

// NewGetCart wires the use case.
func NewGetCart(carts ports.CartRepository, catalog ports.Catalog) *GetCart {
	return &GetCart{carts: carts, catalog: catalog}
}

// GetCartInput is the signed-in caller; the cart is Actor.ID's.
type GetCartInput struct {
	Actor user.Actor
}

// Handle returns the priced cart (see cart.Price: the total counts the
// available lines only, and a line whose product vanished shows an empty
// name, a zero price and available=false). The currency is money.Currency.
func (uc *GetCart) Handle(ctx context.Context, in GetCartInput) (cart.Cart, error) {
	lines, err := uc.carts.Lines(ctx, in.Actor.ID)
	if err != nil {
		return cart.Cart{}, err
	}
	entries := entriesOf(lines)
	products, err := lookup(ctx, uc.catalog, idsOf(entries), in.Actor)
	if err != nil {
		return cart.Cart{}, err
	}
	return cart.Price(entries, products)
}
