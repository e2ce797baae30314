package postgres_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.IdempotencyStore = (*postgres.IdempotencyStore)(nil)

const idemTTL = 24 * time.Hour

func TestIdempotencyBeginCompleteReplay(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u, other := someUser(t, db), someUser(t, db)
	orderID := uuid.NewString()

	rec, claimed, err := store.Begin(c, u.ID(), "k1", "hash-a", t0, idemTTL)
	require.NoError(t, err)
	assert.True(t, claimed)
	assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash-a"}, rec)

	// A second request while the first runs: in progress, whatever its body.
	for _, h := range []string{"hash-a", "hash-b"} {
		rec, claimed, err = store.Begin(c, u.ID(), "k1", h, t0.Add(time.Second), idemTTL)
		require.NoError(t, err)
		assert.False(t, claimed)
		assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash-a"}, rec)
	}

	// Keys are per user.
	_, claimed, err = store.Begin(c, other.ID(), "k1", "hash-z", t0, idemTTL)
	require.NoError(t, err)
	assert.True(t, claimed)

	require.NoError(t, store.Complete(c, u.ID(), "k1", orderID))
	rec, claimed, err = store.Begin(c, u.ID(), "k1", "hash-a", t0.Add(23*time.Hour), idemTTL)
	require.NoError(t, err)
	assert.False(t, claimed)
	assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash-a", ResourceID: orderID}, rec)

	// A completed key is never released, nor completed twice.
	require.NoError(t, store.Release(c, u.ID(), "k1"))
	assert.ErrorIs(t, store.Complete(c, u.ID(), "k1", uuid.NewString()), postgres.ErrNotClaimed)
	rec, _, err = store.Begin(c, u.ID(), "k1", "hash-a", t0.Add(time.Hour), idemTTL)
	require.NoError(t, err)
	assert.Equal(t, orderID, rec.ResourceID)
}

func TestIdempotencyReleaseLetsARetryRun(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	_, claimed, err := store.Begin(c, u.ID(), "k", "h1", t0, idemTTL)
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, store.Release(c, u.ID(), "k"))
	require.NoError(t, store.Release(c, u.ID(), "k"), "releasing twice")
	require.NoError(t, store.Release(c, u.ID(), "never-used"))

	rec, claimed, err := store.Begin(c, u.ID(), "k", "h2", t0.Add(time.Second), idemTTL)
	require.NoError(t, err)
	assert.True(t, claimed, "a failed request is not remembered")
	assert.Equal(t, "h2", rec.RequestHash)
	assert.ErrorIs(t, store.Complete(c, u.ID(), "unclaimed", uuid.NewString()), postgres.ErrNotClaimed)
	assert.ErrorIs(t, store.Complete(c, u.ID(), "unclaimed", uuid.NewString()), domain.ErrConflict)
}

func TestIdempotencyExpiredRecordIsReclaimed(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	_, claimed, err := store.Begin(c, u.ID(), "k", "old", t0, idemTTL)
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, store.Complete(c, u.ID(), "k", uuid.NewString()))

	rec, claimed, err := store.Begin(c, u.ID(), "k", "new", t0.Add(idemTTL), idemTTL)
	require.NoError(t, err)
	assert.False(t, claimed, "exactly the ttl is not older than the ttl")
	assert.Equal(t, "old", rec.RequestHash)

	rec, claimed, err = store.Begin(c, u.ID(), "k", "new", t0.Add(idemTTL+time.Millisecond), idemTTL)
	require.NoError(t, err)
	assert.True(t, claimed)
	assert.Equal(t, ports.IdempotencyRecord{RequestHash: "new"}, rec, "the old answer is forgotten")

	rec, claimed, err = store.Begin(c, u.ID(), "k", "new", t0.Add(idemTTL+time.Second), idemTTL)
	require.NoError(t, err)
	assert.False(t, claimed)
	assert.Equal(t, ports.IdempotencyRecord{RequestHash: "new"}, rec, "in progress again")
}

// race runs n Begins of one key at once and returns how many claimed it.
func race(t *testing.T, store *postgres.IdempotencyStore, userID string, now time.Time, n int) (claims int, recs []ports.IdempotencyRecord) {
	t.Helper()
	c := ctx(t)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		start = make(chan struct{})
		errs  []error
	)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			rec, claimed, err := store.Begin(c, userID, "race", "hash", now.Add(time.Duration(i)*time.Microsecond), idemTTL)
			mu.Lock()
			defer mu.Unlock()
			if err != nil {
				errs = append(errs, err)
				return
			}
			if claimed {
				claims++
			} else {
				recs = append(recs, rec)
			}
		}()
	}
	close(start)
	wg.Wait()
	require.NoError(t, errors.Join(errs...))
	return claims, recs
}

func TestIdempotencyConcurrentBeginClaimsOnce(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	u := someUser(t, db)

	claims, recs := race(t, store, u.ID(), t0, 20)
	assert.Equal(t, 1, claims, "exactly one request claims the key")
	require.Len(t, recs, 19)
	for _, rec := range recs {
		assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash"}, rec, "the others see it in progress")
	}
}

func TestIdempotencyConcurrentReclaimClaimsOnce(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	u := someUser(t, db)
	_, claimed, err := store.Begin(ctx(t), u.ID(), "race", "hash", t0, idemTTL)
	require.NoError(t, err)
	require.True(t, claimed)

	claims, recs := race(t, store, u.ID(), t0.Add(idemTTL+time.Minute), 20)
	assert.Equal(t, 1, claims, "exactly one request reclaims the expired key")
	assert.Len(t, recs, 19)
}

func TestIdempotencyBeginAndCompleteJoinTheCallersTransaction(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)
	_, claimed, err := store.Begin(c, u.ID(), "k", "h", t0, idemTTL)
	require.NoError(t, err)
	require.True(t, claimed)

	rollback := errors.New("order insert failed")
	err = postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, store.Complete(ctx, u.ID(), "k", uuid.NewString()))
		return rollback
	})
	require.ErrorIs(t, err, rollback)

	rec, claimed, err := store.Begin(c, u.ID(), "k", "h", t0.Add(time.Second), idemTTL)
	require.NoError(t, err)
	assert.False(t, claimed)
	assert.Empty(t, rec.ResourceID, "the completion was rolled back with the order")
}

func TestIdempotencyRefusesBadInput(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	_, _, err := store.Begin(c, uuid.NewString(), "k", "h", t0, idemTTL)
	assert.ErrorIs(t, err, user.ErrNotFound, "unknown user")
	_, _, err = store.Begin(c, "user-1", "k", "h", t0, idemTTL)
	assert.ErrorIs(t, err, user.ErrNotFound)
	_, _, err = store.Begin(c, u.ID(), strings.Repeat("k", 256), "h", t0, idemTTL)
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, _, err = store.Begin(c, u.ID(), "k", "", t0, idemTTL)
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, _, err = store.Begin(c, u.ID(), "k", "h", t0, 0)
	assert.Error(t, err)

	_, claimed, err := store.Begin(c, u.ID(), strings.Repeat("я", 255), "h", t0, idemTTL)
	require.NoError(t, err)
	assert.True(t, claimed, "255 characters is the limit, not 255 bytes")
	assert.ErrorIs(t, store.Complete(c, u.ID(), strings.Repeat("я", 255), ""), domain.ErrValidation)
}

func TestIdempotencyReadBackRechecks(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)
	_, _, err := store.Begin(c, u.ID(), "k", "h", t0, idemTTL)
	require.NoError(t, err)
	_, err = db.ExecContext(c, `UPDATE idempotency_keys SET status_code = 500, response = 'oops'`)
	require.NoError(t, err)

	_, _, err = store.Begin(c, u.ID(), "k", "h", t0.Add(time.Second), idemTTL)
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
}
