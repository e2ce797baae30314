package products

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// GetProduct shows one product.
type GetProduct struct {
	catalog ports.Catalog
}

// NewGetProduct wires the use case.
func NewGetProduct(catalog ports.Catalog) *GetProduct {
	return &GetProduct{catalog: catalog}
}

// GetProductInput is the caller (user.Actor{} when anonymous) and the product id.
type GetProductInput struct {
	Actor user.Actor
	ID    string
}

// Handle returns the product. An inactive product is visible only to its
// seller and admins; to anyone else it is product.ErrNotFound (404), as if
// it did not exist.
func (uc *GetProduct) Handle(ctx context.Context, in GetProductInput) (*product.Product, error) {
	p, err := uc.catalog.Get(ctx, in.ID, in.Actor)
	if err != nil {
		return nil, err
	}
	if !p.VisibleTo(in.Actor.ID, in.Actor.IsAdmin()) {
		return nil, fmt.Errorf("product %s is inactive: %w", in.ID, product.ErrNotFound)
	}
	return p, nil
}
