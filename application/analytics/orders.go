package analytics

import (
	"context"

	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Orders counts orders by status.
type Orders struct {
	analytics ports.Analytics
}

// NewOrders wires the use case.
func NewOrders(analytics ports.Analytics) *Orders {
	return &Orders{analytics: analytics}
}

// OrdersInput is the caller.
type OrdersInput struct {
	Actor user.Actor
}

// Handle returns a count for every status, zero included, so a dashboard
// need not know which statuses exist. ErrNotAllowed (403) unless the caller
// is an admin.
func (uc *Orders) Handle(ctx context.Context, in OrdersInput) (map[order.Status]int64, error) {
	if err := checkAdmin(in.Actor); err != nil {
		return nil, err
	}
	counts, err := uc.analytics.OrdersByStatus(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[order.Status]int64, len(order.Statuses))
	for _, s := range order.Statuses {
		out[s] = counts[s]
	}
	return out, nil
}
