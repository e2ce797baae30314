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
)

func newPaymePerform(t *testing.T) (*payments.PaymePerformTransaction, *paymeMocks) {
	m := newPaymeMocks(t)
	return payments.NewPaymePerformTransaction(m.tx, m.orders, m.payme, m.clicks, m.settlements, m.clock), m
}

// expectLocked: the order locked by the Payme id, then the transaction's
// lock, in that order; no plain read of the transaction before them.
func (m *paymeMocks) expectLocked(status order.Status, state payment.PaymeState, paymeTime int64) (*order.Order, *payment.PaymeTransaction) {
	o := paymeOrder(paymeOrderID, status)
	t := paymeStoredTx(state, paymeTime)
	gomockInOrder(
		m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(o, nil),
		m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(t, nil),
	)
	return o, t
}

func TestPaymePerform_PaysTheOrderInTheSameTransaction(t *testing.T) {
	uc, m := newPaymePerform(t)
	o, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
	m.settlements.EXPECT().Record(paymeAny, paymeOrderID, payment.ProviderPayme, paymeTxID).Return(nil)
	m.orders.EXPECT().Update(paymeAny, o).Return(nil)
	m.payme.EXPECT().Update(paymeAny, tx).Return(nil)
	m.clicks.EXPECT().ListByOrderForUpdate(paymeAny, paymeOrderID).Return(nil, nil)

	res, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.True(t, m.tx.Committed())
	assert.Equal(t, payment.PaymePerformed, res.Tx.State())
	assert.Equal(t, paymeNow.UnixMilli(), res.Tx.PerformTime())
	assert.Equal(t, paymeStoredCreate, res.Tx.CreateTime())
	assert.Equal(t, order.StatusPaid, o.Status())
	assert.Equal(t, paymeNow, o.PaidAt())
}

// The order is paid: its prepared Click attempts wait for nothing now and
// are ended in the same transaction, without a Click error (cancel_reason
// null); attempts that ended before are left alone.
func TestPaymePerform_EndsThePreparedClickAttemptsOfTheOrder(t *testing.T) {
	uc, m := newPaymePerform(t)
	o, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
	prepared := payment.RestoreClickTransaction("9bf31c7f-f062-436a-8f2e-a2b3c4d5e6f7", 7, 2_100_000_001, 3_100_000_001, 12345,
		paymeOrderID, paymeTotal, "1", payment.ClickPrepared, nil, paymeNow.Add(-time.Hour), time.Time{}, time.Time{})
	e := -5017
	cancelled := payment.RestoreClickTransaction("c74d97b0-1eae-457e-b0a1-b2c3d4e5f6a7", 8, 2_100_000_002, 3_100_000_002, 12345,
		paymeOrderID, paymeTotal, "1", payment.ClickCancelled, &e, paymeNow.Add(-time.Hour), time.Time{}, paymeNow.Add(-time.Minute))
	m.settlements.EXPECT().Record(paymeAny, paymeOrderID, payment.ProviderPayme, paymeTxID).Return(nil)
	m.orders.EXPECT().Update(paymeAny, o).Return(nil)
	m.payme.EXPECT().Update(paymeAny, tx).Return(nil)
	m.clicks.EXPECT().ListByOrderForUpdate(paymeAny, paymeOrderID).DoAndReturn(
		func(context.Context, string) ([]*payment.ClickTransaction, error) {
			assert.False(t, m.tx.Committed(), "inside the transaction that pays the order")
			return []*payment.ClickTransaction{cancelled, prepared}, nil
		})
	m.clicks.EXPECT().Update(paymeAny, prepared).Return(nil) // only the prepared one

	_, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.True(t, m.tx.Committed())
	assert.Equal(t, payment.ClickCancelled, prepared.State())
	assert.Nil(t, prepared.ClickError(), "we ended it; Click sent no error")
	assert.Equal(t, paymeNow, prepared.CancelledAt())
	assert.Equal(t, -5017, *cancelled.ClickError())
}

func TestPaymePerform_ExactlyTwelveHoursOldIsStillInTime(t *testing.T) {
	uc, m := newPaymePerform(t)
	o, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeEdge)
	m.settlements.EXPECT().Record(paymeAny, paymeOrderID, payment.ProviderPayme, paymeTxID).Return(nil)
	m.orders.EXPECT().Update(paymeAny, o).Return(nil)
	m.payme.EXPECT().Update(paymeAny, tx).Return(nil)
	m.clicks.EXPECT().ListByOrderForUpdate(paymeAny, paymeOrderID).Return(nil, nil)

	res, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.Equal(t, payment.PaymePerformed, res.Tx.State())
}

func TestPaymePerform_ReplayAnswersTheStoredPerformTime(t *testing.T) {
	uc, m := newPaymePerform(t) // no Record, no Update
	m.expectLocked(order.StatusPaid, payment.PaymePerformed, paymeFresh)

	res, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.False(t, res.Changed)
	assert.Equal(t, paymeStoredPerform, res.Tx.PerformTime())
}

func TestPaymePerform_PastTwelveHoursCancelsWithReasonFourAndCommits(t *testing.T) {
	uc, m := newPaymePerform(t) // the order is not touched
	_, tx := m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeStale)
	m.payme.EXPECT().Update(paymeAny, tx).Return(nil)

	_, err := uc.Handle(context.Background(), paymeID)
	assert.ErrorIs(t, err, payment.ErrTimedOut)
	assert.True(t, m.tx.Committed())
	assert.Equal(t, payment.PaymeCancelled, tx.State())
	assert.Equal(t, payment.ReasonTimeout, *tx.Reason())
	assert.Equal(t, paymeNow.UnixMilli(), tx.CancelTime())
}

func TestPaymePerform_CancelledTransactionIsRefused(t *testing.T) {
	for _, state := range []payment.PaymeState{payment.PaymeCancelled, payment.PaymeCancelledAfterPerform} {
		uc, m := newPaymePerform(t)
		status := order.StatusPendingPayment
		if state == payment.PaymeCancelledAfterPerform {
			status = order.StatusRefunded
		}
		m.expectLocked(status, state, paymeFresh)
		_, err := uc.Handle(context.Background(), paymeID)
		assert.ErrorIs(t, err, payment.ErrBadState, "state %d", state)
		assert.False(t, m.tx.Committed())
	}
}

func TestPaymePerform_UnknownID(t *testing.T) {
	uc, m := newPaymePerform(t)
	m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
	_, err := uc.Handle(context.Background(), paymeID)
	assert.ErrorIs(t, err, payment.ErrNotFound)
	assert.False(t, m.tx.Committed())
}

func TestPaymePerform_OrderNoLongerPayableChangesNothing(t *testing.T) {
	// Cancelled by its owner, or paid through Click meanwhile.
	for _, status := range paymeNotPayable {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newPaymePerform(t) // no Record, no Update
			_, tx := m.expectLocked(status, payment.PaymeCreated, paymeFresh)
			_, err := uc.Handle(context.Background(), paymeID)
			assert.ErrorIs(t, err, order.ErrNotPayable)
			assert.False(t, m.tx.Committed())
			_ = tx
		})
	}
}

func TestPaymePerform_SettlementTakenByAnotherProviderRollsBack(t *testing.T) {
	uc, m := newPaymePerform(t)
	m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
	m.settlements.EXPECT().Record(paymeAny, paymeOrderID, payment.ProviderPayme, paymeTxID).Return(payment.ErrAlreadyPaid)

	_, err := uc.Handle(context.Background(), paymeID)
	assert.ErrorIs(t, err, payment.ErrAlreadyPaid)
	assert.False(t, m.tx.Committed())
}

func TestPaymePerform_DatabaseFailuresAreInternalAndRollBack(t *testing.T) {
	steps := map[string]func(m *paymeMocks){
		"lock order": func(m *paymeMocks) {
			m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(nil, errPaymeDB)
		},
		"lock transaction": func(m *paymeMocks) {
			gomockInOrder(
				m.payme.EXPECT().LockOrderOf(paymeAny, paymeID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil),
				m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, errPaymeDB),
			)
		},
		"settlement": func(m *paymeMocks) {
			m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
			m.settlements.EXPECT().Record(paymeAny, paymeOrderID, payment.ProviderPayme, paymeTxID).Return(errPaymeDB)
		},
		"save order": func(m *paymeMocks) {
			m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
			m.settlements.EXPECT().Record(paymeAny, paymeAny, paymeAny, paymeAny).Return(nil)
			m.orders.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
		"save transaction": func(m *paymeMocks) {
			m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
			m.settlements.EXPECT().Record(paymeAny, paymeAny, paymeAny, paymeAny).Return(nil)
			m.orders.EXPECT().Update(paymeAny, paymeAny).Return(nil)
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
		"end click attempts": func(m *paymeMocks) {
			m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeFresh)
			m.settlements.EXPECT().Record(paymeAny, paymeAny, paymeAny, paymeAny).Return(nil)
			m.orders.EXPECT().Update(paymeAny, paymeAny).Return(nil)
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(nil)
			m.clicks.EXPECT().ListByOrderForUpdate(paymeAny, paymeOrderID).Return(nil, errPaymeDB)
		},
		"save lazy timeout": func(m *paymeMocks) {
			m.expectLocked(order.StatusPendingPayment, payment.PaymeCreated, paymeStale)
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
	}
	for name, expect := range steps {
		t.Run(name, func(t *testing.T) {
			uc, m := newPaymePerform(t)
			expect(m)
			res, err := uc.Handle(context.Background(), paymeID)
			assertPaymeInternal(t, err)
			assert.Nil(t, res.Tx)
			assert.False(t, m.tx.Committed())
		})
	}
}
