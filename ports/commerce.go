package ports

//go:generate go run github.com/golang/mock/mockgen -source=commerce.go -destination=mocks/commerce.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// CartLine is one product in a user's cart.
type CartLine struct {
	ProductID string
	Quantity  int64
	AddedAt   time.Time
}

// CartRepository stores carts: one per user, lines keyed by product.
type CartRepository interface {
	// Lines returns the user's cart, oldest line first.
	Lines(ctx context.Context, userID string) ([]CartLine, error)
	// Set adds the product or changes its quantity.
	Set(ctx context.Context, userID, productID string, quantity int64, now time.Time) error
	// Remove drops one product; a product not in the cart is not an error.
	Remove(ctx context.Context, userID, productID string) error
	Clear(ctx context.Context, userID string) error
}

// IdempotencyRecord is what a key remembers.
type IdempotencyRecord struct {
	RequestHash string
	// ResourceID is the id of what the first request created; "" while that
	// request is still being processed.
	ResourceID string
	// Claim names the claim Begin just made (claimed=true; "" otherwise):
	// Renew, Complete and Release act on the key only while that claim
	// still holds it.
	Claim string
}

// IdempotencyStore remembers Idempotency-Key headers per user. The database
// decides which of several concurrent requests with one key goes first.
//
// A claim in progress is leased: its request renews the lease while it runs,
// and a claim whose lease has ended (its process died mid-way) is taken over
// by the next request with the key, so a key never stays blocked for long.
// Leases are compared with the now the callers pass.
type IdempotencyStore interface {
	// Begin claims the key for a request, leased until now+lease.
	// claimed=false returns the record of the request that claimed it before
	// (still in progress when its ResourceID is empty). A record older than
	// ttl, and a claim in progress whose lease ended before now, is forgotten
	// and claimed again.
	Begin(ctx context.Context, userID, key, requestHash string, now time.Time, ttl, lease time.Duration) (rec IdempotencyRecord, claimed bool, err error)
	// Renew extends the lease of claim to until. An error wrapping
	// domain.ErrConflict says the claim no longer holds the key (completed,
	// released, or taken over after its lease ended).
	Renew(ctx context.Context, userID, key, claim string, until time.Time) error
	// Complete stores what the claimed request created. An error wrapping
	// domain.ErrConflict says claim no longer holds the key in progress.
	Complete(ctx context.Context, userID, key, claim, resourceID string) error
	// Release forgets a claim whose request failed, so a retry runs again; a
	// claim that no longer holds the key is left alone.
	Release(ctx context.Context, userID, key, claim string) error
}

// Interval is an analytics bucket size.
type Interval string

const (
	IntervalDay   Interval = "day"
	IntervalWeek  Interval = "week"
	IntervalMonth Interval = "month"
)

// SalesPoint is one bucket of the sales series.
type SalesPoint struct {
	PeriodStart time.Time
	Orders      int64
	Revenue     money.Money
}

// ProviderTotal sums one provider's completed payments.
type ProviderTotal struct {
	Count  int64
	Amount money.Money
}

// TopProduct is one row of the best sellers.
type TopProduct struct {
	ProductID string
	Name      string
	Quantity  int64
	Revenue   money.Money
}

// Analytics answers the admin dashboards from orders and payments, in SQL.
type Analytics interface {
	// Sales buckets revenue-counting orders (paid, shipped, delivered) by
	// paid_at in [from, to) into interval-sized periods in loc; weeks start
	// on Monday; periods come in time order.
	Sales(ctx context.Context, from, to time.Time, interval Interval, loc *time.Location) ([]SalesPoint, error)
	OrdersByStatus(ctx context.Context) (map[order.Status]int64, error)
	PaymentsByProvider(ctx context.Context) (map[payment.Provider]ProviderTotal, error)
	// TopProducts ranks products of revenue-counting orders by revenue.
	TopProducts(ctx context.Context, limit int) ([]TopProduct, error)
}
