package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
)

func newPaymeCancel(t *testing.T) (*payments.PaymeCancelTransaction, *paymeMocks) {
	m := newPaymeMocks(t)
	return payments.NewPaymeCancelTransaction(m.tx, m.orders, m.payme, m.catalog, m.clock), m
}

func TestPaymeCancel_BeforePerformCancelsOnlyTheTransaction(t *testing.T) {
	for name, paymeTime := range map[string]int64{"in time": paymeFresh, "past 12h": paymeStale} {
		t.Run(name, func(t *testing.T) {
			uc, m := newPaymeCancel(t) // the order is not saved, no stock released
			o, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeTime)
			m.payme.EXPECT().Update(paymeAny, tx).Return(nil)

			res, err := uc.Handle(context.Background(), paymeID, payment.ReasonTransactionFailed)
			require.NoError(t, err)
			assert.True(t, res.Changed)
			assert.True(t, m.tx.Committed())
			assert.Equal(t, payment.PaymeCancelled, res.Tx.State())
			assert.Equal(t, payment.ReasonTransactionFailed, *res.Tx.Reason())
			assert.Equal(t, paymeNow.UnixMilli(), res.Tx.CancelTime())
			assert.Equal(t, order.StatusPendingPayment, o.Status(), "the order may still be paid")
			assert.NoError(t, res.StockReleaseErr)
		})
	}
}

func TestPaymeCancel_AfterPerformRefundsTheOrderAndReleasesStockAfterCommit(t *testing.T) {
	uc, m := newPaymeCancel(t)
	o, tx := m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
	committedBeforeRelease := false
	gomockInOrder(
		m.orders.EXPECT().Update(paymeAny, o).Return(nil),
		m.payme.EXPECT().Update(paymeAny, tx).Return(nil),
		m.catalog.EXPECT().Release(paymeAny, paymeOrderID, user.Actor{}).DoAndReturn(
			func(context.Context, string, user.Actor) error {
				committedBeforeRelease = m.tx.Committed()
				return nil
			}),
	)

	res, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.True(t, committedBeforeRelease, "stock is released only once the refund committed")
	assert.Equal(t, payment.PaymeCancelledAfterPerform, res.Tx.State())
	assert.Equal(t, payment.ReasonRefund, *res.Tx.Reason())
	assert.Equal(t, paymeStoredPerform, res.Tx.PerformTime())
	assert.Equal(t, paymeNow.UnixMilli(), res.Tx.CancelTime())
	assert.Equal(t, order.StatusRefunded, o.Status())
	assert.Equal(t, paymeNow, o.RefundedAt())
}

func TestPaymeCancel_ReleaseOutlivesTheCaller(t *testing.T) {
	ctx, hangUp := context.WithCancel(context.Background())
	uc, m := newPaymeCancel(t)
	m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
	m.orders.EXPECT().Update(paymeAny, paymeAny).Return(nil)
	m.payme.EXPECT().Update(paymeAny, paymeAny).DoAndReturn(func(context.Context, *payment.PaymeTransaction) error {
		hangUp() // Payme gives up just as the refund commits
		return nil
	})
	m.catalog.EXPECT().Release(paymeAny, paymeOrderID, user.Actor{}).DoAndReturn(
		func(ctx context.Context, _ string, _ user.Actor) error {
			_, bounded := ctx.Deadline()
			assert.True(t, bounded, "a hung catalog must not hold the answer to Payme forever")
			return ctx.Err()
		})

	res, err := uc.Handle(ctx, paymeID, payment.ReasonRefund)
	require.NoError(t, err)
	assert.NoError(t, res.StockReleaseErr, "the release must not be cut short by the caller")
}

func TestPaymeCancel_ReleaseFailureIsReportedButTheRefundStands(t *testing.T) {
	uc, m := newPaymeCancel(t)
	m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
	m.orders.EXPECT().Update(paymeAny, paymeAny).Return(nil)
	m.payme.EXPECT().Update(paymeAny, paymeAny).Return(nil)
	m.catalog.EXPECT().Release(paymeAny, paymeOrderID, user.Actor{}).Return(errPaymeDB)

	res, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
	require.NoError(t, err)
	assert.True(t, m.tx.Committed())
	assert.Equal(t, payment.PaymeCancelledAfterPerform, res.Tx.State())
	assert.ErrorIs(t, res.StockReleaseErr, errPaymeDB)
}

func TestPaymeCancel_AfterShippingIsVetoedAndChangesNothing(t *testing.T) {
	for _, status := range []order.Status{order.StatusShipped, order.StatusDelivered} {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newPaymeCancel(t) // no Update, no Release
			o, tx := m.expectLocked(status, payment.PaymePerformed, paymeFresh)

			_, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
			assert.ErrorIs(t, err, payment.ErrCannotCancel)
			assert.False(t, m.tx.Committed())
			assert.Equal(t, status, o.Status())
			assert.Equal(t, payment.PaymePerformed, tx.State())
		})
	}
}

func TestPaymeCancel_AfterShippingRefundsWhenAnAdminAuthorizedIt(t *testing.T) {
	for _, status := range []order.Status{order.StatusShipped, order.StatusDelivered} {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newPaymeCancel(t) // no catalog EXPECT: the goods left, their stock stays out
			o, tx := m.expectLocked(status, payment.PaymePerformed, paymeFresh)
			authorizedAt := paymeNow.Add(-time.Minute)
			_, err := o.AuthorizeRefund(authorizedAt)
			require.NoError(t, err)
			m.orders.EXPECT().Update(paymeAny, o).Return(nil)
			m.payme.EXPECT().Update(paymeAny, tx).Return(nil)

			res, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
			require.NoError(t, err)
			assert.True(t, m.tx.Committed())
			assert.Equal(t, payment.PaymeCancelledAfterPerform, res.Tx.State())
			assert.Equal(t, order.StatusRefunded, o.Status())
			assert.Equal(t, authorizedAt, o.RefundAuthorizedAt())
			assert.False(t, o.ShippedAt().IsZero(), "the shipping history stays")
			assert.NoError(t, res.StockReleaseErr)
		})
	}
}

func TestPaymeCancel_PerformedTransactionOfAnUnpaidOrderIsInternal(t *testing.T) {
	// The data contradicts itself: not a veto Payme should act on.
	uc, m := newPaymeCancel(t)
	m.expectLocked(order.StatusPendingPayment, payment.PaymePerformed, paymeFresh)
	_, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
	require.Error(t, err)
	assert.NotErrorIs(t, err, payment.ErrCannotCancel)
	assert.NotErrorIs(t, err, payment.ErrBadState)
	assert.False(t, m.tx.Committed())
}

func TestPaymeCancel_ReplayAnswersTheStoredValuesAndKeepsTheFirstReason(t *testing.T) {
	for _, c := range []struct {
		state  payment.PaymeState
		status order.Status
		first  payment.Reason
	}{
		{payment.PaymeCancelled, order.StatusPendingPayment, payment.ReasonTransactionFailed},
		{payment.PaymeCancelledAfterPerform, order.StatusRefunded, payment.ReasonRefund},
	} {
		t.Run(string(c.status), func(t *testing.T) {
			uc, m := newPaymeCancel(t) // no Update, no Release
			m.expectLocked(c.status, c.state, paymeFresh)

			res, err := uc.Handle(context.Background(), paymeID, payment.ReasonUnknown)
			require.NoError(t, err)
			assert.False(t, res.Changed)
			assert.Equal(t, c.state, res.Tx.State())
			assert.Equal(t, paymeStoredCancel, res.Tx.CancelTime())
			assert.Equal(t, c.first, *res.Tx.Reason())
		})
	}
}

func TestPaymeCancel_UnknownID(t *testing.T) {
	uc, m := newPaymeCancel(t)
	m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
	_, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
	assert.ErrorIs(t, err, payment.ErrNotFound)
	assert.False(t, m.tx.Committed())
}

func TestPaymeCancel_ReasonOutsidePaymesSet(t *testing.T) {
	uc, _ := newPaymeCancel(t)
	for _, r := range []payment.Reason{0, 6, 9, 11, -1} {
		_, err := uc.Handle(context.Background(), paymeID, r)
		assert.ErrorIs(t, err, payment.ErrInvalidReason, "reason %d", r)
	}
}

func TestPaymeCancel_DatabaseFailuresAreInternalAndRollBack(t *testing.T) {
	steps := map[string]func(m *paymeMocks){
		"lock order": func(m *paymeMocks) {
			m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(nil, errPaymeDB)
		},
		"lock transaction": func(m *paymeMocks) {
			gomockInOrder(
				m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(paymeOrder(paymeOrderID, order.StatusPaid), nil),
				m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, errPaymeDB),
			)
		},
		"save order": func(m *paymeMocks) {
			m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
			m.orders.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
		"save transaction": func(m *paymeMocks) {
			m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)
			m.orders.EXPECT().Update(paymeAny, paymeAny).Return(nil)
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
	}
	for name, expect := range steps {
		t.Run(name, func(t *testing.T) {
			uc, m := newPaymeCancel(t) // no Release after a rollback
			expect(m)
			res, err := uc.Handle(context.Background(), paymeID, payment.ReasonRefund)
			assertPaymeInternal(t, err)
			assert.Nil(t, res.Tx)
			assert.False(t, m.tx.Committed())
		})
	}
}
