package postgres_test

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var (
	_ ports.PaymeRepository = (*postgres.PaymeRepo)(nil)
	_ ports.ClickRepository = (*postgres.ClickRepo)(nil)
	_ ports.Settlements     = (*postgres.SettlementRepo)(nil)
)

const paymeT0 = int64(1_748_770_200_000) // 2025-06-01 09:30 UTC in ms

func TestPaymeInsertGetUpdate(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	tx := newPayme(t, o, paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	got, err := repo.GetByPaymeID(c, tx.PaymeID())
	require.NoError(t, err)
	assert.Equal(t, tx.ID(), got.ID())
	assert.Equal(t, tx.PaymeID(), got.PaymeID())
	assert.Equal(t, o.ID(), got.OrderID())
	assert.Equal(t, paymeT0, got.PaymeTime())
	assert.Equal(t, o.Total(), got.Amount())
	assert.Equal(t, map[string]string{"order_id": o.ID()}, got.Account())
	assert.Equal(t, payment.PaymeCreated, got.State())
	assert.Nil(t, got.Reason())
	assert.Equal(t, t0.UnixMilli(), got.CreateTime())
	assert.Zero(t, got.PerformTime())
	assert.Zero(t, got.CancelTime())

	changed, err := got.Perform(t0.Add(time.Minute))
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, repo.Update(c, got))
	performed, err := repo.GetByPaymeID(c, tx.PaymeID())
	require.NoError(t, err)
	assert.Equal(t, payment.PaymePerformed, performed.State())
	assert.Equal(t, t0.Add(time.Minute).UnixMilli(), performed.PerformTime())

	changed, err = performed.Cancel(payment.ReasonRefund, true, t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.True(t, changed)
	require.NoError(t, repo.Update(c, performed))
	refunded, err := repo.GetByPaymeID(c, tx.PaymeID())
	require.NoError(t, err)
	assert.Equal(t, payment.PaymeCancelledAfterPerform, refunded.State())
	require.NotNil(t, refunded.Reason())
	assert.Equal(t, payment.ReasonRefund, *refunded.Reason())
	assert.Equal(t, t0.Add(2*time.Minute).UnixMilli(), refunded.CancelTime())
	assert.Equal(t, t0.Add(time.Minute).UnixMilli(), refunded.PerformTime())
}

func TestPaymeNotFoundAndDuplicates(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	_, err := repo.GetByPaymeID(c, "nope")
	assert.ErrorIs(t, err, payment.ErrNotFound)
	assert.ErrorIs(t, err, domain.ErrNotFound)
	_, err = locking(t, db, func(c context.Context) (*payment.PaymeTransaction, error) {
		return repo.GetByPaymeIDForUpdate(c, "nope")
	})
	assert.ErrorIs(t, err, payment.ErrNotFound)

	o := newOrder(t, db, someUser(t, db).ID(), t0)
	ghost := newPayme(t, o, paymeT0)
	assert.ErrorIs(t, repo.Update(c, ghost), payment.ErrNotFound)

	tx := newPayme(t, o, paymeT0)
	require.NoError(t, repo.Insert(c, tx))
	same := payment.RestorePaymeTransaction(uuid.NewString(), tx.PaymeID(), o.ID(), paymeT0, o.Total(), nil,
		payment.PaymeCancelled, ptr(payment.ReasonTimeout), paymeT0, 0, paymeT0+1)
	assert.ErrorIs(t, repo.Insert(c, same), payment.ErrDuplicate, "a Payme id is stored once")

	// A transaction for an order that does not exist.
	orphan, err := payment.NewPaymeTransaction(uuid.NewString(), "orphan", paymeT0, uuid.NewString(), money.MustTiyin(100), nil, t0)
	require.NoError(t, err)
	assert.ErrorIs(t, repo.Insert(c, orphan), order.ErrNotFound)
}

func TestPaymeOneLiveTransactionPerOrder(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)

	first := newPayme(t, o, paymeT0)
	require.NoError(t, repo.Insert(c, first))
	second := newPayme(t, o, paymeT0+1000)
	err := repo.Insert(c, second)
	assert.ErrorIs(t, err, payment.ErrOrderHeld, "the database refuses a second live transaction")
	assert.ErrorIs(t, err, domain.ErrConflict)

	// Performed still holds the order.
	_, err = first.Perform(t0)
	require.NoError(t, err)
	require.NoError(t, repo.Update(c, first))
	assert.ErrorIs(t, repo.Insert(c, second), payment.ErrOrderHeld)

	// Cancelled (refund) releases it: a new live transaction is accepted.
	_, err = first.Cancel(payment.ReasonRefund, true, t0.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, repo.Update(c, first))
	require.NoError(t, repo.Insert(c, second))

	// Other orders are not affected.
	other := newOrder(t, db, someUser(t, db).ID(), t0)
	require.NoError(t, repo.Insert(c, newPayme(t, other, paymeT0)))

	// Concurrent inserts for one order: exactly one wins even without locks.
	race := newOrder(t, db, someUser(t, db).ID(), t0)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = repo.Insert(context.Background(), newPayme(t, race, paymeT0+int64(i)))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, payment.ErrOrderHeld)
		}
	}
	assert.Equal(t, 1, ok)

	// Updating a cancelled transaction back to live while another is live: refused too.
	all, err := repo.ListByOrder(c, o.ID())
	require.NoError(t, err)
	require.Len(t, all, 2)
	revived := payment.RestorePaymeTransaction(first.ID(), first.PaymeID(), o.ID(), first.PaymeTime(), first.Amount(),
		first.Account(), payment.PaymeCreated, nil, first.CreateTime(), 0, 0)
	assert.ErrorIs(t, repo.Update(c, revived), payment.ErrOrderHeld)
}

func TestPaymeLists(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, tm := postgres.NewPaymeRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	o1 := newOrder(t, db, someUser(t, db).ID(), t0)
	o2 := newOrder(t, db, someUser(t, db).ID(), t0)

	// o1: a cancelled one at T+0, a performed one at T+20; o2: created at T+10 and T+30 (cancelled).
	a := newPayme(t, o1, paymeT0)
	require.NoError(t, repo.Insert(c, a))
	_, err := a.Cancel(payment.ReasonTransactionFailed, false, t0)
	require.NoError(t, err)
	require.NoError(t, repo.Update(c, a))
	b := newPayme(t, o2, paymeT0+10)
	require.NoError(t, repo.Insert(c, b))
	d := newPayme(t, o1, paymeT0+20)
	require.NoError(t, repo.Insert(c, d))
	_, err = d.Perform(t0)
	require.NoError(t, err)
	require.NoError(t, repo.Update(c, d))

	ids := func(txs []*payment.PaymeTransaction) []string {
		out := make([]string, len(txs))
		for i, tx := range txs {
			out[i] = tx.PaymeID()
		}
		return out
	}

	// GetStatement: inclusive at both ends, ascending by Payme time, every state.
	got, err := repo.ListByPaymeTime(c, paymeT0, paymeT0+20)
	require.NoError(t, err)
	assert.Equal(t, []string{a.PaymeID(), b.PaymeID(), d.PaymeID()}, ids(got))
	got, err = repo.ListByPaymeTime(c, paymeT0+1, paymeT0+19)
	require.NoError(t, err)
	assert.Equal(t, []string{b.PaymeID()}, ids(got))
	got, err = repo.ListByPaymeTime(c, paymeT0+21, paymeT0+1000)
	require.NoError(t, err)
	assert.NotNil(t, got)
	assert.Empty(t, got)

	got, err = repo.ListByOrder(c, o1.ID())
	require.NoError(t, err)
	assert.Equal(t, []string{a.PaymeID(), d.PaymeID()}, ids(got))
	got, err = repo.ListByOrder(c, uuid.NewString())
	require.NoError(t, err)
	assert.Empty(t, got)

	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		holders, err := repo.ListHoldersForUpdate(ctx, o1.ID())
		require.NoError(t, err)
		assert.Equal(t, []string{d.PaymeID()}, ids(holders))
		return nil
	}))

	// HasLive: state 1 with Payme time at or after payment.PaymeLiveSince(now).
	has, err := repo.HasLive(c, o2.ID(), liveAt(paymeT0+10))
	require.NoError(t, err)
	assert.True(t, has, "exactly 12 hours old is still live")
	has, err = repo.HasLive(c, o2.ID(), liveAt(paymeT0+11))
	require.NoError(t, err)
	assert.False(t, has, "timed out")
	has, err = repo.HasLive(c, o1.ID(), liveAt(0))
	require.NoError(t, err)
	assert.False(t, has, "a performed transaction is not waiting")
	has, err = repo.HasLive(c, "junk", liveAt(0))
	require.NoError(t, err)
	assert.False(t, has)
}

// A plain read locks nothing and waits for no lock; a locking read waits for
// the row another transaction holds, and runs only inside a transaction.
func TestPaymeGetByPaymeIDIsAPlainRead(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, tm := postgres.NewPaymeRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	tx := newPayme(t, newOrder(t, db, someUser(t, db).ID(), t0), paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	release := holdInTx(t, tm, func(ctx context.Context) error {
		_, err := repo.GetByPaymeIDForUpdate(ctx, tx.PaymeID())
		return err
	})
	defer release()

	// The lock is held until this test lets go: a read that waited for it
	// would wait past any deadline.
	bounded, cancel := context.WithTimeout(c, 10*time.Second)
	defer cancel()
	got, err := repo.GetByPaymeID(bounded, tx.PaymeID())
	require.NoError(t, err, "the plain read does not wait for the lock")
	assert.Equal(t, tx.ID(), got.ID())

	short, cancelShort := context.WithTimeout(c, 300*time.Millisecond)
	defer cancelShort()
	err = tm.WithinTx(short, func(ctx context.Context) error {
		_, err := repo.GetByPaymeIDForUpdate(ctx, tx.PaymeID())
		return err
	})
	assert.Error(t, err, "the locking read waits for the other transaction's lock")
}

// LockOrderOf locks the transaction's order, the same order Get reads, and
// not the transaction's row: that one is the caller's next lock.
func TestPaymeLockOrderOf(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, orders, tm := postgres.NewPaymeRepo(db), postgres.NewOrderRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	tx := newPayme(t, o, paymeT0)
	require.NoError(t, repo.Insert(c, tx))

	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		_, err := repo.LockOrderOf(ctx, "no-such-payme-id")
		assert.ErrorIs(t, err, payment.ErrNotFound, "Payme's -31003, not an order's error")
		assert.NotErrorIs(t, err, order.ErrNotFound)
		return nil
	}))

	release := holdInTx(t, tm, func(ctx context.Context) error {
		got, err := repo.LockOrderOf(ctx, tx.PaymeID())
		if err != nil {
			return err
		}
		want, err := orders.Get(ctx, o.ID())
		if err != nil {
			return err
		}
		assert.Equal(t, want, got)
		return nil
	})
	defer release()

	short, cancelShort := context.WithTimeout(c, 300*time.Millisecond)
	defer cancelShort()
	err := tm.WithinTx(short, func(ctx context.Context) error {
		_, err := orders.GetForUpdate(ctx, o.ID())
		return err
	})
	assert.Error(t, err, "the order is locked until the other transaction ends")

	bounded, cancel := context.WithTimeout(c, 10*time.Second)
	defer cancel()
	require.NoError(t, tm.WithinTx(bounded, func(ctx context.Context) error {
		_, err := repo.GetByPaymeIDForUpdate(ctx, tx.PaymeID())
		return err
	}), "the transaction's row is not locked")
}

// holdInTx runs lock in a transaction of its own and keeps that transaction
// open, with whatever lock took, until release is called; release fails the
// test when lock or the transaction failed.
func holdInTx(t *testing.T, tm *postgres.TxManager, lock func(ctx context.Context) error) (release func()) {
	t.Helper()
	hold, held := make(chan struct{}), make(chan struct{})
	done := make(chan error, 1)
	go func() {
		done <- tm.WithinTx(context.Background(), func(ctx context.Context) error {
			err := lock(ctx)
			close(held)
			if err != nil {
				return err
			}
			<-hold
			return nil
		})
	}()
	<-held
	return func() {
		close(hold)
		require.NoError(t, <-done)
	}
}

func TestPaymentLockingReadsRunOnlyInATransaction(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	payme, clicks := postgres.NewPaymeRepo(db), postgres.NewClickRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	p := newPayme(t, o, paymeT0)
	require.NoError(t, payme.Insert(c, p))
	a := newClick(t, o, 2_100_000_009)
	require.NoError(t, clicks.Insert(c, a))

	for name, read := range map[string]func() error{
		"GetByPaymeIDForUpdate": func() error { _, err := payme.GetByPaymeIDForUpdate(c, p.PaymeID()); return err },
		"LockOrderOf":           func() error { _, err := payme.LockOrderOf(c, p.PaymeID()); return err },
		"ListHoldersForUpdate":  func() error { _, err := payme.ListHoldersForUpdate(c, o.ID()); return err },
		"LockTimedOut":          func() error { _, err := payme.LockTimedOut(c, liveAt(paymeT0+1), 10); return err },
		"GetByClickTransIDForUpdate": func() error {
			_, err := clicks.GetByClickTransIDForUpdate(c, a.ClickTransID())
			return err
		},
		"GetByPrepareIDForUpdate": func() error { _, err := clicks.GetByPrepareIDForUpdate(c, a.PrepareID()); return err },
		"ListByOrderForUpdate":    func() error { _, err := clicks.ListByOrderForUpdate(c, o.ID()); return err },
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, read(), postgres.ErrNoTx)
		})
	}
}

func TestPaymeLockTimedOutSkipsLockedRows(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, tm := postgres.NewPaymeRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	var old []string
	for i := range 4 {
		o := newOrder(t, db, someUser(t, db).ID(), t0)
		tx := newPayme(t, o, paymeT0+int64(i))
		require.NoError(t, repo.Insert(c, tx))
		old = append(old, tx.PaymeID())
	}
	fresh := newPayme(t, newOrder(t, db, someUser(t, db).ID(), t0), paymeT0+1000)
	require.NoError(t, repo.Insert(c, fresh))

	_, err := repo.LockTimedOut(c, liveAt(paymeT0+100), 10)
	assert.ErrorIs(t, err, postgres.ErrNoTx)

	hold := make(chan struct{})
	held := make(chan struct{})
	go func() {
		_ = tm.WithinTx(context.Background(), func(ctx context.Context) error {
			got, err := repo.LockTimedOut(ctx, liveAt(paymeT0+100), 2)
			if err == nil && len(got) == 2 {
				close(held)
			}
			<-hold
			return err
		})
	}()
	<-held
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		got, err := repo.LockTimedOut(ctx, liveAt(paymeT0+100), 10)
		require.NoError(t, err)
		var ids []string
		for _, tx := range got {
			ids = append(ids, tx.PaymeID())
			assert.Equal(t, payment.PaymeCreated, tx.State())
		}
		assert.Equal(t, old[2:], ids, "the two the other sweeper holds are skipped; the fresh one is not due")
		return nil
	}))
	close(hold)
}

func TestPaymeChecksAndReadBack(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewPaymeRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	bad := []*payment.PaymeTransaction{
		// performed without a perform time
		payment.RestorePaymeTransaction(uuid.NewString(), "x1", o.ID(), paymeT0, o.Total(), nil, payment.PaymePerformed, nil, paymeT0, 0, 0),
		// cancelled without a reason
		payment.RestorePaymeTransaction(uuid.NewString(), "x2", o.ID(), paymeT0, o.Total(), nil, payment.PaymeCancelled, nil, paymeT0, 0, paymeT0),
		// unknown state
		payment.RestorePaymeTransaction(uuid.NewString(), "x3", o.ID(), paymeT0, o.Total(), nil, payment.PaymeState(3), nil, paymeT0, 0, 0),
		// zero amount
		payment.RestorePaymeTransaction(uuid.NewString(), "x4", o.ID(), paymeT0, money.Money{}, nil, payment.PaymeCreated, nil, paymeT0, 0, 0),
		// reason outside Payme's list
		payment.RestorePaymeTransaction(uuid.NewString(), "x5", o.ID(), paymeT0, o.Total(), nil, payment.PaymeCancelled, ptr(payment.Reason(7)), paymeT0, 0, paymeT0),
	}
	for _, tx := range bad {
		t.Run(tx.PaymeID(), func(t *testing.T) {
			assert.ErrorIs(t, repo.Insert(c, tx), domain.ErrValidation, tx.PaymeID())
		})
	}
	_, err := db.ExecContext(c, `INSERT INTO payme_transactions (payme_id, payme_time, order_id, amount, create_time)
		VALUES ('raw', 1, $1, -5, 1)`, o.ID())
	assertViolates(t, err, "payme_transactions_amount_check")

	tx := newPayme(t, o, paymeT0)
	require.NoError(t, repo.Insert(c, tx))
	_, err = db.ExecContext(c, `ALTER TABLE payme_transactions DROP CONSTRAINT payme_transactions_state_check,
		DROP CONSTRAINT payme_transactions_state_times_check; UPDATE payme_transactions SET state = 9`)
	require.NoError(t, err)
	_, err = repo.GetByPaymeID(c, tx.PaymeID())
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
}

func TestClickInsertGetUpdate(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewClickRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)

	a := newClick(t, o, 2_100_000_001)
	require.NoError(t, repo.Insert(c, a))
	assert.Positive(t, a.PrepareID(), "Insert sets the prepare id the database assigned")
	b := newClick(t, o, 2_100_000_002)
	require.NoError(t, repo.Insert(c, b))
	assert.Greater(t, b.PrepareID(), a.PrepareID())

	byPrepareID := func(id int64) (*payment.ClickTransaction, error) {
		return locking(t, db, func(c context.Context) (*payment.ClickTransaction, error) { return repo.GetByPrepareIDForUpdate(c, id) })
	}
	byClickTransID := func(id int64) (*payment.ClickTransaction, error) {
		return locking(t, db, func(c context.Context) (*payment.ClickTransaction, error) {
			return repo.GetByClickTransIDForUpdate(c, id)
		})
	}
	byPrepare, err := byPrepareID(a.PrepareID())
	require.NoError(t, err)
	byClick, err := byClickTransID(2_100_000_001)
	require.NoError(t, err)
	for _, got := range []*payment.ClickTransaction{byPrepare, byClick} {
		assert.Equal(t, a.ID(), got.ID(), "our UUID is stored as given")
		assert.Equal(t, a.PrepareID(), got.PrepareID())
		assert.Equal(t, int64(2_100_000_001), got.ClickTransID())
		assert.Equal(t, a.ClickPaydocID(), got.ClickPaydocID())
		assert.Equal(t, int64(12345), got.ServiceID())
		assert.Equal(t, o.ID(), got.OrderID())
		assert.Equal(t, o.Total(), got.Amount())
		assert.Equal(t, "325000.50", got.AmountRaw())
		assert.Equal(t, payment.ClickPrepared, got.State())
		assert.Nil(t, got.ClickError())
		assert.True(t, got.PreparedAt().Equal(t0))
		assert.True(t, got.ConfirmedAt().IsZero())
	}

	require.NoError(t, byPrepare.Confirm(t0.Add(time.Minute)))
	require.NoError(t, repo.Update(c, byPrepare))
	confirmed, err := byPrepareID(a.PrepareID())
	require.NoError(t, err)
	assert.Equal(t, payment.ClickConfirmed, confirmed.State())
	assert.True(t, confirmed.ConfirmedAt().Equal(t0.Add(time.Minute)))

	wasConfirmed, err := confirmed.Cancel(-5017, t0.Add(2*time.Minute))
	require.NoError(t, err)
	require.True(t, wasConfirmed)
	require.NoError(t, repo.Update(c, confirmed))
	cancelled, err := byClickTransID(2_100_000_001)
	require.NoError(t, err)
	assert.Equal(t, payment.ClickCancelledAfterConfirm, cancelled.State())
	require.NotNil(t, cancelled.ClickError())
	assert.Equal(t, -5017, *cancelled.ClickError())
	assert.True(t, cancelled.CancelledAt().Equal(t0.Add(2*time.Minute)))

	list, err := repo.ListByOrder(c, o.ID())
	require.NoError(t, err)
	require.Len(t, list, 2)
	assert.Equal(t, a.ID(), list[0].ID(), "oldest first, whatever the UUIDs")
	assert.Equal(t, b.ID(), list[1].ID())
	locked, err := locking(t, db, func(c context.Context) ([]*payment.ClickTransaction, error) {
		return repo.ListByOrderForUpdate(c, o.ID())
	})
	require.NoError(t, err)
	assert.Len(t, locked, 2)
	none, err := repo.ListByOrder(c, uuid.NewString())
	require.NoError(t, err)
	assert.NotNil(t, none)
	assert.Empty(t, none)
}

func TestClickNotFoundDuplicateAndOneConfirmed(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewClickRepo(db)
	c := ctx(t)
	_, err := locking(t, db, func(c context.Context) (*payment.ClickTransaction, error) {
		return repo.GetByPrepareIDForUpdate(c, 424242)
	})
	assert.ErrorIs(t, err, payment.ErrNotFound)
	_, err = locking(t, db, func(c context.Context) (*payment.ClickTransaction, error) {
		return repo.GetByClickTransIDForUpdate(c, 424242)
	})
	assert.ErrorIs(t, err, payment.ErrNotFound)

	o := newOrder(t, db, someUser(t, db).ID(), t0)
	ghost := payment.RestoreClickTransaction(uuid.NewString(), 999999, 1, 1, 1, o.ID(), o.Total(), "1", payment.ClickPrepared, nil, t0, time.Time{}, time.Time{})
	assert.ErrorIs(t, repo.Update(c, ghost), payment.ErrNotFound)

	a := newClick(t, o, 7)
	require.NoError(t, repo.Insert(c, a))
	dup := newClick(t, o, 7)
	err = repo.Insert(c, dup)
	assert.ErrorIs(t, err, payment.ErrDuplicate, "a repeated click_trans_id")
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Zero(t, dup.PrepareID())

	// Two attempts for one order may be prepared; only one may be confirmed.
	b := newClick(t, o, 8)
	require.NoError(t, repo.Insert(c, b))
	require.NoError(t, a.Confirm(t0))
	require.NoError(t, repo.Update(c, a))
	require.NoError(t, b.Confirm(t0))
	assert.ErrorIs(t, repo.Update(c, b), payment.ErrAlreadyPaid)

	orphan := payment.RestoreClickTransaction(uuid.NewString(), 0, 9, 9, 9, uuid.NewString(), o.Total(), "1", payment.ClickPrepared, nil, t0, time.Time{}, time.Time{})
	assert.ErrorIs(t, repo.Insert(c, orphan), order.ErrNotFound)

	// State and times must agree.
	bad := payment.RestoreClickTransaction(uuid.NewString(), 0, 10, 10, 10, o.ID(), o.Total(), "1", payment.ClickConfirmed, nil, t0, time.Time{}, time.Time{})
	assert.ErrorIs(t, repo.Insert(c, bad), domain.ErrValidation)
	_, err = db.ExecContext(c, `INSERT INTO click_transactions (click_trans_id, click_paydoc_id, service_id, order_id,
		amount, amount_raw, state, prepared_at) VALUES (11, 11, 11, $1, 0, '0', 1, now())`, o.ID())
	assertViolates(t, err, "click_transactions_amount_check")
}

func TestSettlementsOnePaymentPerOrder(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewSettlementRepo(db)
	c := ctx(t)
	o := newOrder(t, db, someUser(t, db).ID(), t0)

	require.NoError(t, repo.Record(c, o.ID(), payment.ProviderPayme, uuid.NewString()))
	err := repo.Record(c, o.ID(), payment.ProviderClick, "17")
	assert.ErrorIs(t, err, payment.ErrAlreadyPaid, "the other provider loses")
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.ErrorIs(t, repo.Record(c, o.ID(), payment.ProviderPayme, uuid.NewString()), payment.ErrAlreadyPaid)

	// Racing providers on a fresh order: exactly one settles it.
	race := newOrder(t, db, someUser(t, db).ID(), t0)
	var wg sync.WaitGroup
	errs := make([]error, 6)
	for i := range errs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			provider := payment.ProviderPayme
			if i%2 == 1 {
				provider = payment.ProviderClick
			}
			errs[i] = repo.Record(context.Background(), race.ID(), provider, strconv.Itoa(i))
		}()
	}
	wg.Wait()
	ok := 0
	for _, err := range errs {
		if err == nil {
			ok++
		} else {
			assert.ErrorIs(t, err, payment.ErrAlreadyPaid)
		}
	}
	assert.Equal(t, 1, ok)

	// Transaction ids no settlement above holds: the race may have settled
	// by Click's "1", whose unique key would answer first.
	assert.ErrorIs(t, repo.Record(c, uuid.NewString(), payment.ProviderClick, "no-order-1"), order.ErrNotFound)
	assert.ErrorIs(t, repo.Record(c, "junk", payment.ProviderClick, "no-order-2"), order.ErrNotFound)
	o2 := newOrder(t, db, someUser(t, db).ID(), t0)
	assert.ErrorIs(t, repo.Record(c, o2.ID(), payment.Provider("cash"), "1"), domain.ErrValidation)
	assert.ErrorIs(t, repo.Record(c, o2.ID(), payment.ProviderClick, ""), domain.ErrValidation)

	// Rolled back with the transaction that would have marked the order paid.
	tm := postgres.NewTxManager(db)
	_ = tm.WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, repo.Record(ctx, o2.ID(), payment.ProviderClick, "rolled-back"))
		return assert.AnError
	})
	require.NoError(t, repo.Record(c, o2.ID(), payment.ProviderPayme, uuid.NewString()))
}

func ptr[T any](v T) *T { return &v }
