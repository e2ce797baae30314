// Package products holds the product use cases. Products live in the catalog
// (ports.Catalog: the upstream microservice or the built-in Postgres store);
// what a caller may see or change is decided here, so both catalogs behave
// alike.
package products

import (
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
)

// ErrNotAllowed: the caller's role may not do this to this product (403 forbidden).
var ErrNotAllowed = fmt.Errorf("products: not allowed: %w", domain.ErrForbidden)

// maxQueryChars bounds the free-text search of the product list.
const maxQueryChars = 200

// canSell reports whether the caller may create products at all.
func canSell(c user.Actor) bool {
	return c.SignedIn() && (c.Role == user.RoleSeller || c.Role.IsAdmin())
}

// validateDraft runs the product rules before the draft crosses to the
// catalog, so the upstream and the built-in catalog answer the same 422.
func validateDraft(d product.Draft) error {
	_, err := product.New("", d, time.Time{})
	return err
}
