package products

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// DeleteProduct takes a product off the catalog for good.
type DeleteProduct struct {
	catalog ports.Catalog
}

// NewDeleteProduct wires the use case.
func NewDeleteProduct(catalog ports.Catalog) *DeleteProduct {
	return &DeleteProduct{catalog: catalog}
}

// DeleteProductInput is the caller and the product id.
type DeleteProductInput struct {
	Actor user.Actor
	ID    string
}

// Handle deletes the product. Only admins may (ErrNotAllowed, 403, for
// anyone else, its seller included); an unknown product is the catalog's
// product.ErrNotFound (404).
func (uc *DeleteProduct) Handle(ctx context.Context, in DeleteProductInput) error {
	if !in.Actor.IsAdmin() {
		return fmt.Errorf("delete product %s as %q: %w", in.ID, in.Actor.Role, ErrNotAllowed)
	}
	return uc.catalog.Delete(ctx, in.ID, in.Actor)
}
