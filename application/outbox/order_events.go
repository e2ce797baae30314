package outbox

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
)

// DefaultSubjectPrefix starts every event subject: ultramarket.order.<name>
// (API.md). Only tests choose another, since streams on one NATS server may
// not share subjects.
const DefaultSubjectPrefix = "ultramarket"

// OrderEvents implements ports.OrderEvents on the outbox: the event's body
// is encoded once, here, and stored as the exact bytes the relay publishes,
// under the subject <prefix>.order.<name>, with the event id as the outbox
// row id (and so as the Nats-Msg-Id).
type OrderEvents struct {
	store  ports.Outbox
	ids    ports.IDGenerator
	clock  ports.Clock
	prefix string
}

var _ ports.OrderEvents = (*OrderEvents)(nil)

// NewOrderEvents returns the recorder with DefaultSubjectPrefix.
func NewOrderEvents(store ports.Outbox, ids ports.IDGenerator, clock ports.Clock) *OrderEvents {
	return &OrderEvents{store: store, ids: ids, clock: clock, prefix: DefaultSubjectPrefix}
}

// WithSubjectPrefix replaces "ultramarket" in the subjects (p not empty).
func (e *OrderEvents) WithSubjectPrefix(p string) *OrderEvents {
	if p != "" {
		e.prefix = p
	}
	return e
}

// eventBody is the JSON body of API.md: money in integer tiyin beside its
// currency, times in RFC 3339 (UTC), like the HTTP API.
type eventBody struct {
	ID         string    `json:"id"`
	Type       string    `json:"type"`
	OrderID    string    `json:"order_id"`
	UserID     string    `json:"user_id"`
	Status     string    `json:"status"`
	Total      int64     `json:"total"`
	Currency   string    `json:"currency"`
	OccurredAt time.Time `json:"occurred_at"`
}

// Record appends o's status event to the outbox in ctx's transaction.
func (e *OrderEvents) Record(ctx context.Context, o *order.Order) error {
	ev := o.StatusEvent(e.ids.NewID())
	body, err := json.Marshal(eventBody{ID: ev.ID, Type: ev.Type(), OrderID: ev.OrderID, UserID: ev.UserID,
		Status: string(ev.Status), Total: ev.Total.Tiyin(), Currency: money.Currency, OccurredAt: ev.OccurredAt.UTC()})
	if err != nil {
		return fmt.Errorf("encode event %s of order %s: %w", ev.Type(), ev.OrderID, err)
	}
	msg := ports.OutboxMessage{ID: ev.ID, Kind: ports.OutboxEvent, AggregateID: ev.OrderID,
		Subject: e.prefix + ".order." + ev.Name, Payload: body, CreatedAt: e.clock.Now()}
	if err := e.store.Append(ctx, msg); err != nil {
		return fmt.Errorf("record event %s of order %s: %w", ev.Type(), ev.OrderID, err)
	}
	return nil
}
