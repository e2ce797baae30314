package products

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// CreateProduct puts a new product up for sale.
type CreateProduct struct {
	catalog ports.Catalog
}

// NewCreateProduct wires the use case.
func NewCreateProduct(catalog ports.Catalog) *CreateProduct {
	return &CreateProduct{catalog: catalog}
}

// CreateProductInput is the caller and the product. Draft.Active is taken
// as given: the edge applies the contract's default (true) when the body
// leaves it out. Draft.SellerID "" means "the caller".
type CreateProductInput struct {
	Actor user.Actor
	Draft product.Draft
}

// Handle creates the product. Errors: ErrNotAllowed (403) for a caller who
// is neither a seller nor an admin, or a seller naming another seller; a
// *domain.ValidationError (422) for a bad draft; the catalog's errors.
//
// A seller's product always belongs to the seller; an admin may create a
// product for any seller and owns it when naming none.
func (uc *CreateProduct) Handle(ctx context.Context, in CreateProductInput) (*product.Product, error) {
	if !canSell(in.Actor) {
		return nil, fmt.Errorf("create product as %q: %w", in.Actor.Role, ErrNotAllowed)
	}
	d := in.Draft
	switch {
	case d.SellerID == "":
		d.SellerID = in.Actor.ID
	case d.SellerID != in.Actor.ID && !in.Actor.IsAdmin():
		return nil, fmt.Errorf("seller %s creating a product of seller %s: %w", in.Actor.ID, d.SellerID, ErrNotAllowed)
	}
	if err := validateDraft(d); err != nil {
		return nil, err
	}
	return uc.catalog.Create(ctx, d, in.Actor)
}
