// Package cart holds the cart use cases. A cart is stored as product ids and
// quantities only; every answer prices it from the catalog with one lookup,
// so a customer always sees today's prices and what can be bought now.
package cart

import (
	"context"

	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// entriesOf turns stored lines into the domain's entries, keeping their order.
func entriesOf(lines []ports.CartLine) []cart.Entry {
	out := make([]cart.Entry, 0, len(lines))
	for _, l := range lines {
		out = append(out, cart.Entry{ProductID: l.ProductID, Quantity: l.Quantity})
	}
	return out
}

// lookup prices entries with one catalog call; an empty cart needs none, so
// it can be shown even while the catalog is down.
func lookup(ctx context.Context, catalog ports.Catalog, ids []string, c user.Actor) ([]*product.Product, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	return catalog.Lookup(ctx, ids, c)
}

func idsOf(entries []cart.Entry) []string {
	out := make([]string, 0, len(entries))
	for _, e := range entries {
		out = append(out, e.ProductID)
	}
	return out
}

func find(products []*product.Product, id string) *product.Product {
	for _, p := range products {
		if p != nil && p.ID() == id {
			return p
		}
	}
	return nil
}
