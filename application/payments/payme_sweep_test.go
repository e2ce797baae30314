package payments_test

import (
	"context"
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/test/testsupport"
)

func paymeTimedOut(n int) []*payment.PaymeTransaction {
	out := make([]*payment.PaymeTransaction, n)
	for i := range out {
		out[i] = paymeStoredTxOf(fmt.Sprintf("tx-%d", i), fmt.Sprintf("pid-%d", i), paymeOrderID, payment.PaymeCreated, paymeStale-int64(i))
	}
	return out
}

func TestPaymeSweep_CancelsTimedOutTransactionsWithReasonFour(t *testing.T) {
	m := newPaymeMocks(t) // no order is touched
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 10)
	txs := paymeTimedOut(3)
	m.payme.EXPECT().LockTimedOut(paymeAny, paymeNow, 10).Return(txs, nil)
	m.payme.EXPECT().Update(paymeAny, paymeAny).Times(3).Return(nil)

	n, err := uc.Handle(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 3, n)
	assert.True(t, m.tx.Committed())
	for _, tx := range txs {
		assert.Equal(t, payment.PaymeCancelled, tx.State())
		assert.Equal(t, payment.ReasonTimeout, *tx.Reason())
		assert.Equal(t, paymeNow.UnixMilli(), tx.CancelTime())
	}
}

func TestPaymeSweep_SkipsAnythingNotTimedOut(t *testing.T) {
	m := newPaymeMocks(t) // no Update
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 0)
	m.payme.EXPECT().LockTimedOut(paymeAny, paymeNow, payments.PaymeSweepBatch).Return(
		[]*payment.PaymeTransaction{paymeStoredTx(payment.PaymeCreated, paymeEdge)}, nil)

	n, err := uc.Handle(context.Background())
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestPaymeSweep_FailureRollsTheBatchBack(t *testing.T) {
	t.Run("lock", func(t *testing.T) {
		m := newPaymeMocks(t)
		uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 10)
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(nil, errPaymeDB)
		n, err := uc.Handle(context.Background())
		assertPaymeInternal(t, err)
		assert.Zero(t, n)
	})
	t.Run("update", func(t *testing.T) {
		m := newPaymeMocks(t)
		uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 10)
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(paymeTimedOut(2), nil)
		gomockInOrder(
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(nil),
			m.payme.EXPECT().Update(paymeAny, paymeAny).Return(errPaymeDB),
		)
		n, err := uc.Handle(context.Background())
		assertPaymeInternal(t, err)
		assert.Zero(t, n, "the batch rolled back: nothing was cancelled")
		assert.False(t, m.tx.Committed())
	})
}

func TestPaymeSweep_DrainRunsBatchesUntilOneIsShort(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 2)
	gomockInOrder(
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeNow, 2).Return(paymeTimedOut(2), nil),
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeNow, 2).Return(paymeTimedOut(2), nil),
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeNow, 2).Return(paymeTimedOut(1), nil),
	)
	m.payme.EXPECT().Update(paymeAny, paymeAny).Times(5).Return(nil)

	n, err := uc.Drain(context.Background())
	require.NoError(t, err)
	assert.Equal(t, 5, n)
	assert.Equal(t, 3, m.tx.Runs())
}

func TestPaymeSweep_DrainStopsAtTheFirstFailure(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 2)
	gomockInOrder(
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(paymeTimedOut(2), nil),
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(nil, errPaymeDB),
	)
	m.payme.EXPECT().Update(paymeAny, paymeAny).Times(2).Return(nil)

	n, err := uc.Drain(context.Background())
	assertPaymeInternal(t, err)
	assert.Equal(t, 2, n)
}

// The Payme timeout sweep is Drain under the shared runner (jobs.Run): a
// round at start-up and then one per tick, failures reported, until the
// service stops.
func TestPaymeSweep_DrainsAtOnceThenEveryTickUntilCancelled(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 10)
	m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(nil, nil).Times(3)

	job := testsupport.StartJob(t, uc.Drain, jobs.Config{})
	require.NoError(t, job.Next(t).Err)
	for range 2 {
		job.Ticker.Tick(t)
		require.NoError(t, job.Next(t).Err)
	}
	require.NoError(t, job.Stop(t))
}

func TestPaymeSweep_ReportsFailuresAndKeepsGoing(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 10)
	gomockInOrder(
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(nil, errPaymeDB),
		m.payme.EXPECT().LockTimedOut(paymeAny, paymeAny, paymeAny).Return(nil, nil),
	)
	job := testsupport.StartJob(t, uc.Drain, jobs.Config{})
	assert.ErrorIs(t, job.Next(t).Err, errPaymeDB)
	job.Ticker.Tick(t)
	assert.NoError(t, job.Next(t).Err)
	require.NoError(t, job.Stop(t))
}

func TestPaymeSweep_NoIntervalNoSweep(t *testing.T) {
	m := newPaymeMocks(t) // no LockTimedOut
	uc := payments.NewPaymeSweepTimeouts(m.tx, m.payme, m.clock, 10)
	assert.Error(t, jobs.Run(context.Background(), uc.Drain, jobs.Config{Interval: 0}))
}
