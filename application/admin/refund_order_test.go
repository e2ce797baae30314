package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const (
	refundOrderID = "0a1b2c3d-0000-4000-8000-0000000000aa"
	refundAdminID = "0a1b2c3d-0000-4000-8000-0000000000ad"
	refundID      = "0a1b2c3d-0000-4000-8000-0000000000ff"
	refundPaydoc  = int64(3_100_000_001)
)

var (
	refundNow   = time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	refundAdmin = user.Actor{ID: refundAdminID, Role: user.RoleAdmin}
	anyCtx      = gomock.Any()
)

type refundMocks struct {
	tx       *testsupport.RecordingTx
	orders   *mocks.MockOrderRepository
	payme    *mocks.MockPaymeRepository
	clicks   *mocks.MockClickRepository
	refunds  *mocks.MockRefundRepository
	merchant *mocks.MockClickMerchant
	catalog  *mocks.MockCatalog
}

func newRefund(t *testing.T, withMerchant bool) (*admin.RefundOrder, *refundMocks) {
	ctrl := gomock.NewController(t)
	m := &refundMocks{
		tx: &testsupport.RecordingTx{}, orders: mocks.NewMockOrderRepository(ctrl), payme: mocks.NewMockPaymeRepository(ctrl),
		clicks: mocks.NewMockClickRepository(ctrl), refunds: mocks.NewMockRefundRepository(ctrl),
		merchant: mocks.NewMockClickMerchant(ctrl), catalog: mocks.NewMockCatalog(ctrl),
	}
	d := admin.RefundOrderDeps{Tx: m.tx, Orders: m.orders, Payme: m.payme, Clicks: m.clicks, Refunds: m.refunds,
		Catalog: m.catalog, IDs: testsupport.FixedID(refundID), Clock: testsupport.FixedClock(refundNow)}
	if withMerchant {
		d.Merchant = m.merchant
	}
	return admin.NewRefundOrder(d), m
}

func refundOrder(status order.Status) *order.Order {
	created := refundNow.Add(-48 * time.Hour)
	var paid, shipped, delivered time.Time
	switch status {
	case order.StatusPaid:
		paid = created.Add(time.Hour)
	case order.StatusShipped:
		paid, shipped = created.Add(time.Hour), created.Add(2*time.Hour)
	case order.StatusDelivered:
		paid, shipped, delivered = created.Add(time.Hour), created.Add(2*time.Hour), created.Add(3*time.Hour)
	}
	return order.Restore(refundOrderID, "0a1b2c3d-0000-4000-8000-0000000000bb", status,
		[]order.Item{{ProductID: "0a1b2c3d-0000-4000-8000-0000000000cc", Name: "Lagan", UnitPrice: money.MustTiyin(500), Quantity: 1}},
		money.MustTiyin(500), order.Address{Region: "T", City: "T", Street: "S", Phone: "+998901234567"}, "",
		created, created, paid, shipped, delivered, time.Time{}, time.Time{})
}

func confirmedAttempt() *payment.ClickTransaction {
	return payment.RestoreClickTransaction("0a1b2c3d-0000-4000-8000-0000000000c1", 7, 2_100_000_001, refundPaydoc, 12345,
		refundOrderID, money.MustTiyin(500), "5.00", payment.ClickConfirmed, nil,
		refundNow.Add(-47*time.Hour), refundNow.Add(-47*time.Hour), time.Time{})
}

// expectClickOrder: the plain reads that find a confirmed Click attempt.
func (m *refundMocks) expectClickOrder(status order.Status) {
	m.orders.EXPECT().Get(anyCtx, refundOrderID).Return(refundOrder(status), nil)
	m.payme.EXPECT().ListByOrder(anyCtx, refundOrderID).Return(nil, nil)
	m.clicks.EXPECT().ListByOrder(anyCtx, refundOrderID).Return([]*payment.ClickTransaction{confirmedAttempt()}, nil)
}

func TestRefundOrder_ClickReversesOutsideTheTransactionThenRecords(t *testing.T) {
	for _, status := range []order.Status{order.StatusPaid, order.StatusDelivered} {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newRefund(t, true)
			m.expectClickOrder(status)
			locked, attempt := refundOrder(status), confirmedAttempt()
			var saved *payment.Refund
			gomock.InOrder(
				m.merchant.EXPECT().Reverse(anyCtx, refundPaydoc).DoAndReturn(func(ctx context.Context, _ int64) error {
					assert.False(t, testsupport.InTx(ctx), "Click is never called inside a database transaction")
					return nil
				}),
				m.orders.EXPECT().GetForUpdate(anyCtx, refundOrderID).Return(locked, nil),
				m.clicks.EXPECT().GetByPrepareIDForUpdate(anyCtx, int64(7)).Return(attempt, nil),
				m.orders.EXPECT().Update(anyCtx, locked).Return(nil),
				m.clicks.EXPECT().Update(anyCtx, attempt).Return(nil),
				m.refunds.EXPECT().Add(anyCtx, gomock.Any()).DoAndReturn(func(_ context.Context, r *payment.Refund) error {
					saved = r
					return nil
				}),
				m.refunds.EXPECT().ListByOrder(anyCtx, refundOrderID).DoAndReturn(func(context.Context, string) ([]*payment.Refund, error) {
					return []*payment.Refund{saved}, nil
				}),
			)
			if status == order.StatusPaid { // only goods that never left come back
				m.catalog.EXPECT().Release(anyCtx, refundOrderID, user.Actor{}).Return(nil)
			}

			res, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: " Broken "})
			require.NoError(t, err)
			assert.True(t, m.tx.Committed())
			assert.Equal(t, payment.RefundReversed, res.Outcome)
			assert.Equal(t, order.StatusRefunded, res.Order.Status())
			assert.Equal(t, refundNow, res.Order.RefundAuthorizedAt())
			assert.Equal(t, payment.ClientRefunded, attempt.ClientState())
			require.Len(t, res.Refunds, 1)
			assert.Equal(t, refundID, saved.ID())
			assert.Equal(t, refundAdminID, saved.AdminID())
			assert.Equal(t, "Broken", saved.Reason())
			assert.Equal(t, payment.ProviderClick, saved.Provider())
			assert.Equal(t, refundNow, saved.CreatedAt())
		})
	}
}

func TestRefundOrder_ClickRefusalChangesNothing(t *testing.T) {
	uc, m := newRefund(t, true) // no GetForUpdate, no Update, no Add: nothing changes
	m.expectClickOrder(order.StatusPaid)
	m.merchant.EXPECT().Reverse(anyCtx, refundPaydoc).Return(errors.Join(&payment.RefusalError{Code: -5017, Note: "Too late"}, errors.New("api")))
	m.merchant.EXPECT().PaymentStatus(anyCtx, refundPaydoc).Return(ports.ClickPaymentStatus{PaymentID: refundPaydoc, Status: 2}, nil)

	_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: "r"})
	var refused *payment.RefundRefusedError
	require.ErrorAs(t, err, &refused)
	assert.Equal(t, "Too late", refused.Note)
	assert.ErrorIs(t, err, payment.ErrRefundRefused)
	assert.Zero(t, m.tx.Runs())
}

func TestRefundOrder_ClickUnavailableChangesNothing(t *testing.T) {
	t.Run("unreachable", func(t *testing.T) {
		uc, m := newRefund(t, true)
		m.expectClickOrder(order.StatusShipped)
		m.merchant.EXPECT().Reverse(anyCtx, refundPaydoc).Return(domain.ErrUnavailable)
		_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: "r"})
		assert.ErrorIs(t, err, payment.ErrGatewayUnavailable)
		assert.Zero(t, m.tx.Runs())
	})
	t.Run("not configured", func(t *testing.T) {
		uc, m := newRefund(t, false)
		m.expectClickOrder(order.StatusPaid)
		_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: "r"})
		assert.ErrorIs(t, err, payment.ErrGatewayUnavailable)
		assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	})
}

func TestRefundOrder_PaymeAuthorizesOnce(t *testing.T) {
	uc, m := newRefund(t, true) // the merchant is not called for Payme
	o := refundOrder(order.StatusDelivered)
	performed := payment.RestorePaymeTransaction("0a1b2c3d-0000-4000-8000-0000000000e1", "p1", refundOrderID, 1, money.MustTiyin(500),
		nil, payment.PaymePerformed, nil, 1, 2, 0)
	m.orders.EXPECT().Get(anyCtx, refundOrderID).Return(refundOrder(order.StatusDelivered), nil).Times(2)
	m.payme.EXPECT().ListByOrder(anyCtx, refundOrderID).Return([]*payment.PaymeTransaction{performed}, nil).Times(2)
	m.orders.EXPECT().GetForUpdate(anyCtx, refundOrderID).Return(o, nil).Times(2)
	m.orders.EXPECT().Update(anyCtx, o).Return(nil)
	m.refunds.EXPECT().Add(anyCtx, gomock.Any()).Return(nil) // once: the second request changes nothing
	m.refunds.EXPECT().ListByOrder(anyCtx, refundOrderID).Return(nil, nil).Times(2)

	in := admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: "Returned"}
	res, err := uc.Handle(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, payment.RefundAuthorized, res.Outcome)
	assert.Equal(t, order.StatusDelivered, res.Order.Status(), "Payme is still to refund it")
	assert.Equal(t, refundNow, res.Order.RefundAuthorizedAt())

	res, err = uc.Handle(context.Background(), in)
	require.NoError(t, err)
	assert.Equal(t, refundNow, res.Order.RefundAuthorizedAt())
}

func TestRefundOrder_Refusals(t *testing.T) {
	t.Run("not an admin", func(t *testing.T) {
		uc, _ := newRefund(t, true)
		_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: user.Actor{ID: refundAdminID, Role: user.RoleSeller}, OrderID: refundOrderID, Reason: "r"})
		assert.ErrorIs(t, err, domain.ErrForbidden)
	})
	t.Run("no reason", func(t *testing.T) {
		uc, _ := newRefund(t, true)
		_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: " "})
		assert.Equal(t, []string{"reason"}, testsupport.FieldsOf(t, err))
	})
	for _, status := range []order.Status{order.StatusPendingPayment, order.StatusCancelled, order.StatusRefunded} {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newRefund(t, true)
			o := refundOrder(order.StatusPaid)
			if status != order.StatusPaid {
				o = order.Restore(refundOrderID, "u", status, o.Items(), o.Total(), o.Address(), "",
					o.CreatedAt(), o.UpdatedAt(), time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{})
			}
			m.orders.EXPECT().Get(anyCtx, refundOrderID).Return(o, nil)
			_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: "r"})
			assert.ErrorIs(t, err, order.ErrNotRefundable)
		})
	}
	t.Run("no completed payment", func(t *testing.T) {
		uc, m := newRefund(t, true)
		m.orders.EXPECT().Get(anyCtx, refundOrderID).Return(refundOrder(order.StatusPaid), nil)
		m.payme.EXPECT().ListByOrder(anyCtx, refundOrderID).Return(nil, nil)
		m.clicks.EXPECT().ListByOrder(anyCtx, refundOrderID).Return(nil, nil)
		_, err := uc.Handle(context.Background(), admin.RefundOrderInput{Actor: refundAdmin, OrderID: refundOrderID, Reason: "r"})
		assert.ErrorIs(t, err, order.ErrNotRefundable)
	})
}

func TestExportPayments_RefusesMoreThanTheLimit(t *testing.T) {
	ctrl := gomock.NewController(t)
	console := mocks.NewMockPaymentConsole(ctrl)
	uc := admin.NewExportPayments(console)
	console.EXPECT().Count(anyCtx, gomock.Any()).Return(admin.MaxExportRows+1, nil)
	_, err := uc.Check(context.Background(), admin.PaymentsInput{Actor: refundAdmin})
	assert.Equal(t, []string{"to"}, testsupport.FieldsOf(t, err))

	console.EXPECT().Count(anyCtx, gomock.Any()).Return(admin.MaxExportRows, nil)
	_, err = uc.Check(context.Background(), admin.PaymentsInput{Actor: refundAdmin})
	assert.NoError(t, err, "exactly the limit is fine")
}
