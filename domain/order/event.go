package order

import (
	"time"

	"github.com/ultramarket/gateway/domain/money"
)

// Event is the news that an order's status changed, as the domain events of
// API.md carry it: published to the rest of the marketplace (fulfilment,
// notifications) so they need not poll.
type Event struct {
	ID      string // unique per event (UUID); consumers dedupe by it
	Name    string // placed, paid, cancelled, refunded, shipped or delivered
	OrderID string
	UserID  string
	Status  Status // the order's status after the change
	Total   money.Money
	// OccurredAt is when the change happened: the order's updated_at, which
	// the change itself set from the clock.
	OccurredAt time.Time
}

// EventPlaced names the event of a new order; every other event is named
// after the status the order went to.
const EventPlaced = "placed"

// Type is the event's type, "order.<name>" (order.placed, order.paid, …).
func (e Event) Type() string { return "order." + e.Name }

// StatusEvent is the event of o's latest change of status, with id: placed
// for a new order (pending_payment is reached only by placing one), else the
// status o is in now. Call it right after the change, before anything else
// changes o.
func (o *Order) StatusEvent(id string) Event {
	name := string(o.status)
	if o.status == StatusPendingPayment {
		name = EventPlaced
	}
	return Event{ID: id, Name: name, OrderID: o.id, UserID: o.userID, Status: o.status, Total: o.total,
		OccurredAt: o.updatedAt}
}
