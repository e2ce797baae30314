package postgres_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

func newIssue(t *testing.T, kind reconciliation.Kind, subject, orderID string, at time.Time) *reconciliation.Issue {
	t.Helper()
	i, err := reconciliation.NewIssue(uuid.NewString(), kind, subject, orderID, "click", subject, "what was found", at)
	require.NoError(t, err)
	return i
}

// TestReconciliationIssues_OpenOnceEvenConcurrently: any number of callers
// finding the same (kind, subject) at once store one issue, and a resolved
// issue is not opened again.
func TestReconciliationIssues_OpenOnceEvenConcurrently(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewReconciliationStore(db)
	o := newOrder(t, db, someUser(t, db).ID(), t0)

	var wg sync.WaitGroup
	opened := make(chan bool, 8)
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ok, err := store.Open(ctx(t), newIssue(t, reconciliation.KindClickCancelDisputed, "2100000001", o.ID(), t0))
			assert.NoError(t, err)
			opened <- ok
		}()
	}
	wg.Wait()
	close(opened)
	n := 0
	for ok := range opened {
		if ok {
			n++
		}
	}
	assert.Equal(t, 1, n, "one caller opened it")

	// Another kind about the same subject is another issue.
	ok, err := store.Open(ctx(t), newIssue(t, reconciliation.KindClickCancelUnverified, "2100000001", o.ID(), t0.Add(time.Minute)))
	require.NoError(t, err)
	assert.True(t, ok)

	counts, err := store.CountOpen(ctx(t))
	require.NoError(t, err)
	assert.EqualValues(t, 1, counts[reconciliation.KindClickCancelDisputed])
	assert.EqualValues(t, 1, counts[reconciliation.KindClickCancelUnverified])
	assert.EqualValues(t, 0, counts[reconciliation.KindReceiptFailed], "every kind is listed")

	// Resolve the disputed one; it stays the only one of its (kind, subject).
	admin := someUser(t, db)
	page, total, err := store.List(ctx(t), ports.IssueFilter{Kind: reconciliation.KindClickCancelDisputed, Page: 1, PageSize: 20})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	id := page[0].ID()
	require.NoError(t, postgres.NewTxManager(db).WithinTx(ctx(t), func(c context.Context) error {
		i, err := store.GetForUpdate(c, id)
		require.NoError(t, err)
		require.NoError(t, i.Resolve(admin.ID(), "checked in Click's cabinet", t0.Add(time.Hour)))
		return store.Update(c, i)
	}))
	ok, err = store.Open(ctx(t), newIssue(t, reconciliation.KindClickCancelDisputed, "2100000001", o.ID(), t0.Add(2*time.Hour)))
	require.NoError(t, err)
	assert.False(t, ok, "resolved, never reopened")

	resolved, total, err := store.List(ctx(t), ports.IssueFilter{Status: reconciliation.StatusResolved, Page: 1, PageSize: 20})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	got := resolved[0]
	assert.Equal(t, id, got.ID())
	assert.Equal(t, admin.ID(), got.ResolvedBy())
	assert.Equal(t, "checked in Click's cabinet", got.Note())
	assert.Equal(t, t0.Add(time.Hour), got.ResolvedAt())
	assert.Equal(t, o.ID(), got.OrderID())
	assert.Equal(t, "click", got.Provider())

	all, total, err := store.List(ctx(t), ports.IssueFilter{Page: 1, PageSize: 1})
	require.NoError(t, err)
	assert.Equal(t, 2, total)
	require.Len(t, all, 1)
	assert.Equal(t, reconciliation.KindClickCancelUnverified, all[0].Kind(), "newest first")

	_, err = locking(t, db, func(c context.Context) (*reconciliation.Issue, error) { return store.GetForUpdate(c, uuid.NewString()) })
	assert.ErrorIs(t, err, reconciliation.ErrNotFound)
	_, err = locking(t, db, func(c context.Context) (*reconciliation.Issue, error) {
		return store.FindOpenForUpdate(c, reconciliation.KindClickCancelDisputed, "2100000001")
	})
	assert.ErrorIs(t, err, reconciliation.ErrNotFound, "resolved is not open")
}

// TestClickCancelClaims_RecordSettleRenew: a claim is pending until settled;
// settling needs the claim time the caller saw, so a cancel recorded again in
// between is left for the next pass; recording a settled claim makes it
// pending again.
func TestClickCancelClaims_RecordSettleRenew(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewReconciliationStore(db)
	tx := postgres.NewTxManager(db)
	o := newOrder(t, db, someUser(t, db).ID(), t0)
	a := newClick(t, o, seq.Add(1)+4_000_000)
	require.NoError(t, postgres.NewClickRepo(db).Insert(ctx(t), a))

	record := func(at time.Time, e int) {
		require.NoError(t, tx.WithinTx(ctx(t), func(c context.Context) error {
			return store.Record(c, ports.ClickCancelClaim{AttemptID: a.ID(), OrderID: o.ID(), ClickError: e, ClaimedAt: at})
		}))
	}
	assert.ErrorIs(t, store.Record(ctx(t), ports.ClickCancelClaim{AttemptID: a.ID(), OrderID: o.ID(), ClickError: -1, ClaimedAt: t0}),
		postgres.ErrNoTx)
	record(t0, -5017)
	pending, err := store.ListPending(ctx(t), 10)
	require.NoError(t, err)
	require.Equal(t, []ports.ClickCancelClaim{{AttemptID: a.ID(), OrderID: o.ID(), ClickError: -5017, ClaimedAt: t0}}, pending)

	require.NoError(t, store.NoteAsked(ctx(t), a.ID(), t0.Add(time.Minute)))
	record(t0.Add(2*time.Minute), -1) // a replay while Click was being asked
	settled, err := store.Settle(ctx(t), a.ID(), t0, ports.ClickCancelStands, t0.Add(3*time.Minute))
	require.NoError(t, err)
	assert.False(t, settled, "the claim changed since it was read")

	settled, err = store.Settle(ctx(t), a.ID(), t0.Add(2*time.Minute), ports.ClickCancelStands, t0.Add(3*time.Minute))
	require.NoError(t, err)
	assert.True(t, settled)
	pending, err = store.ListPending(ctx(t), 10)
	require.NoError(t, err)
	assert.Empty(t, pending)

	record(t0.Add(time.Hour), -5017)
	pending, err = store.ListPending(ctx(t), 10)
	require.NoError(t, err)
	assert.Len(t, pending, 1, "a new cancel is asked about again")
}

// TestJobLeases_OneHolderAtATime: of instances claiming together one gets
// the lease; it is free again after Release (or when it runs out), and
// minGap keeps the next pass from starting too soon after the last one.
func TestJobLeases_OneHolderAtATime(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewReconciliationStore(db)

	var wg sync.WaitGroup
	tokens := make(chan string, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			token, ok, err := store.Claim(ctx(t), "reconcile", t0, time.Minute, 0)
			assert.NoError(t, err)
			if ok {
				tokens <- token
			}
		}()
	}
	wg.Wait()
	close(tokens)
	var holders []string
	for tok := range tokens {
		holders = append(holders, tok)
	}
	require.Len(t, holders, 1, "one instance holds it")

	_, ok, err := store.Claim(ctx(t), "reconcile", t0.Add(30*time.Second), time.Minute, 0)
	require.NoError(t, err)
	assert.False(t, ok, "still held")
	require.NoError(t, store.Release(ctx(t), "reconcile", uuid.NewString(), t0), "another token releases nothing")
	_, ok, err = store.Claim(ctx(t), "reconcile", t0.Add(30*time.Second), time.Minute, 0)
	require.NoError(t, err)
	assert.False(t, ok)

	require.NoError(t, store.Release(ctx(t), "reconcile", holders[0], t0.Add(40*time.Second)))
	_, ok, err = store.Claim(ctx(t), "reconcile", t0.Add(50*time.Second), time.Minute, time.Minute)
	require.NoError(t, err)
	assert.False(t, ok, "the last pass ended 10 s ago, less than minGap")
	tok, ok, err := store.Claim(ctx(t), "reconcile", t0.Add(50*time.Second), time.Minute, 0)
	require.NoError(t, err)
	require.True(t, ok, "free, and no gap asked for (the CLI)")

	// Its holder dies: the lease runs out.
	_, ok, err = store.Claim(ctx(t), "reconcile", t0.Add(50*time.Second+time.Minute), time.Minute, 0)
	require.NoError(t, err)
	assert.True(t, ok, "taken over once the lease ran out")
	require.NoError(t, store.Release(ctx(t), "reconcile", tok, t0.Add(3*time.Minute)))
	_, ok, err = store.Claim(ctx(t), "reconcile", t0.Add(90*time.Second), time.Minute, 0)
	require.NoError(t, err)
	assert.False(t, ok, "the old holder's release does not free the new holder's lease")
}

// TestUnconfirmedClickOrders: prepared or abandoned attempts in the window,
// not confirmed ones nor those Click cancelled, and not again once checked.
func TestUnconfirmedClickOrders(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewReconciliationStore(db)
	clicks := postgres.NewClickRepo(db)
	u := someUser(t, db)
	insert := func(state payment.ClickState) string {
		o := newOrder(t, db, u.ID(), t0)
		a := newClick(t, o, seq.Add(1)+5_000_000)
		switch state {
		case payment.ClickConfirmed:
			require.NoError(t, a.Confirm(t0.Add(time.Minute)))
		case payment.ClickCancelled:
			_, err := a.Cancel(-5017, t0.Add(time.Minute))
			require.NoError(t, err)
		case payment.ClickPrepared:
		default:
			require.True(t, a.Abandon(t0.Add(time.Minute)))
		}
		require.NoError(t, clicks.Insert(ctx(t), a))
		return o.ID()
	}
	prepared := insert(payment.ClickPrepared)
	abandoned := insert(0)
	insert(payment.ClickConfirmed)
	insert(payment.ClickCancelled)

	now := t0.Add(2 * time.Hour)
	got, err := store.UnconfirmedClickOrders(ctx(t), "click_paid_unconfirmed", t0.Add(-time.Hour), now.Add(-time.Hour), time.Hour, 10)
	require.NoError(t, err)
	ids := []string{}
	for _, g := range got {
		ids = append(ids, g.OrderID)
		assert.Equal(t, t0, g.LastPreparedAt)
	}
	assert.ElementsMatch(t, []string{prepared, abandoned}, ids)

	require.NoError(t, store.MarkChecked(ctx(t), "click_paid_unconfirmed", prepared, now))
	got, err = store.UnconfirmedClickOrders(ctx(t), "click_paid_unconfirmed", t0.Add(-time.Hour), now.Add(-time.Hour), time.Hour, 10)
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, abandoned, got[0].OrderID)

	got, err = store.UnconfirmedClickOrders(ctx(t), "click_paid_unconfirmed", t0.Add(time.Second), now, time.Hour, 10)
	require.NoError(t, err)
	assert.Empty(t, got, "outside the window")
}
