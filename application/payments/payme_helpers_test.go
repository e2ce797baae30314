package payments_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// Fixtures of the Payme use case tests. Names carry a payme prefix: the
// Click tests share this package.

var (
	paymeNow   = time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC)
	paymeTotal = money.MustTiyin(5_000_000) // 50 000.00 so'm
	// paymeFresh is a Payme create time one minute ago; paymeStale one
	// millisecond past the 12 hours; paymeEdge exactly 12 hours ago.
	paymeFresh = paymeNow.Add(-time.Minute).UnixMilli()
	paymeStale = paymeNow.Add(-payment.PaymeTimeout - time.Millisecond).UnixMilli()
	paymeEdge  = paymeNow.Add(-payment.PaymeTimeout).UnixMilli()
	// paymeStored are the times an earlier call stored.
	paymeStoredCreate  = paymeNow.Add(-50 * time.Second).UnixMilli()
	paymeStoredPerform = paymeNow.Add(-40 * time.Second).UnixMilli()
	paymeStoredCancel  = paymeNow.Add(-30 * time.Second).UnixMilli()
)

const (
	paymeOrderID  = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	paymeOtherID  = "6b2c3d4e-5f6a-4b7c-9d8e-0f1a2b3c4d5e"
	paymeUserID   = "7c3d4e5f-6a7b-4c8d-8e9f-1a2b3c4d5e6f"
	paymeTxID     = "8d4e5f6a-7b8c-4d9e-9f0a-2b3c4d5e6f7a"
	paymeNewTxID  = "9e5f6a7b-8c9d-4e0f-8a1b-3c4d5e6f7a8b"
	paymeID       = "5305e3bab097f420a62ced0b"
	paymeOtherPID = "5305e3bab097f420a62ced0c"
)

var errPaymeDB = errors.New("connection reset by peer")

// paymeMocks are every port the Payme use cases touch; a call nobody
// expected fails the test, which is how "changes nothing" is asserted.
type paymeMocks struct {
	tx          *testsupport.RecordingTx
	orders      *mocks.MockOrderRepository
	payme       *mocks.MockPaymeRepository
	clicks      *mocks.MockClickRepository
	settlements *mocks.MockSettlements
	catalog     *mocks.MockCatalog
	fiscal      *mocks.MockFiscalStore
	clock       testsupport.FixedClock
}

func newPaymeMocks(t *testing.T) *paymeMocks {
	ctrl := gomock.NewController(t)
	return &paymeMocks{
		tx:          &testsupport.RecordingTx{},
		orders:      mocks.NewMockOrderRepository(ctrl),
		payme:       mocks.NewMockPaymeRepository(ctrl),
		clicks:      mocks.NewMockClickRepository(ctrl),
		settlements: mocks.NewMockSettlements(ctrl),
		catalog:     mocks.NewMockCatalog(ctrl),
		fiscal:      mocks.NewMockFiscalStore(ctrl),
		clock:       testsupport.FixedClock(paymeNow),
	}
}

// paymeOrder is a stored order of total paymeTotal in the given status,
// with the timestamps that status needs.
func paymeOrder(id string, status order.Status) *order.Order {
	created := paymeNow.Add(-time.Hour)
	var paid, shipped, delivered, cancelled, refunded time.Time
	switch status {
	case order.StatusPaid:
		paid = created.Add(time.Minute)
	case order.StatusShipped:
		paid, shipped = created.Add(time.Minute), created.Add(2*time.Minute)
	case order.StatusDelivered:
		paid, shipped, delivered = created.Add(time.Minute), created.Add(2*time.Minute), created.Add(3*time.Minute)
	case order.StatusCancelled:
		cancelled = created.Add(time.Minute)
	case order.StatusRefunded:
		paid, refunded = created.Add(time.Minute), created.Add(2*time.Minute)
	}
	items := []order.Item{{ProductID: "0a1b2c3d-0000-4000-8000-000000000001", Name: "Rishton lagan",
		UnitPrice: paymeTotal, Quantity: 1}}
	return order.Restore(id, paymeUserID, status, items, paymeTotal,
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "",
		created, created, paid, shipped, delivered, cancelled, refunded)
}

func paymeAccount(orderID string) map[string]string {
	return map[string]string{"order_id": orderID}
}

func paymeReason(r payment.Reason) *payment.Reason { return &r }

// paymeStoredTx is a stored transaction of paymeOrderID in the given state,
// created at Payme time paymeTime, with the times and reason that state has.
func paymeStoredTx(state payment.PaymeState, paymeTime int64) *payment.PaymeTransaction {
	return paymeStoredTxOf(paymeTxID, paymeID, paymeOrderID, state, paymeTime)
}

func paymeStoredTxOf(id, pid, orderID string, state payment.PaymeState, paymeTime int64) *payment.PaymeTransaction {
	var perform, cancel int64
	var reason *payment.Reason
	switch state {
	case payment.PaymePerformed:
		perform = paymeStoredPerform
	case payment.PaymeCancelled:
		cancel, reason = paymeStoredCancel, paymeReason(payment.ReasonTransactionFailed)
	case payment.PaymeCancelledAfterPerform:
		perform, cancel, reason = paymeStoredPerform, paymeStoredCancel, paymeReason(payment.ReasonRefund)
	}
	return payment.RestorePaymeTransaction(id, pid, orderID, paymeTime, paymeTotal, paymeAccount(orderID),
		state, reason, paymeStoredCreate, perform, cancel)
}

// assertPaymeInternal checks an infrastructure failure comes back as itself,
// not dressed up as one of the errors the adapter answers with a business code.
func assertPaymeInternal(t *testing.T, err error) {
	t.Helper()
	require.Error(t, err)
	assert.ErrorIs(t, err, errPaymeDB)
	for _, sentinel := range []error{domain.ErrNotFound, domain.ErrConflict, domain.ErrValidation} {
		assert.NotErrorIs(t, err, sentinel)
	}
}

// paymeSaved captures what Update was given.
func paymeSaved(dst **payment.PaymeTransaction) func(context.Context, *payment.PaymeTransaction) error {
	return func(_ context.Context, t *payment.PaymeTransaction) error {
		*dst = t
		return nil
	}
}

// notPayable are the order statuses no payment may start on.
var paymeNotPayable = []order.Status{order.StatusPaid, order.StatusShipped, order.StatusDelivered,
	order.StatusCancelled, order.StatusRefunded}

// paymeAny is gomock.Any(), short enough for long EXPECT lines.
var paymeAny = gomock.Any()

// gomockInOrder is gomock.InOrder.
var gomockInOrder = gomock.InOrder
