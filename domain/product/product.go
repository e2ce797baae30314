// Package product holds the built-in catalog's product and the shape every
// catalog (built-in or remote) returns: price, stock that can be bought now,
// and who may see an inactive product.
package product

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
)

var (
	ErrNotFound = fmt.Errorf("product: %w", domain.ErrNotFound)
	// ErrInactive: an inactive product cannot be ordered or put in a cart (422).
	ErrInactive = fmt.Errorf("product: inactive: %w", domain.ErrValidation)
	// ErrInsufficientStock is matched by every *InsufficientStockError.
	ErrInsufficientStock = fmt.Errorf("product: insufficient stock: %w", domain.ErrConflict)
)

// InsufficientStockError names the product that ran out, so a client can be
// told which line of its order to fix.
type InsufficientStockError struct {
	ProductID string
}

func (e *InsufficientStockError) Error() string {
	return fmt.Sprintf("product %s: insufficient stock", e.ProductID)
}

// Is lets callers test for the sentinel or the category without errors.As.
func (e *InsufficientStockError) Is(target error) bool {
	return target == ErrInsufficientStock || target == domain.ErrConflict
}

const (
	MaxNameChars        = 200
	MaxDescriptionChars = 5000
	MaxCategoryChars    = 100
	MaxPriceTiyin       = 1_000_000_000_000
	MaxStock            = 1_000_000
)

// Draft is the client's input for creating or replacing a product.
type Draft struct {
	Name, Description, Category, SellerID string
	Price                                 int64 // tiyin
	Stock                                 int64
	Active                                bool
	Fiscal                                fiscal.IdentityDraft
}

// Product is one item for sale. stock is what can be bought now: open
// orders' reservations are already subtracted.
type Product struct {
	id, name, description, category, sellerID string
	price                                     money.Money
	stock                                     int64
	active                                    bool
	fiscal                                    fiscal.Identity
	createdAt, updatedAt                      time.Time
}

type cleanDraft struct {
	name, description, category string
	price                       money.Money
	fiscal                      fiscal.Identity
}

func validate(d Draft) (cleanDraft, error) {
	c := cleanDraft{
		name:        strings.TrimSpace(d.Name),
		description: strings.TrimSpace(d.Description),
		category:    strings.TrimSpace(d.Category),
	}
	verr := &domain.ValidationError{}
	if n := utf8.RuneCountInString(c.name); n < 1 || n > MaxNameChars {
		verr.Add("name", domain.MsgCharsRange, domain.Args{"Count": MaxNameChars})
	}
	if utf8.RuneCountInString(c.description) > MaxDescriptionChars {
		verr.Add("description", domain.MsgMaxChars, domain.Args{"Count": MaxDescriptionChars})
	}
	if n := utf8.RuneCountInString(c.category); n < 1 || n > MaxCategoryChars {
		verr.Add("category", domain.MsgCharsRange, domain.Args{"Count": MaxCategoryChars})
	}
	if d.Price < 1 || d.Price > MaxPriceTiyin {
		verr.Add("price", domain.MsgTiyinRange, domain.Args{"Count": int64(MaxPriceTiyin)})
	} else {
		c.price = money.MustTiyin(d.Price)
	}
	if d.Stock < 0 || d.Stock > MaxStock {
		verr.Add("stock", domain.MsgRange, domain.Args{"Min": 0, "Max": MaxStock})
	}
	id, err := fiscal.NewIdentity(d.Fiscal)
	if err := verr.Merge(err); err != nil {
		return c, err
	}
	c.fiscal = id
	return c, verr.OrNil()
}

// New creates a product from a validated draft.
func New(id string, d Draft, now time.Time) (*Product, error) {
	c, err := validate(d)
	if err != nil {
		return nil, err
	}
	return &Product{
		id: id, name: c.name, description: c.description, category: c.category, sellerID: d.SellerID,
		price: c.price, stock: d.Stock, active: d.Active, fiscal: c.fiscal, createdAt: now, updatedAt: now,
	}, nil
}

// Replace overwrites the editable fields. The seller never changes, so a
// product cannot be handed to another seller through an update.
func (p *Product) Replace(d Draft, now time.Time) error {
	c, err := validate(d)
	if err != nil {
		return err
	}
	p.name, p.description, p.category = c.name, c.description, c.category
	p.price, p.stock, p.active, p.fiscal = c.price, d.Stock, d.Active, c.fiscal
	p.updatedAt = now
	return nil
}

// Restore rebuilds a stored or remotely fetched product; adapters only.
func Restore(id, name, description, category, sellerID string, price money.Money, stock int64, active bool, createdAt, updatedAt time.Time) *Product {
	return &Product{
		id: id, name: name, description: description, category: category, sellerID: sellerID,
		price: price, stock: stock, active: active, createdAt: createdAt, updatedAt: updatedAt,
	}
}

// WithFiscal sets the fiscal identity of a restored product and returns it;
// adapters only (the identity was validated by fiscal.NewIdentity).
func (p *Product) WithFiscal(id fiscal.Identity) *Product {
	p.fiscal = id
	return p
}

func (p *Product) ID() string           { return p.id }
func (p *Product) Name() string         { return p.name }
func (p *Product) Description() string  { return p.description }
func (p *Product) Category() string     { return p.category }
func (p *Product) SellerID() string     { return p.sellerID }
func (p *Product) Price() money.Money   { return p.price }
func (p *Product) Stock() int64         { return p.stock }
func (p *Product) Active() bool         { return p.active }
func (p *Product) CreatedAt() time.Time { return p.createdAt }

// Fiscal is the product's fiscal identity (IKPU, package and unit codes,
// VAT rate); the zero Identity when it never got codes.
func (p *Product) Fiscal() fiscal.Identity { return p.fiscal }
func (p *Product) UpdatedAt() time.Time    { return p.updatedAt }

// VisibleTo hides an inactive product from everyone but its seller and
// admins, who still need to find it to edit or reactivate it.
func (p *Product) VisibleTo(userID string, isAdmin bool) bool {
	return p.active || isAdmin || (userID != "" && userID == p.sellerID)
}
