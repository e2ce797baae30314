package orders_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testsupport"
)

const ttl = 24 * time.Hour

var cutoff = now.Add(-ttl)

func newExpire(f fixture, tx ports.TxManager) *orders.ExpireOverdueOrders {
	return orders.NewExpireOverdueOrders(tx, f.orders, f.payme, f.clicks, f.catalog, testsupport.FixedClock(now), ttl)
}

func overdue(t *testing.T, n int) *order.Order {
	return pendingOrder(t, fmt.Sprintf("00000000-0000-4000-8000-%012d", n), now.Add(-ttl-time.Duration(n)*time.Minute))
}

func TestExpire_CancelsOverdueOrdersUnlessPaymeHoldsThem(t *testing.T) {
	f := newFixture(t)
	free, held := overdue(t, 1), overdue(t, 2)
	prepared := clickAttempt(t, free, payment.ClickPrepared)
	gomock.InOrder(
		f.orders.EXPECT().LockOverdue(inTx, cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return([]*order.Order{free, held}, nil),
		f.payme.EXPECT().HasLive(inTx, free.ID(), now).Return(false, nil),
		f.orders.EXPECT().Update(inTx, free).Return(nil),
		f.clicks.EXPECT().ListByOrderForUpdate(inTx, free.ID()).Return([]*payment.ClickTransaction{prepared}, nil),
		f.clicks.EXPECT().Update(inTx, prepared).Return(nil),
		f.payme.EXPECT().HasLive(inTx, held.ID(), now).Return(true, nil),
		// after the commit, and only for the cancelled one
		f.catalog.EXPECT().Release(live, free.ID(), user.Actor{}).Return(nil),
	)

	n, err := newExpire(f, testsupport.InlineTx{}).Handle(context.Background(), orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, order.StatusCancelled, free.Status())
	assert.Equal(t, now, free.CancelledAt())
	assert.Equal(t, payment.ClickCancelled, prepared.State())
	assert.Nil(t, prepared.ClickError(), "we ended it: no Click error is invented")
	assert.Equal(t, order.StatusPendingPayment, held.Status(), "a live Payme transaction holds it")
}

func TestExpire_NothingOverdue(t *testing.T) {
	f := newFixture(t)
	f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return(nil, nil)
	n, err := newExpire(f, testsupport.InlineTx{}).Handle(context.Background(), orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Zero(t, n)
}

func TestExpire_DrainsABacklogInBatches(t *testing.T) {
	f := newFixture(t)
	a, b, c := overdue(t, 1), overdue(t, 2), overdue(t, 3)
	gomock.InOrder(
		f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, ports.OverdueCursor{}, 2).Return([]*order.Order{a, b}, nil),
		f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, cursorAfter(b), 2).Return([]*order.Order{c}, nil),
	)
	f.payme.EXPECT().HasLive(gomock.Any(), gomock.Any(), now).Return(false, nil).Times(3)
	f.orders.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil).Times(3)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), gomock.Any()).Return(nil, nil).Times(3)
	for _, o := range []*order.Order{a, b, c} {
		f.catalog.EXPECT().Release(gomock.Any(), o.ID(), user.Actor{}).Return(nil)
	}
	n, err := newExpire(f, testsupport.InlineTx{}).WithBatch(2).Handle(context.Background(), orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 3, n)
}

// A full batch of orders that live Payme transactions hold must not end
// the sweep: the younger overdue orders behind it would keep their stock
// until Payme's 12 hours pass.
func TestExpire_GoesOnPastABatchHeldByPayme(t *testing.T) {
	f := newFixture(t)
	a, b, c := overdue(t, 3), overdue(t, 2), overdue(t, 1) // oldest first
	gomock.InOrder(
		f.orders.EXPECT().LockOverdue(inTx, cutoff, ports.OverdueCursor{}, 2).Return([]*order.Order{a, b}, nil),
		f.orders.EXPECT().LockOverdue(inTx, cutoff, cursorAfter(b), 2).Return([]*order.Order{c}, nil),
	)
	f.payme.EXPECT().HasLive(inTx, a.ID(), now).Return(true, nil)
	f.payme.EXPECT().HasLive(inTx, b.ID(), now).Return(true, nil)
	f.payme.EXPECT().HasLive(inTx, c.ID(), now).Return(false, nil)
	f.orders.EXPECT().Update(inTx, c).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(inTx, c.ID()).Return(nil, nil)
	f.catalog.EXPECT().Release(gomock.Any(), c.ID(), user.Actor{}).Return(nil)

	n, err := newExpire(f, testsupport.InlineTx{}).WithBatch(2).Handle(context.Background(), orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	assert.Equal(t, order.StatusCancelled, c.Status())
	assert.Equal(t, order.StatusPendingPayment, a.Status())
	assert.Equal(t, order.StatusPendingPayment, b.Status())
}

// A retried transaction starts again from the cursor it started from.
func TestExpire_RetriedBatchKeepsItsCursor(t *testing.T) {
	f := newFixture(t)
	a, b := overdue(t, 2), overdue(t, 1)
	gomock.InOrder(
		f.orders.EXPECT().LockOverdue(inTx, cutoff, ports.OverdueCursor{}, 1).Return([]*order.Order{a}, nil),
		f.orders.EXPECT().LockOverdue(inTx, cutoff, ports.OverdueCursor{}, 1).Return([]*order.Order{a}, nil), // the retry
		f.orders.EXPECT().LockOverdue(inTx, cutoff, cursorAfter(a), 1).Return([]*order.Order{b}, nil),
		f.orders.EXPECT().LockOverdue(inTx, cutoff, cursorAfter(b), 1).Return(nil, nil),
	)
	f.payme.EXPECT().HasLive(inTx, gomock.Any(), now).Return(true, nil).Times(3)

	n, err := newExpire(f, &retryOnceTx{}).WithBatch(1).Handle(context.Background(), orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Zero(t, n)
}

func cursorAfter(o *order.Order) ports.OverdueCursor {
	return ports.OverdueCursor{CreatedAt: o.CreatedAt(), ID: o.ID()}
}

// retryOnceTx runs fn twice the first time, as a transaction manager does
// after a serialization failure, then once per call.
type retryOnceTx struct{ retried bool }

func (m *retryOnceTx) WithinTx(ctx context.Context, fn func(context.Context) error) error {
	tx := testsupport.InlineTx{}
	if !m.retried {
		m.retried = true
		if err := tx.WithinTx(ctx, fn); err != nil {
			return err
		}
	}
	return tx.WithinTx(ctx, fn)
}

func TestExpire_FailedTransactionReleasesNothing(t *testing.T) {
	f := newFixture(t) // no Release
	boom := errors.New("serialization failure")
	o := overdue(t, 1)
	f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return([]*order.Order{o}, nil)
	f.payme.EXPECT().HasLive(gomock.Any(), o.ID(), now).Return(false, nil)
	f.orders.EXPECT().Update(gomock.Any(), o).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), o.ID()).Return(nil, nil)

	n, err := newExpire(f, testsupport.InlineTx{CommitErr: boom}).Handle(context.Background(), orders.ExpireInput{Now: now})
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, n)

	f = newFixture(t)
	o = overdue(t, 1) // the first attempt cancelled the last one in memory
	f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return([]*order.Order{o}, nil)
	f.payme.EXPECT().HasLive(gomock.Any(), o.ID(), now).Return(false, boom)
	n, err = newExpire(f, testsupport.InlineTx{}).Handle(context.Background(), orders.ExpireInput{Now: now})
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, n)
}

func TestExpire_FailedReleaseIsReportedAndTheOthersStillReleased(t *testing.T) {
	f := newFixture(t)
	a, b := overdue(t, 1), overdue(t, 2)
	f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return([]*order.Order{a, b}, nil)
	f.payme.EXPECT().HasLive(gomock.Any(), gomock.Any(), now).Return(false, nil).Times(2)
	f.orders.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil).Times(2)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), gomock.Any()).Return(nil, nil).Times(2)
	f.catalog.EXPECT().Release(gomock.Any(), a.ID(), user.Actor{}).Return(fmt.Errorf("release: %w", domain.ErrUpstreamUnavailable))
	f.catalog.EXPECT().Release(gomock.Any(), b.ID(), user.Actor{}).Return(nil)

	n, err := newExpire(f, testsupport.InlineTx{}).Handle(context.Background(), orders.ExpireInput{Now: now})
	assert.Equal(t, 2, n)
	assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Contains(t, err.Error(), a.ID())
}

func TestExpire_ReleaseOutlivesShutdownAndIsBounded(t *testing.T) {
	f := newFixture(t)
	ctx, shutDown := context.WithCancel(context.Background())
	o := overdue(t, 1)
	f.orders.EXPECT().LockOverdue(inTx, cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return([]*order.Order{o}, nil)
	f.payme.EXPECT().HasLive(inTx, o.ID(), now).Return(false, nil)
	f.orders.EXPECT().Update(inTx, o).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(inTx, o.ID()).DoAndReturn(func(context.Context, string) ([]*payment.ClickTransaction, error) {
		shutDown() // the service stops while the batch commits
		return nil, nil
	})
	f.catalog.EXPECT().Release(detachedBounded, o.ID(), user.Actor{}).Return(nil)

	n, err := newExpire(f, testsupport.InlineTx{}).Handle(ctx, orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}

// The expiry job is Sweep under the shared runner (jobs.Run): a sweep at
// start-up and then one per tick, at the clock's now, until the service
// stops.
func TestExpirySweep_RunsAtOnceThenEveryTickUntilCancelled(t *testing.T) {
	f := newFixture(t)
	f.orders.EXPECT().LockOverdue(gomock.Any(), cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return(nil, nil).Times(3)

	job := testsupport.StartJob(t, newExpire(f, testsupport.InlineTx{}).Sweep, jobs.Config{})
	assert.Equal(t, testsupport.JobReport{}, job.Next(t))
	for range 2 {
		job.Ticker.Tick(t)
		assert.Equal(t, testsupport.JobReport{}, job.Next(t))
	}
	require.NoError(t, job.Stop(t))
}

func TestExpirySweep_ReportsErrors(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("db down")
	f.orders.EXPECT().LockOverdue(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, boom)

	job := testsupport.StartJob(t, newExpire(f, testsupport.InlineTx{}).Sweep, jobs.Config{})
	assert.ErrorIs(t, job.Next(t).Err, boom)
	require.NoError(t, job.Stop(t))
}

func TestExpirySweep_RefusesANonPositiveInterval(t *testing.T) {
	f := newFixture(t) // no sweep
	assert.Error(t, jobs.Run(context.Background(), newExpire(f, testsupport.InlineTx{}).Sweep, jobs.Config{Interval: 0}))
}
