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
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.UnpaidOrderSlots = (*postgres.UnpaidOrderSlots)(nil)

func TestUnpaidSlotsCountPendingOrdersAndLivePlacements(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	slots, tx := postgres.NewUnpaidOrderSlots(db), postgres.NewTxManager(db)
	c := ctx(t)
	u, other := someUser(t, db), someUser(t, db)
	count := func(except string, now time.Time) int {
		t.Helper()
		var n int
		require.NoError(t, tx.WithinTx(c, func(c context.Context) error {
			var err error
			n, err = slots.CountUnpaid(c, u.ID(), except, now)
			return err
		}))
		return n
	}

	assert.Equal(t, 0, count("", t0))
	pending := newOrder(t, db, u.ID(), t0)
	paid := newOrder(t, db, u.ID(), t0)
	_, err := db.ExecContext(c, `UPDATE orders SET status = 'paid', paid_at = $2 WHERE id = $1`, paid.ID(), t0)
	require.NoError(t, err)
	newOrder(t, db, other.ID(), t0) // another user's
	assert.Equal(t, 1, count("", t0), "pending_payment orders only, of this user only")

	placing := uuid.NewString()
	require.NoError(t, slots.Hold(c, u.ID(), placing, t0, t0.Add(time.Minute)))
	assert.Equal(t, 2, count("", t0), "a live placement holds a slot")
	assert.Equal(t, 1, count(placing, t0), "but not against itself")
	assert.Equal(t, 2, count(pending.ID(), t0), "except names a placement, not an order")

	// A placement whose process died: its hold ends and the count forgets it.
	assert.Equal(t, 1, count("", t0.Add(time.Minute)))
	var left int
	require.NoError(t, db.Get(&left, `SELECT count(*) FROM order_placements WHERE user_id = $1`, u.ID()))
	assert.Zero(t, left, "ended holds are deleted")

	again := uuid.NewString()
	require.NoError(t, slots.Hold(c, u.ID(), again, t0, t0.Add(time.Minute)))
	require.NoError(t, slots.Drop(c, again))
	require.NoError(t, slots.Drop(c, again), "dropping twice")
	require.NoError(t, slots.Drop(c, "not-a-uuid"))
	assert.Equal(t, 1, count("", t0))
}

func TestUnpaidSlotsRefuseUnknownUsersAndCallsOutsideATransaction(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	slots, tx := postgres.NewUnpaidOrderSlots(db), postgres.NewTxManager(db)
	c := ctx(t)
	u := someUser(t, db)

	_, err := slots.CountUnpaid(c, u.ID(), "", t0)
	assert.ErrorIs(t, err, postgres.ErrNoTx, "a lock outside a transaction would protect nothing")
	for _, id := range []string{uuid.NewString(), "nope"} {
		err = tx.WithinTx(c, func(c context.Context) error {
			_, err := slots.CountUnpaid(c, id, "", t0)
			return err
		})
		assert.ErrorIs(t, err, user.ErrNotFound, id)
		assert.ErrorIs(t, slots.Hold(c, id, uuid.NewString(), t0, t0.Add(time.Minute)), user.ErrNotFound, id)
	}
}

// The decision is made in Postgres: of concurrent count-and-hold
// transactions for one user, each sees the holds the others committed, so
// no more than the limit are ever granted.
func TestUnpaidSlotsConcurrentHoldsNeverExceedTheLimit(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	slots, tx := postgres.NewUnpaidOrderSlots(db), postgres.NewTxManager(db)
	c := ctx(t)
	u := someUser(t, db)
	const limit, racers = 3, 12

	granted := make([]bool, racers)
	errs := make([]error, racers)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range racers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			errs[i] = tx.WithinTx(c, func(c context.Context) error {
				n, err := slots.CountUnpaid(c, u.ID(), "", t0)
				if err != nil || n >= limit {
					return err
				}
				granted[i] = true
				return slots.Hold(c, u.ID(), uuid.NewString(), t0, t0.Add(time.Minute))
			})
		}()
	}
	close(start)
	wg.Wait()

	n := 0
	for i := range racers {
		require.NoError(t, errs[i])
		if granted[i] {
			n++
		}
	}
	assert.Equal(t, limit, n)
	var held int
	require.NoError(t, db.Get(&held, `SELECT count(*) FROM order_placements WHERE user_id = $1`, u.ID()))
	assert.Equal(t, limit, held)
}
