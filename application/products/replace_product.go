package products

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ReplaceProduct overwrites a product's editable fields.
type ReplaceProduct struct {
	catalog ports.Catalog
}

// NewReplaceProduct wires the use case.
func NewReplaceProduct(catalog ports.Catalog) *ReplaceProduct {
	return &ReplaceProduct{catalog: catalog}
}

// ReplaceProductInput is the caller, the product id and its new fields.
// Draft.SellerID "" means "unchanged".
type ReplaceProductInput struct {
	Actor user.Actor
	ID    string
	Draft product.Draft
}

// errSellerFixed is the answer to a seller_id other than the product's.
var errSellerFixed error = domain.Invalid("seller_id", domain.MsgCannotChange)

// Handle replaces the product for its seller or an admin. Errors, in the
// order they are checked:
//   - ErrNotAllowed (403): the caller is neither a seller nor an admin, or
//     is a seller sending another seller's id (the same rule as on create);
//   - product.ErrNotFound (404): no such product, or an inactive one the
//     caller may not see (another seller's);
//   - ErrNotAllowed (403): a seller editing another seller's product;
//   - a *domain.ValidationError (422): seller_id differs from the product's
//     (it cannot change), or the draft is invalid.
func (uc *ReplaceProduct) Handle(ctx context.Context, in ReplaceProductInput) (*product.Product, error) {
	c := in.Actor
	if !canSell(c) {
		return nil, fmt.Errorf("replace product %s as %q: %w", in.ID, c.Role, ErrNotAllowed)
	}
	d := in.Draft
	if d.SellerID != "" && d.SellerID != c.ID && !c.IsAdmin() {
		return nil, fmt.Errorf("seller %s naming seller %s: %w", c.ID, d.SellerID, ErrNotAllowed)
	}
	current, err := uc.catalog.Get(ctx, in.ID, c)
	if err != nil {
		return nil, err
	}
	if !current.VisibleTo(c.ID, c.IsAdmin()) {
		return nil, fmt.Errorf("product %s is inactive: %w", in.ID, product.ErrNotFound)
	}
	if !c.IsAdmin() && current.SellerID() != c.ID {
		return nil, fmt.Errorf("seller %s editing product %s of seller %s: %w", c.ID, in.ID, current.SellerID(), ErrNotAllowed)
	}
	if d.SellerID != "" && d.SellerID != current.SellerID() {
		return nil, errSellerFixed
	}
	d.SellerID = current.SellerID()
	if err := validateDraft(d); err != nil {
		return nil, err
	}
	return uc.catalog.Replace(ctx, in.ID, d, c)
}
