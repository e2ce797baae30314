package cart

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// SetItem puts a product into the caller's cart, changes its quantity, or
// (quantity 0) takes it out.
type SetItem struct {
	carts   ports.CartRepository
	catalog ports.Catalog
	clock   ports.Clock
	get     *GetCart
}

// NewSetItem wires the use case.
func NewSetItem(carts ports.CartRepository, catalog ports.Catalog, clock ports.Clock) *SetItem {
	return &SetItem{carts: carts, catalog: catalog, clock: clock, get: NewGetCart(carts, catalog)}
}

// SetItemInput is the caller, the product and the wanted quantity.
type SetItemInput struct {
	Actor     user.Actor
	ProductID string
	Quantity  int64
}

// Handle returns the cart after the change, priced by the same single
// catalog lookup that checked the product. Errors:
//   - cart.ErrInvalidQuantity (422, field quantity): outside 0..100;
//   - product.ErrNotFound (404): the catalog does not know the product;
//   - product.ErrInactive (422): the product is inactive;
//   - cart.ErrFull (422, field product_id): a 101st different product.
//
// A quantity over the stock is stored and shown with available=false: the
// order, not the cart, decides about stock. Quantity 0 removes the product
// without asking the catalog, and is no error when the product is not in the
// cart (the same answer as DELETE).
func (uc *SetItem) Handle(ctx context.Context, in SetItemInput) (cart.Cart, error) {
	if err := cart.CheckQuantity(in.Quantity); err != nil {
		return cart.Cart{}, err
	}
	if in.Quantity == 0 {
		if err := uc.carts.Remove(ctx, in.Actor.ID, in.ProductID); err != nil {
			return cart.Cart{}, err
		}
		return uc.get.Handle(ctx, GetCartInput{Actor: in.Actor})
	}

	lines, err := uc.carts.Lines(ctx, in.Actor.ID)
	if err != nil {
		return cart.Cart{}, err
	}
	entries := entriesOf(lines)
	pos := -1
	for i, e := range entries {
		if e.ProductID == in.ProductID {
			pos = i
		}
	}
	ids := idsOf(entries)
	if pos < 0 {
		ids = append(ids, in.ProductID)
	}
	products, err := uc.catalog.Lookup(ctx, ids, in.Actor)
	if err != nil {
		return cart.Cart{}, err
	}
	if err := cart.CheckAddable(in.ProductID, find(products, in.ProductID)); err != nil {
		return cart.Cart{}, err
	}
	if pos < 0 && len(entries) >= cart.MaxLines {
		return cart.Cart{}, cart.ErrFull
	}
	if err := uc.carts.Set(ctx, in.Actor.ID, in.ProductID, in.Quantity, uc.clock.Now()); err != nil {
		return cart.Cart{}, fmt.Errorf("set %s in the cart of user %s: %w", in.ProductID, in.Actor.ID, err)
	}
	if pos < 0 {
		entries = append(entries, cart.Entry{ProductID: in.ProductID, Quantity: in.Quantity})
	} else {
		entries[pos].Quantity = in.Quantity
	}
	return cart.Price(entries, products)
}
