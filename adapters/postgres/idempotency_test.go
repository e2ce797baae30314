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

const (
	idemTTL   = 24 * time.Hour
	idemLease = time.Minute
)

func TestIdempotencyBeginCompleteReplay(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u, other := someUser(t, db), someUser(t, db)
	orderID := uuid.NewString()

	rec, claimed, err := store.Begin(c, u.ID(), "k1", "hash-a", t0, idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed)
	assert.Equal(t, "hash-a", rec.RequestHash)
	assert.Empty(t, rec.ResourceID)
	_, err = uuid.Parse(rec.Claim)
	require.NoError(t, err, "the claim is named")
	claim := rec.Claim

	// A second request while the first runs: in progress, whatever its body.
	for _, h := range []string{"hash-a", "hash-b"} {
		rec, claimed, err = store.Begin(c, u.ID(), "k1", h, t0.Add(time.Second), idemTTL, idemLease)
		require.NoError(t, err)
		assert.False(t, claimed)
		assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash-a"}, rec)
	}

	// Keys are per user.
	_, claimed, err = store.Begin(c, other.ID(), "k1", "hash-z", t0, idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed)

	assert.ErrorIs(t, store.Complete(c, u.ID(), "k1", uuid.NewString(), orderID), postgres.ErrNotClaimed, "only its claim completes a key")
	require.NoError(t, store.Complete(c, u.ID(), "k1", claim, orderID))
	rec, claimed, err = store.Begin(c, u.ID(), "k1", "hash-a", t0.Add(23*time.Hour), idemTTL, idemLease)
	require.NoError(t, err)
	assert.False(t, claimed)
	assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash-a", ResourceID: orderID}, rec)

	// A completed key is never released, nor completed twice.
	require.NoError(t, store.Release(c, u.ID(), "k1", claim))
	assert.ErrorIs(t, store.Complete(c, u.ID(), "k1", claim, uuid.NewString()), postgres.ErrNotClaimed)
	assert.ErrorIs(t, store.Renew(c, u.ID(), "k1", claim, t0.Add(time.Hour)), postgres.ErrNotClaimed, "a completed key has no lease")
	rec, _, err = store.Begin(c, u.ID(), "k1", "hash-a", t0.Add(time.Hour), idemTTL, idemLease)
	require.NoError(t, err)
	assert.Equal(t, orderID, rec.ResourceID)
}

func TestIdempotencyReleaseLetsARetryRun(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	first, claimed, err := store.Begin(c, u.ID(), "k", "h1", t0, idemTTL, idemLease)
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, store.Release(c, u.ID(), "k", uuid.NewString()), "another claim's release")
	_, claimed, err = store.Begin(c, u.ID(), "k", "h1", t0.Add(time.Second), idemTTL, idemLease)
	require.NoError(t, err)
	require.False(t, claimed, "is no release of this one")
	require.NoError(t, store.Release(c, u.ID(), "k", first.Claim))
	require.NoError(t, store.Release(c, u.ID(), "k", first.Claim), "releasing twice")
	require.NoError(t, store.Release(c, u.ID(), "never-used", first.Claim))
	require.NoError(t, store.Release(c, u.ID(), "k", "not-a-uuid"))

	rec, claimed, err := store.Begin(c, u.ID(), "k", "h2", t0.Add(time.Second), idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed, "a failed request is not remembered")
	assert.Equal(t, "h2", rec.RequestHash)
	assert.ErrorIs(t, store.Complete(c, u.ID(), "unclaimed", first.Claim, uuid.NewString()), postgres.ErrNotClaimed)
	assert.ErrorIs(t, store.Complete(c, u.ID(), "unclaimed", first.Claim, uuid.NewString()), domain.ErrConflict)
}

func TestIdempotencyExpiredRecordIsReclaimed(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	old, claimed, err := store.Begin(c, u.ID(), "k", "old", t0, idemTTL, idemLease)
	require.NoError(t, err)
	require.True(t, claimed)
	require.NoError(t, store.Complete(c, u.ID(), "k", old.Claim, uuid.NewString()))

	rec, claimed, err := store.Begin(c, u.ID(), "k", "new", t0.Add(idemTTL), idemTTL, idemLease)
	require.NoError(t, err)
	assert.False(t, claimed, "exactly the ttl is not older than the ttl")
	assert.Equal(t, "old", rec.RequestHash)

	rec, claimed, err = store.Begin(c, u.ID(), "k", "new", t0.Add(idemTTL+time.Millisecond), idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed)
	assert.Equal(t, "new", rec.RequestHash)
	assert.Empty(t, rec.ResourceID, "the old answer is forgotten")
	assert.NotEqual(t, old.Claim, rec.Claim)

	rec, claimed, err = store.Begin(c, u.ID(), "k", "new", t0.Add(idemTTL+time.Second), idemTTL, idemLease)
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
			rec, claimed, err := store.Begin(c, userID, "race", "hash", now.Add(time.Duration(i)*time.Microsecond), idemTTL, idemLease)
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
		assert.Equal(t, ports.IdempotencyRecord{RequestHash: "hash"}, rec, "the others see it in progress, unclaimed")
	}
}

func TestIdempotencyConcurrentReclaimClaimsOnce(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	u := someUser(t, db)
	_, claimed, err := store.Begin(ctx(t), u.ID(), "race", "hash", t0, idemTTL, idemLease)
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
	held, claimed, err := store.Begin(c, u.ID(), "k", "h", t0, idemTTL, idemLease)
	require.NoError(t, err)
	require.True(t, claimed)

	rollback := errors.New("order insert failed")
	err = postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, store.Complete(ctx, u.ID(), "k", held.Claim, uuid.NewString()))
		return rollback
	})
	require.ErrorIs(t, err, rollback)

	rec, claimed, err := store.Begin(c, u.ID(), "k", "h", t0.Add(time.Second), idemTTL, idemLease)
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

	_, _, err := store.Begin(c, uuid.NewString(), "k", "h", t0, idemTTL, idemLease)
	assert.ErrorIs(t, err, user.ErrNotFound, "unknown user")
	_, _, err = store.Begin(c, "user-1", "k", "h", t0, idemTTL, idemLease)
	assert.ErrorIs(t, err, user.ErrNotFound)
	_, _, err = store.Begin(c, u.ID(), strings.Repeat("k", 256), "h", t0, idemTTL, idemLease)
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, _, err = store.Begin(c, u.ID(), "k", "", t0, idemTTL, idemLease)
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, _, err = store.Begin(c, u.ID(), "k", "h", t0, 0, idemLease)
	assert.Error(t, err)

	_, _, err = store.Begin(c, u.ID(), "k", "h", t0, idemTTL, 0)
	assert.Error(t, err, "no lease")
	_, _, err = store.Begin(c, u.ID(), "k", "h", t0, time.Minute, time.Hour)
	assert.Error(t, err, "a lease longer than the record")

	rec, claimed, err := store.Begin(c, u.ID(), strings.Repeat("я", 255), "h", t0, idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed, "255 characters is the limit, not 255 bytes")
	assert.ErrorIs(t, store.Complete(c, u.ID(), strings.Repeat("я", 255), rec.Claim, ""), domain.ErrValidation)
	assert.ErrorIs(t, store.Complete(c, u.ID(), strings.Repeat("я", 255), "not-a-uuid", uuid.NewString()), postgres.ErrNotClaimed)
	assert.ErrorIs(t, store.Renew(c, u.ID(), strings.Repeat("я", 255), "not-a-uuid", t0), postgres.ErrNotClaimed)
}

func TestIdempotencyReadBackRechecks(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)
	_, _, err := store.Begin(c, u.ID(), "k", "h", t0, idemTTL, idemLease)
	require.NoError(t, err)
	_, err = db.ExecContext(c, `UPDATE idempotency_keys SET status_code = 500, response = 'oops'`)
	require.NoError(t, err)

	_, _, err = store.Begin(c, u.ID(), "k", "h", t0.Add(time.Second), idemTTL, idemLease)
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
}

// API.md: a key whose first request died mid-way is free again after at
// most 60 s. Its claim's lease ends, and the next request takes the key
// over, whatever its body; the dead request's claim then changes nothing.
func TestIdempotencyClaimWhoseLeaseEndedIsTakenOver(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	dead, claimed, err := store.Begin(c, u.ID(), "k", "h1", t0, idemTTL, idemLease)
	require.NoError(t, err)
	require.True(t, claimed)
	for _, at := range []time.Duration{time.Second, idemLease - time.Millisecond, idemLease} {
		rec, claimed, err := store.Begin(c, u.ID(), "k", "h1", t0.Add(at), idemTTL, idemLease)
		require.NoError(t, err)
		assert.False(t, claimed, "in progress %s after the claim", at)
		assert.Equal(t, ports.IdempotencyRecord{RequestHash: "h1"}, rec)
	}

	next, claimed, err := store.Begin(c, u.ID(), "k", "h2", t0.Add(idemLease+time.Millisecond), idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed, "free once the lease has passed")
	assert.Equal(t, "h2", next.RequestHash)
	assert.NotEqual(t, dead.Claim, next.Claim)

	// Should the old request still be alive after all, it can neither keep,
	// complete nor release the key now held by the next one.
	assert.ErrorIs(t, store.Renew(c, u.ID(), "k", dead.Claim, t0.Add(2*idemLease)), postgres.ErrNotClaimed)
	assert.ErrorIs(t, store.Complete(c, u.ID(), "k", dead.Claim, uuid.NewString()), postgres.ErrNotClaimed)
	require.NoError(t, store.Release(c, u.ID(), "k", dead.Claim))
	rec, claimed, err := store.Begin(c, u.ID(), "k", "h2", t0.Add(idemLease+time.Second), idemTTL, idemLease)
	require.NoError(t, err)
	assert.False(t, claimed, "the next one's claim survived the old one's release")
	assert.Equal(t, "h2", rec.RequestHash)

	orderID := uuid.NewString()
	require.NoError(t, store.Complete(c, u.ID(), "k", next.Claim, orderID))
	rec, claimed, err = store.Begin(c, u.ID(), "k", "h2", t0.Add(time.Hour), idemTTL, idemLease)
	require.NoError(t, err)
	assert.False(t, claimed, "a completed key has no lease to end: it answers for its ttl")
	assert.Equal(t, orderID, rec.ResourceID)
}

// A live request keeps its key as long as it renews the lease, however long
// it runs; a renewal never shortens the lease.
func TestIdempotencyRenewedClaimIsKept(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	c := ctx(t)
	u := someUser(t, db)

	live, claimed, err := store.Begin(c, u.ID(), "k", "h", t0, idemTTL, idemLease)
	require.NoError(t, err)
	require.True(t, claimed)
	for i := 1; i <= 5; i++ { // a request running 200 s, renewing every 40 s
		at := t0.Add(time.Duration(i) * 40 * time.Second)
		require.NoError(t, store.Renew(c, u.ID(), "k", live.Claim, at.Add(idemLease)))
		_, claimed, err := store.Begin(c, u.ID(), "k", "h", at.Add(idemLease-time.Second), idemTTL, idemLease)
		require.NoError(t, err)
		require.False(t, claimed, "renewal %d kept the key", i)
	}
	last := t0.Add(200*time.Second + idemLease)
	require.NoError(t, store.Renew(c, u.ID(), "k", live.Claim, t0.Add(idemLease)), "an older renewal arriving late")
	_, claimed, err = store.Begin(c, u.ID(), "k", "h", last, idemTTL, idemLease)
	require.NoError(t, err)
	assert.False(t, claimed, "did not shorten the lease")

	_, claimed, err = store.Begin(c, u.ID(), "k", "h", last.Add(time.Millisecond), idemTTL, idemLease)
	require.NoError(t, err)
	assert.True(t, claimed, "once the renewals stop, the lease ends")
}

func TestIdempotencyConcurrentTakeOverOfAnEndedLeaseClaimsOnce(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	store := postgres.NewIdempotencyStore(db)
	u := someUser(t, db)
	_, claimed, err := store.Begin(ctx(t), u.ID(), "race", "hash", t0, idemTTL, idemLease)
	require.NoError(t, err)
	require.True(t, claimed)

	claims, recs := race(t, store, u.ID(), t0.Add(2*idemLease), 20)
	assert.Equal(t, 1, claims, "exactly one request takes the dead claim over")
	assert.Len(t, recs, 19)
}
