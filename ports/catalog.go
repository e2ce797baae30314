package ports

//go:generate go run github.com/golang/mock/mockgen -source=catalog.go -destination=mocks/catalog.go -package=mocks

import (
	"context"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
)

// ProductQuery narrows a product list. Inactive products are left out unless
// the use case, which knows the caller, says whose may show: IncludeInactive
// for admins, InactiveOfSeller for a seller's own.
type ProductQuery struct {
	Q                string
	Category         string
	SellerID         string
	Page             int
	PageSize         int
	IncludeInactive  bool
	InactiveOfSeller string
}

// ProductPage is one page of a product list.
type ProductPage struct {
	Items []*product.Product
	Total int
}

// ReservationItem is a quantity of one product held for an order.
type ReservationItem struct {
	ProductID string
	Quantity  int64
}

// Catalog is the product catalog: the upstream microservice or the built-in one.
// Unreachable upstreams return errors wrapping domain.ErrUpstreamUnavailable.
// who is the actor a call is made for (the zero Actor for anonymous requests
// and background jobs); the upstream client forwards it, with the request id
// the context carries, and decides nothing by it.
type Catalog interface {
	List(ctx context.Context, q ProductQuery, who user.Actor) (ProductPage, error)
	Get(ctx context.Context, id string, who user.Actor) (*product.Product, error)
	Create(ctx context.Context, d product.Draft, who user.Actor) (*product.Product, error)
	Replace(ctx context.Context, id string, d product.Draft, who user.Actor) (*product.Product, error)
	Delete(ctx context.Context, id string, who user.Actor) error
	// Lookup returns the products among ids that exist (in any order); one call
	// for a whole cart or order.
	Lookup(ctx context.Context, ids []string, who user.Actor) ([]*product.Product, error)
	// Reserve holds stock for an order, all items or none; not enough stock
	// returns a *product.InsufficientStockError.
	Reserve(ctx context.Context, orderID string, items []ReservationItem, who user.Actor) error
	// Release gives an order's reservation back; releasing twice is not an error.
	Release(ctx context.Context, orderID string, who user.Actor) error
}

// PaymentLinks builds the URLs a buyer follows to pay an order.
type PaymentLinks interface {
	PaymeURL(orderID string, amount money.Money, returnURL string) (string, error)
	ClickURL(orderID string, amount money.Money, returnURL string) (string, error)
}
