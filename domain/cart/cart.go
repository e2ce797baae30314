// Package cart holds the rules of a user's cart: how much of a product a line
// may hold, when a line can be bought, and how a cart is priced from the
// catalog. A cart stores no prices: it is priced whenever it is read, so it
// always shows what an order placed now would cost.
package cart

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
)

const (
	// MaxQuantity is the most of one product a line holds; an order takes no
	// more either, so every cart line can become an order line.
	MaxQuantity = order.MaxQuantity
	// MaxLines bounds the distinct products of a cart to what one order may
	// hold, so a full cart can still be ordered in one go.
	MaxLines = order.MaxItems
)

var (
	// ErrInvalidQuantity: a requested quantity outside 0..MaxQuantity (0 removes the line).
	ErrInvalidQuantity error = domain.Invalid("quantity", domain.MsgCartQuantity, domain.Args{"Max": MaxQuantity})
	// ErrFull: adding one more distinct product to a cart of MaxLines.
	ErrFull error = domain.Invalid("product_id", domain.MsgCartFull, domain.Args{"Count": MaxLines})
)

// CheckQuantity accepts a requested quantity: 1..MaxQuantity sets the line,
// 0 removes it.
func CheckQuantity(q int64) error {
	if q < 0 || q > MaxQuantity {
		return ErrInvalidQuantity
	}
	return nil
}

// CheckAddable says whether p may be put into a cart: it must exist
// (p != nil; productID names it in the error) and be active. Stock is not
// checked: a line over the stock is kept and shown unavailable, because the
// order, not the cart, is where stock is decided.
func CheckAddable(productID string, p *product.Product) error {
	if p == nil {
		return fmt.Errorf("product %s: %w", productID, product.ErrNotFound)
	}
	if !p.Active() {
		return fmt.Errorf("product %s: %w", productID, product.ErrInactive)
	}
	return nil
}

// Available is the availability rule: the product exists, is active and
// has at least quantity in stock.
func Available(p *product.Product, quantity int64) bool {
	return p != nil && p.Active() && p.Stock() >= quantity
}

// Entry is one stored line: a product and how many.
type Entry struct {
	ProductID string
	Quantity  int64
}

// Line is one priced line of a cart.
type Line struct {
	ProductID string
	// Name and UnitPrice are "" and 0 when the product no longer exists.
	Name      string
	UnitPrice money.Money
	Quantity  int64
	LineTotal money.Money
	Available bool
}

// Cart is a priced cart. Total sums the available lines only: it is what an
// order of the cart could cost now, and lines that cannot be bought would be
// refused by that order anyway.
type Cart struct {
	Lines []Line
	Total money.Money
}

// Price prices entries (kept in their order) with products, the result of
// one catalog lookup of their ids; a product missing from products has
// vanished from the catalog and its line is unavailable. It fails only when
// the sums overflow, which catalog prices within product limits cannot cause.
func Price(entries []Entry, products []*product.Product) (Cart, error) {
	byID := make(map[string]*product.Product, len(products))
	for _, p := range products {
		if p != nil {
			byID[p.ID()] = p
		}
	}
	c := Cart{Lines: make([]Line, 0, len(entries))}
	for _, e := range entries {
		l := Line{ProductID: e.ProductID, Quantity: e.Quantity}
		if p := byID[e.ProductID]; p != nil {
			total, err := p.Price().Times(e.Quantity)
			if err != nil {
				return Cart{}, fmt.Errorf("cart line %s: %w", e.ProductID, err)
			}
			l.Name, l.UnitPrice, l.LineTotal = p.Name(), p.Price(), total
			l.Available = Available(p, e.Quantity)
		}
		if l.Available {
			sum, err := c.Total.Add(l.LineTotal)
			if err != nil {
				return Cart{}, fmt.Errorf("cart total: %w", err)
			}
			c.Total = sum
		}
		c.Lines = append(c.Lines, l)
	}
	return c, nil
}
