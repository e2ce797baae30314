package ports

//go:generate go run github.com/golang/mock/mockgen -source=orders.go -destination=mocks/orders.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/order"
)

// OrderFilter narrows an order list. UserID "" means every user (admins).
type OrderFilter struct {
	UserID   string
	Status   order.Status // "" = any
	Page     int
	PageSize int
}

// OverdueCursor is where one batch of the expiry sweep ended: overdue orders
// are taken in (created time, id) order, and the next batch starts after
// the last order of the previous one. The zero value is the beginning.
type OverdueCursor struct {
	CreatedAt time.Time
	ID        string
}

// OrderRepository stores orders with their items. A missing order returns
// order.ErrNotFound.
type OrderRepository interface {
	Create(ctx context.Context, o *order.Order) error
	// Update saves the status and its timestamps (items never change).
	Update(ctx context.Context, o *order.Order) error
	Get(ctx context.Context, id string) (*order.Order, error)
	// GetForUpdate locks the order row until the transaction in ctx ends; every
	// payment webhook for the order serialises on it.
	GetForUpdate(ctx context.Context, id string) (*order.Order, error)
	List(ctx context.Context, f OrderFilter) (orders []*order.Order, total int, err error)
	// LockOverdue locks up to limit pending_payment orders created before
	// cutoff and after the cursor, oldest first, skipping rows another
	// transaction holds, so several instances sweeping at once never process
	// one order twice. The cursor lets a sweep go on past orders it leaves
	// pending (those a live Payme transaction holds).
	LockOverdue(ctx context.Context, cutoff time.Time, after OverdueCursor, limit int) ([]*order.Order, error)
}

// UnpaidOrderSlots counts a user's unpaid orders where the count can be
// trusted: in the database, under a lock per user, so ORDER_MAX_UNPAID holds
// across concurrent requests and instances. An unpaid order is a
// pending_payment order, or a placement: an order whose stock is being
// reserved (outside any transaction, through the catalog) and that is not
// stored yet. Holding a placement before reserving is what lets the limit be
// checked before any stock is touched.
type UnpaidOrderSlots interface {
	// CountUnpaid locks the user's count until the transaction in ctx ends
	// (another CountUnpaid for the user waits), forgets the user's placements
	// whose hold ended at or before now, and returns the user's
	// pending_payment orders plus live placements, not counting the placement
	// of exceptOrderID (the caller's own). It must run inside
	// TxManager.WithinTx. An unknown user returns user.ErrNotFound.
	CountUnpaid(ctx context.Context, userID, exceptOrderID string, now time.Time) (int, error)
	// Hold records the placement of orderID for userID, live until until.
	Hold(ctx context.Context, userID, orderID string, now, until time.Time) error
	// Drop forgets the placement of orderID; dropping an unknown one is not an error.
	Drop(ctx context.Context, orderID string) error
}
