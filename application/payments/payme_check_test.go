package payments_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
)

func TestPaymeCheck_ReportsEveryStateAsStoredWithoutChangingIt(t *testing.T) {
	for _, state := range []payment.PaymeState{payment.PaymeCreated, payment.PaymePerformed,
		payment.PaymeCancelled, payment.PaymeCancelledAfterPerform} {
		m := newPaymeMocks(t) // no Update, no transaction
		uc := payments.NewPaymeCheckTransaction(m.payme)
		m.payme.EXPECT().GetByPaymeID(paymeAny, paymeID).Return(paymeStoredTx(state, paymeFresh), nil)

		got, err := uc.Handle(context.Background(), paymeID)
		require.NoError(t, err)
		assert.Equal(t, state, got.State())
		assert.Equal(t, paymeStoredCreate, got.CreateTime())
	}
}

func TestPaymeCheck_TimedOutIsReportedNotCancelled(t *testing.T) {
	m := newPaymeMocks(t) // no Update
	uc := payments.NewPaymeCheckTransaction(m.payme)
	m.payme.EXPECT().GetByPaymeID(paymeAny, paymeID).Return(paymeStoredTx(payment.PaymeCreated, paymeStale), nil)

	got, err := uc.Handle(context.Background(), paymeID)
	require.NoError(t, err)
	assert.Equal(t, payment.PaymeCreated, got.State())
	assert.Nil(t, got.Reason())
	assert.Zero(t, m.tx.Runs())
}

func TestPaymeCheck_UnknownIDAndFailures(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeCheckTransaction(m.payme)
	m.payme.EXPECT().GetByPaymeID(paymeAny, "unknown").Return(nil, payment.ErrNotFound)
	m.payme.EXPECT().GetByPaymeID(paymeAny, paymeID).Return(nil, errPaymeDB)

	_, err := uc.Handle(context.Background(), "unknown")
	assert.ErrorIs(t, err, payment.ErrNotFound)
	_, err = uc.Handle(context.Background(), paymeID)
	assertPaymeInternal(t, err)
}

func TestPaymeGetStatement_ListsTheInclusiveRange(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeGetStatement(m.payme)
	want := []*payment.PaymeTransaction{
		paymeStoredTxOf(paymeTxID, paymeID, paymeOrderID, payment.PaymeCancelled, 1000),
		paymeStoredTxOf(paymeNewTxID, paymeOtherPID, paymeOrderID, payment.PaymePerformed, 2000),
	}
	m.payme.EXPECT().ListByPaymeTime(paymeAny, int64(1000), int64(2000)).Return(want, nil)

	got, err := uc.Handle(context.Background(), 1000, 2000)
	require.NoError(t, err)
	assert.Equal(t, want, got)
}

func TestPaymeGetStatement_EmptyAndReversedPeriods(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeGetStatement(m.payme)
	m.payme.EXPECT().ListByPaymeTime(paymeAny, int64(5), int64(5)).Return([]*payment.PaymeTransaction{}, nil)

	got, err := uc.Handle(context.Background(), 5, 5)
	require.NoError(t, err)
	assert.Empty(t, got)

	got, err = uc.Handle(context.Background(), 6, 5) // no repository call
	require.NoError(t, err)
	assert.NotNil(t, got)
	assert.Empty(t, got)
}

func TestPaymeGetStatement_Failure(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeGetStatement(m.payme)
	m.payme.EXPECT().ListByPaymeTime(paymeAny, int64(1), int64(2)).Return(nil, errPaymeDB)
	_, err := uc.Handle(context.Background(), 1, 2)
	assertPaymeInternal(t, err)
}
