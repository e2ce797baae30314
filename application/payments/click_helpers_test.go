package payments_test

import (
	"time"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// Fixtures of the Click, payment-link and transaction-list tests. Names carry
// a click prefix: the Payme tests share this package.

var (
	clickNow     = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	clickEarlier = clickNow.Add(-time.Hour)
	clickTotal   = money.MustTiyin(5_000_000) // 50 000.00 so'm
)

const (
	clickOrderID  = "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01"
	clickOtherID  = "c9f0f895-fb98-4b9f-8a3b-2d1e6f7a8b02"
	clickOwnerID  = "45c48cce-2e2d-4fbd-8a1c-5b6d7e8f9a03"
	clickBuyer2ID = "d3d94468-02a4-4e4b-9c2d-6e7f8a9b0c04"
	clickTransID  = int64(2_100_000_001)
	clickPrepID   = int64(7)
	// clickAttemptID is the stored attempt's own id (a UUID, unlike clickPrepID).
	clickAttemptID = "1679091c-5a88-4faf-9fb5-e6087eb1b2dc"
)

// clickOrder is an order of clickOwnerID totalling clickTotal.
func clickOrder(id string, status order.Status) *order.Order {
	items := []order.Item{{ProductID: "a87ff679-a2f3-471d-8181-a67b7542122c", Name: "Rishton lagan",
		UnitPrice: money.MustTiyin(2_500_000), Quantity: 2}}
	var paidAt, cancelledAt, refundedAt, shippedAt time.Time
	switch status {
	case order.StatusPaid, order.StatusShipped, order.StatusDelivered, order.StatusRefunded:
		paidAt = clickEarlier
	case order.StatusCancelled:
		cancelledAt = clickEarlier
	}
	if status == order.StatusRefunded {
		refundedAt = clickEarlier
	}
	if status == order.StatusShipped || status == order.StatusDelivered {
		shippedAt = clickEarlier
	}
	return order.Restore(id, clickOwnerID, status, items, clickTotal,
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "",
		clickEarlier, clickEarlier, paidAt, shippedAt, time.Time{}, cancelledAt, refundedAt)
}

// clickAttempt is a stored attempt (prepare id clickPrepID) of orderID in state.
func clickAttempt(orderID string, state payment.ClickState) *payment.ClickTransaction {
	var confirmedAt, cancelledAt time.Time
	var clickErr *int
	switch state {
	case payment.ClickConfirmed:
		confirmedAt = clickEarlier
	case payment.ClickCancelled:
		cancelledAt, clickErr = clickEarlier, clickIntPtr(-5017)
	case payment.ClickCancelledAfterConfirm:
		confirmedAt, cancelledAt, clickErr = clickEarlier, clickEarlier, clickIntPtr(-5017)
	}
	return payment.RestoreClickTransaction(clickAttemptID, clickPrepID, clickTransID, 3_100_000_001, 12345, orderID,
		clickTotal, "50000.00", state, clickErr, clickEarlier, confirmedAt, cancelledAt)
}

func clickIntPtr(n int) *int { return &n }
