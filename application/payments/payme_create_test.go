package payments_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/test/testsupport"
)

func newPaymeCreate(t *testing.T) (*payments.PaymeCreateTransaction, *paymeMocks) {
	m := newPaymeMocks(t)
	return payments.NewPaymeCreateTransaction(m.tx, m.orders, m.payme, testsupport.FixedID(paymeNewTxID), m.clock), m
}

func paymeCreateInput(paymeTime int64) payments.PaymeCreateInput {
	return payments.PaymeCreateInput{PaymeID: paymeID, Time: paymeTime, Amount: paymeTotal,
		Account: paymeAccount(paymeOrderID)}
}

// expectPaymeOrderLocked: the order row is locked first, always.
func (m *paymeMocks) expectOrderLocked(status order.Status) *order.Order {
	o := paymeOrder(paymeOrderID, status)
	m.orders.EXPECT().GetForUpdate(paymeAny, paymeOrderID).Return(o, nil)
	return o
}

func TestPaymeCreate_NewTransactionIsStoredInStateOne(t *testing.T) {
	uc, m := newPaymeCreate(t)
	m.expectOrderLocked(order.StatusPendingPayment)
	m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
	m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return(nil, nil)
	var inserted *payment.PaymeTransaction
	m.payme.EXPECT().Insert(paymeAny, paymeAny).DoAndReturn(paymeSaved(&inserted))

	account := map[string]string{"order_id": paymeOrderID, "extra": "kept verbatim"}
	in := paymeCreateInput(paymeFresh)
	in.Account = account
	res, err := uc.Handle(context.Background(), in)
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Same(t, inserted, res.Tx)
	assert.True(t, m.tx.Committed())

	assert.Equal(t, paymeNewTxID, inserted.ID())
	assert.Equal(t, paymeID, inserted.PaymeID())
	assert.Equal(t, paymeOrderID, inserted.OrderID())
	assert.Equal(t, paymeFresh, inserted.PaymeTime())
	assert.Equal(t, paymeTotal, inserted.Amount())
	assert.Equal(t, account, inserted.Account())
	assert.Equal(t, payment.PaymeCreated, inserted.State())
	assert.Equal(t, paymeNow.UnixMilli(), inserted.CreateTime(), "create_time is ours, now")
	assert.Zero(t, inserted.PerformTime())
	assert.Zero(t, inserted.CancelTime())
	assert.Nil(t, inserted.Reason())
}

func TestPaymeCreate_ExactlyTwelveHoursOldIsStillInTime(t *testing.T) {
	uc, m := newPaymeCreate(t)
	m.expectOrderLocked(order.StatusPendingPayment)
	m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
	m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return(nil, nil)
	m.payme.EXPECT().Insert(paymeAny, paymeAny).Return(nil)

	res, err := uc.Handle(context.Background(), paymeCreateInput(paymeEdge))
	require.NoError(t, err)
	assert.Equal(t, payment.PaymeCreated, res.Tx.State())
}

func TestPaymeCreate_ReplayOfAStateOneTransactionAnswersTheStoredValues(t *testing.T) {
	for name, paymeTime := range map[string]int64{"fresh": paymeFresh, "exactly 12h old": paymeEdge} {
		t.Run(name, func(t *testing.T) {
			uc, m := newPaymeCreate(t) // no Insert, no Update
			m.expectOrderLocked(order.StatusPendingPayment)
			stored := paymeStoredTx(payment.PaymeCreated, paymeTime)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(stored, nil)

			res, err := uc.Handle(context.Background(), paymeCreateInput(paymeTime))
			require.NoError(t, err)
			assert.False(t, res.Changed)
			assert.Equal(t, paymeTxID, res.Tx.ID())
			assert.Equal(t, paymeStoredCreate, res.Tx.CreateTime(), "the stored create_time, never a fresh one")
			assert.Equal(t, payment.PaymeCreated, res.Tx.State())
		})
	}
}

func TestPaymeCreate_ReplayPastTwelveHoursCancelsWithReasonFourAndCommits(t *testing.T) {
	uc, m := newPaymeCreate(t)
	m.expectOrderLocked(order.StatusPendingPayment)
	m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(paymeStoredTx(payment.PaymeCreated, paymeStale), nil)
	var saved *payment.PaymeTransaction
	m.payme.EXPECT().Update(paymeAny, paymeAny).DoAndReturn(paymeSaved(&saved))

	_, err := uc.Handle(context.Background(), paymeCreateInput(paymeStale))
	assert.ErrorIs(t, err, payment.ErrTimedOut)
	assert.True(t, m.tx.Committed(), "the lazy cancel must commit although the answer is an error")
	require.NotNil(t, saved)
	assert.Equal(t, payment.PaymeCancelled, saved.State())
	require.NotNil(t, saved.Reason())
	assert.Equal(t, payment.ReasonTimeout, *saved.Reason())
	assert.Equal(t, paymeNow.UnixMilli(), saved.CancelTime())
}

func TestPaymeCreate_KnownIDInAnotherStateIsRefused(t *testing.T) {
	for _, state := range []payment.PaymeState{payment.PaymePerformed, payment.PaymeCancelled, payment.PaymeCancelledAfterPerform} {
		uc, m := newPaymeCreate(t) // no Insert, no Update
		// A performed transaction means a paid order; the replay check comes first anyway.
		m.expectOrderLocked(order.StatusPendingPayment)
		m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(paymeStoredTx(state, paymeFresh), nil)

		_, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
		assert.ErrorIs(t, err, payment.ErrBadState, "state %d", state)
		assert.False(t, m.tx.Committed())
	}
}

func TestPaymeCreate_KnownIDOfAnotherOrderIsRefused(t *testing.T) {
	uc, m := newPaymeCreate(t)
	m.expectOrderLocked(order.StatusPendingPayment)
	m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).
		Return(paymeStoredTxOf(paymeTxID, paymeID, paymeOtherID, payment.PaymeCreated, paymeFresh), nil)

	_, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
	assert.ErrorIs(t, err, payment.ErrBadState)
}

func TestPaymeCreate_AccountWithoutAnOrderOfOurs(t *testing.T) {
	t.Run("not a uuid", func(t *testing.T) {
		uc, m := newPaymeCreate(t)
		in := paymeCreateInput(paymeFresh)
		in.Account = map[string]string{"order_id": "1001"}
		_, err := uc.Handle(context.Background(), in)
		assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
		assert.Zero(t, m.tx.Runs(), "nothing asked of the database")
	})
	t.Run("missing", func(t *testing.T) {
		uc, _ := newPaymeCreate(t)
		in := paymeCreateInput(paymeFresh)
		in.Account = map[string]string{}
		_, err := uc.Handle(context.Background(), in)
		assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
	})
	t.Run("unknown", func(t *testing.T) {
		uc, m := newPaymeCreate(t)
		m.orders.EXPECT().GetForUpdate(paymeAny, paymeOrderID).Return(nil, order.ErrNotFound)
		_, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
		assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
	})
}

func TestPaymeCreate_AmountOtherThanTheTotal(t *testing.T) {
	uc, m := newPaymeCreate(t) // not even the Payme id is looked up
	m.expectOrderLocked(order.StatusPendingPayment)
	in := paymeCreateInput(paymeFresh)
	in.Amount = money.MustTiyin(paymeTotal.Tiyin() - 1)
	_, err := uc.Handle(context.Background(), in)
	assert.ErrorIs(t, err, payment.ErrAmountMismatch)
}

func TestPaymeCreate_NewIDForAnOrderThatIsNotPendingPayment(t *testing.T) {
	for _, status := range paymeNotPayable {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newPaymeCreate(t) // no Insert
			m.expectOrderLocked(status)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
			_, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
			assert.ErrorIs(t, err, order.ErrNotPayable)
		})
	}
}

func TestPaymeCreate_NewIDWhileAnotherLiveTransactionHoldsTheOrder(t *testing.T) {
	for name, other := range map[string]int64{"fresh": paymeFresh, "exactly 12h old": paymeEdge} {
		t.Run(name, func(t *testing.T) {
			uc, m := newPaymeCreate(t) // no Insert, no Update
			m.expectOrderLocked(order.StatusPendingPayment)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
			m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return([]*payment.PaymeTransaction{
				paymeStoredTxOf(paymeTxID, paymeOtherPID, paymeOrderID, payment.PaymeCreated, other)}, nil)

			_, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
			assert.ErrorIs(t, err, payment.ErrOrderHeld)
		})
	}
}

func TestPaymeCreate_TimedOutHolderIsCancelledAndTheNewOneCreated(t *testing.T) {
	uc, m := newPaymeCreate(t)
	m.expectOrderLocked(order.StatusPendingPayment)
	m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
	holder := paymeStoredTxOf(paymeTxID, paymeOtherPID, paymeOrderID, payment.PaymeCreated, paymeStale)
	m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return([]*payment.PaymeTransaction{holder}, nil)
	var cancelled, inserted *payment.PaymeTransaction
	gomockInOrder(
		m.payme.EXPECT().Update(paymeAny, holder).DoAndReturn(paymeSaved(&cancelled)),
		m.payme.EXPECT().Insert(paymeAny, paymeAny).DoAndReturn(paymeSaved(&inserted)),
	)

	res, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
	require.NoError(t, err)
	assert.True(t, res.Changed)
	assert.Equal(t, payment.PaymeCancelled, cancelled.State())
	assert.Equal(t, payment.ReasonTimeout, *cancelled.Reason())
	assert.Equal(t, paymeID, inserted.PaymeID())
	assert.Equal(t, payment.PaymeCreated, inserted.State())
}

func TestPaymeCreate_DatabaseHasTheLastWordOnOneLiveTransaction(t *testing.T) {
	for _, sentinel := range []error{payment.ErrOrderHeld, payment.ErrDuplicate} {
		uc, m := newPaymeCreate(t)
		m.expectOrderLocked(order.StatusPendingPayment)
		m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
		m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return(nil, nil)
		m.payme.EXPECT().Insert(paymeAny, paymeAny).Return(sentinel)

		_, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
		assert.ErrorIs(t, err, sentinel)
		assert.False(t, m.tx.Committed())
	}
}

func TestPaymeCreate_NewIDAlreadyPastTwelveHoursIsRefusedAndNotStored(t *testing.T) {
	uc, m := newPaymeCreate(t)
	m.expectOrderLocked(order.StatusPendingPayment)
	m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
	m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return(nil, nil)
	// No Insert expected: a create that fails is not part of GetStatement.

	_, err := uc.Handle(context.Background(), paymeCreateInput(paymeStale))
	assert.ErrorIs(t, err, payment.ErrTimedOut)
	assert.False(t, m.tx.Committed())
}

func TestPaymeCreate_DatabaseFailuresAreInternalAndRollBack(t *testing.T) {
	steps := map[string]func(m *paymeMocks){
		"lock order": func(m *paymeMocks) {
			m.orders.EXPECT().GetForUpdate(paymeAny, paymeOrderID).Return(nil, errPaymeDB)
		},
		"find payme id": func(m *paymeMocks) {
			m.expectOrderLocked(order.StatusPendingPayment)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, errPaymeDB)
		},
		"live transactions": func(m *paymeMocks) {
			m.expectOrderLocked(order.StatusPendingPayment)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
			m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return(nil, errPaymeDB)
		},
		"cancel timed-out holder": func(m *paymeMocks) {
			m.expectOrderLocked(order.StatusPendingPayment)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
			m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return([]*payment.PaymeTransaction{
				paymeStoredTxOf(paymeTxID, paymeOtherPID, paymeOrderID, payment.PaymeCreated, paymeStale)}, nil)
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
		"insert": func(m *paymeMocks) {
			m.expectOrderLocked(order.StatusPendingPayment)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(nil, payment.ErrNotFound)
			m.payme.EXPECT().ListHoldersForUpdate(paymeAny, paymeOrderID).Return(nil, nil)
			m.payme.EXPECT().Insert(paymeAny, paymeAny).Return(errPaymeDB)
		},
		"save lazy timeout": func(m *paymeMocks) {
			m.expectOrderLocked(order.StatusPendingPayment)
			m.payme.EXPECT().GetByPaymeIDForUpdate(paymeAny, paymeID).Return(paymeStoredTx(payment.PaymeCreated, paymeStale), nil)
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB)
		},
	}
	for name, expect := range steps {
		t.Run(name, func(t *testing.T) {
			uc, m := newPaymeCreate(t)
			expect(m)
			res, err := uc.Handle(context.Background(), paymeCreateInput(paymeFresh))
			assertPaymeInternal(t, err)
			assert.Nil(t, res.Tx)
			assert.False(t, m.tx.Committed())
		})
	}
}
