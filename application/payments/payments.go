// Package payments holds the payment use cases: the two gateways' webhooks
// (Payme's Merchant API in payme_*.go, Click's SHOP-API Prepare/Complete in
// click_*.go), and what buyers and admins ask of payments through our own
// API: a payment link for an order (links.go) and the order's transactions
// across both providers (transactions.go).
//
// Every webhook locks the order row first (OrderRepository.GetForUpdate) and
// only then the provider's transaction rows, so concurrent calls for one
// order serialise on it and never deadlock; the order becomes paid in the
// same database transaction that records the payment as done, next to a
// Settlements row that lets only one provider transaction pay an order.
package payments

import (
	"context"

	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
)

// recordEvent records o's status event (paid, refunded) in the transaction
// ctx carries, when the use case was given a recorder (WithEvents: EVENTS_URL
// set). Without one no event is written: no relay would ever publish it.
func recordEvent(ctx context.Context, events ports.OrderEvents, o *order.Order) error {
	if events == nil {
		return nil
	}
	return events.Record(ctx, o)
}
