package ports

//go:generate go run github.com/golang/mock/mockgen -source=events.go -destination=mocks/events.go -package=mocks

import (
	"context"

	"github.com/ultramarket/gateway/domain/order"
)

// OrderEvents records the domain events of orders (API.md, "Domain events").
type OrderEvents interface {
	// Record writes the event of o's latest change of status (see
	// order.Order.StatusEvent) into the transaction ctx carries, so the
	// event exists if and only if that change commits, and is published
	// after the commit. Call it in the same transaction, right after saving
	// the change, once per change: a use case that finds nothing to change
	// (a replayed webhook) records nothing. Without a transaction it
	// refuses.
	Record(ctx context.Context, o *order.Order) error
}
