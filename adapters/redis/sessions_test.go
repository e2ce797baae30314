package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/test/testenv"
)

const ttl = 720 * time.Hour

// now is millisecond-precise because that is what the store keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }

type storeMaker func(t testing.TB) (*redis.SessionStore, goredis.UniversalClient, string)

func newStore(t testing.TB) (*redis.SessionStore, goredis.UniversalClient, string) {
	t.Helper()
	client, prefix := testenv.Redis(t)
	return redis.NewSessionStore(client, prefix), client, prefix
}

// newMultiNodeStore writes as on Redis Cluster: no MULTI spanning a session
// and its user's set.
func newMultiNodeStore(t testing.TB) (*redis.SessionStore, goredis.UniversalClient, string) {
	t.Helper()
	client, prefix := testenv.Redis(t)
	return redis.NewSessionStoreMultiNode(client, prefix), client, prefix
}

func newSession(t testing.TB, userID, hash string, at time.Time, life time.Duration) *session.Session {
	t.Helper()
	s, err := session.New(uuid.NewString(), userID, hash, "Mozilla/5.0 (test)", "203.0.113.7", at, life)
	require.NoError(t, err)
	return s
}

func create(t testing.TB, st *redis.SessionStore, s *session.Session) *session.Session {
	t.Helper()
	require.NoError(t, st.Create(context.Background(), s))
	return s
}

func assertSameSession(t *testing.T, want, got *session.Session) {
	t.Helper()
	assert.Equal(t, want.ID(), got.ID())
	assert.Equal(t, want.UserID(), got.UserID())
	assert.Equal(t, want.UserAgent(), got.UserAgent())
	assert.Equal(t, want.IP(), got.IP())
	assert.Equal(t, want.CurrentHash(), got.CurrentHash())
	assert.Equal(t, want.UsedHashes(), got.UsedHashes())
	for name, pair := range map[string][2]time.Time{
		"created":   {want.CreatedAt(), got.CreatedAt()},
		"last used": {want.LastUsedAt(), got.LastUsedAt()},
		"expires":   {want.ExpiresAt(), got.ExpiresAt()},
		"revoked":   {want.RevokedAt(), got.RevokedAt()},
	} {
		assert.True(t, pair[0].Equal(pair[1]), "%s: want %v, got %v", name, pair[0], pair[1])
	}
}

func testCreateGet(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	s := create(t, st, newSession(t, uuid.NewString(), "h1", now(), ttl))

	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assertSameSession(t, s, got)
	assert.False(t, got.IsRevoked())
	assert.Empty(t, got.UsedHashes())

	// Both keys carry the prefix and expire (the record after the session:
	// it is kept as a tombstone for a while).
	sessionKey := prefix + "session:" + s.ID()
	userKey := prefix + "user_sessions:" + s.UserID()
	keys := scanAll(t, client, prefix)
	assert.ElementsMatch(t, []string{sessionKey, userKey}, keys)
	sessTTL := client.PTTL(ctx, sessionKey).Val()
	assert.Greater(t, sessTTL, ttl, "tombstone grace beyond the session's expiry")
	assert.Less(t, sessTTL, ttl+7*24*time.Hour)
	assert.GreaterOrEqual(t, client.PTTL(ctx, userKey).Val(), sessTTL-time.Second)
}

func testGetUnknown(t *testing.T, newStore storeMaker) {
	st, _, _ := newStore(t)
	_, err := st.Get(context.Background(), uuid.NewString())
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.ErrorIs(t, err, domain.ErrNotFound)
}

func testGetCorruptRecordIsNotNotFound(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	id := uuid.NewString()
	require.NoError(t, client.HSet(ctx, prefix+"session:"+id, "user_id", "u1", "expires", "soon").Err())

	_, err := st.Get(ctx, id)
	require.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrNotFound)
	assert.NotErrorIs(t, err, domain.ErrUnavailable)
}

func testUpdateRotates(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	t0 := now().Add(-time.Hour)
	s := create(t, st, newSession(t, uuid.NewString(), "h1", t0, ttl))
	t1 := now()

	out, err := st.Update(ctx, s.ID(), func(s *session.Session) error {
		return s.Rotate("h1", "h2", t1, ttl)
	})
	require.NoError(t, err)
	assert.Equal(t, "h2", out.CurrentHash())

	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assertSameSession(t, out, got)
	assert.Equal(t, []string{"h1"}, got.UsedHashes())
	assert.True(t, got.LastUsedAt().Equal(t1))
	assert.True(t, got.ExpiresAt().Equal(t1.Add(ttl)))
	assert.True(t, got.CreatedAt().Equal(t0))

	// The record and the user's set live past the extended expiry.
	sessTTL := client.PTTL(ctx, prefix+"session:"+s.ID()).Val()
	assert.Greater(t, sessTTL, ttl)
	assert.GreaterOrEqual(t, client.PTTL(ctx, prefix+"user_sessions:"+s.UserID()).Val(), sessTTL-time.Second)
}

func testUpdateUnknownTokenChangesNothing(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, _, _ := newStore(t)
	s := create(t, st, newSession(t, uuid.NewString(), "h1", now(), ttl))

	out, err := st.Update(ctx, s.ID(), func(s *session.Session) error {
		return s.Rotate("never-issued", "h2", now(), ttl)
	})
	assert.ErrorIs(t, err, session.ErrUnknownToken)
	require.NotNil(t, out)

	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assertSameSession(t, s, got)
}

func testUpdatePersistsRevokeOnReuse(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, _, _ := newStore(t)
	s := create(t, st, newSession(t, uuid.NewString(), "h1", now(), ttl))
	_, err := st.Update(ctx, s.ID(), func(s *session.Session) error { return s.Rotate("h1", "h2", now(), ttl) })
	require.NoError(t, err)

	reusedAt := now()
	out, err := st.Update(ctx, s.ID(), func(s *session.Session) error { return s.Rotate("h1", "h3", reusedAt, ttl) })
	require.ErrorIs(t, err, session.ErrReuse)
	require.NotNil(t, out)
	assert.True(t, out.IsRevoked())

	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assert.True(t, got.IsRevoked(), "the revoke fn made was saved despite its error")
	assert.True(t, got.RevokedAt().Equal(reusedAt))
	assert.Equal(t, "h2", got.CurrentHash())
	assert.ErrorIs(t, st.CheckAccess(ctx, s.ID(), s.UserID(), now()), session.ErrRevoked)

	// The newest token of the family no longer works either.
	_, err = st.Update(ctx, s.ID(), func(s *session.Session) error { return s.Rotate("h2", "h4", now(), ttl) })
	assert.ErrorIs(t, err, session.ErrRevoked)
}

func testUpdateConcurrentRotationsWithOneToken(t *testing.T, newStore storeMaker) {
	for _, n := range []int{2, 8} {
		t.Run(fmt.Sprint(n), func(t *testing.T) {
			ctx := context.Background()
			st, _, _ := newStore(t)
			s := create(t, st, newSession(t, uuid.NewString(), "h0", now(), ttl))

			// Every caller reads the session before any of them writes: all
			// first attempts wait at the barrier, so they must conflict.
			var arrived sync.WaitGroup
			arrived.Add(n)
			errs := make([]error, n)
			var wg sync.WaitGroup
			for i := range n {
				wg.Go(func() {
					first := true
					_, errs[i] = st.Update(ctx, s.ID(), func(s *session.Session) error {
						if first {
							first = false
							arrived.Done()
							arrived.Wait()
						}
						return s.Rotate("h0", fmt.Sprintf("new-%d", i), now(), ttl)
					})
				})
			}
			wg.Wait()

			var won, reused int
			for _, err := range errs {
				switch {
				case err == nil:
					won++
				case errors.Is(err, session.ErrReuse):
					reused++
				case errors.Is(err, session.ErrRevoked):
					reused++ // later callers find it already revoked by the first reuse
				default:
					t.Errorf("unexpected error: %v", err)
				}
			}
			assert.Equal(t, 1, won, "exactly one rotation wins")
			assert.Equal(t, n-1, reused)

			got, err := st.Get(ctx, s.ID())
			require.NoError(t, err)
			assert.True(t, got.IsRevoked(), "reuse ends the session")
			assert.Equal(t, []string{"h0"}, got.UsedHashes(), "h0 was exchanged exactly once")
		})
	}
}

func testUpdateUnknown(t *testing.T, newStore storeMaker) {
	st, _, _ := newStore(t)
	called := false
	out, err := st.Update(context.Background(), uuid.NewString(), func(*session.Session) error {
		called = true
		return nil
	})
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.Nil(t, out)
	assert.False(t, called)
}

func testRevoke(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	s := create(t, st, newSession(t, uuid.NewString(), "h1", now(), ttl))
	require.NoError(t, st.CheckAccess(ctx, s.ID(), s.UserID(), now()))

	first := now()
	require.NoError(t, st.Revoke(ctx, s.ID(), first))
	assert.ErrorIs(t, st.CheckAccess(ctx, s.ID(), s.UserID(), now()), session.ErrRevoked)

	// Idempotent, and the first end time is kept.
	require.NoError(t, st.Revoke(ctx, s.ID(), first.Add(time.Minute)))
	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assert.True(t, got.RevokedAt().Equal(first))

	// The tombstone keeps its natural expiry.
	assert.Greater(t, client.PTTL(ctx, prefix+"session:"+s.ID()).Val(), ttl)

	// Unknown: no error and nothing created.
	unknown := uuid.NewString()
	require.NoError(t, st.Revoke(ctx, unknown, now()))
	assert.Zero(t, client.Exists(ctx, prefix+"session:"+unknown).Val())
}

func testRevokeAllForUserExceptCurrent(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, _, _ := newStore(t)
	userID, otherUser := uuid.NewString(), uuid.NewString()
	s1 := create(t, st, newSession(t, userID, "a", now(), ttl))
	s2 := create(t, st, newSession(t, userID, "b", now(), ttl))
	s3 := create(t, st, newSession(t, userID, "c", now(), ttl))
	other := create(t, st, newSession(t, otherUser, "d", now(), ttl))

	require.NoError(t, st.RevokeAllForUser(ctx, userID, s2.ID(), now()))
	assert.ErrorIs(t, st.CheckAccess(ctx, s1.ID(), userID, now()), session.ErrRevoked)
	assert.NoError(t, st.CheckAccess(ctx, s2.ID(), userID, now()))
	assert.ErrorIs(t, st.CheckAccess(ctx, s3.ID(), userID, now()), session.ErrRevoked)
	assert.NoError(t, st.CheckAccess(ctx, other.ID(), otherUser, now()))

	require.NoError(t, st.RevokeAllForUser(ctx, userID, "", now()))
	assert.ErrorIs(t, st.CheckAccess(ctx, s2.ID(), userID, now()), session.ErrRevoked)
	assert.NoError(t, st.CheckAccess(ctx, other.ID(), otherUser, now()))

	// A user without sessions is not an error.
	require.NoError(t, st.RevokeAllForUser(ctx, uuid.NewString(), "", now()))
}

func testListActive(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	userID := uuid.NewString()
	n := now()
	oldest := create(t, st, newSession(t, userID, "a", n.Add(-3*time.Hour), ttl))
	newest := create(t, st, newSession(t, userID, "b", n.Add(-time.Hour), ttl))
	middle := create(t, st, newSession(t, userID, "c", n.Add(-2*time.Hour), ttl))
	revoked := create(t, st, newSession(t, userID, "d", n.Add(-30*time.Minute), ttl))
	require.NoError(t, st.Revoke(ctx, revoked.ID(), n))
	expired := create(t, st, newSession(t, userID, "e", n.Add(-48*time.Hour), time.Hour))
	lost := create(t, st, newSession(t, userID, "f", n, ttl))
	require.NoError(t, client.Del(ctx, prefix+"session:"+lost.ID()).Err()) // Redis lost it
	create(t, st, newSession(t, uuid.NewString(), "g", n, ttl))            // someone else's

	list, err := st.ListActive(ctx, userID, n)
	require.NoError(t, err)
	ids := make([]string, len(list))
	for i, s := range list {
		ids[i] = s.ID()
	}
	assert.Equal(t, []string{newest.ID(), middle.ID(), oldest.ID()}, ids)
	assertSameSession(t, newest, list[0])

	// Dead members were dropped from the user's set; their records remain
	// as tombstones (the expired one until its grace ends).
	members := client.SMembers(ctx, prefix+"user_sessions:"+userID).Val()
	assert.ElementsMatch(t, []string{newest.ID(), middle.ID(), oldest.ID()}, members)
	_, err = st.Get(ctx, expired.ID())
	assert.NoError(t, err)

	empty, err := st.ListActive(ctx, uuid.NewString(), n)
	require.NoError(t, err)
	assert.NotNil(t, empty)
	assert.Empty(t, empty)
}

func testCheckAccess(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, _, _ := newStore(t)
	n := now()
	s := create(t, st, newSession(t, uuid.NewString(), "h1", n, time.Hour))

	assert.NoError(t, st.CheckAccess(ctx, s.ID(), s.UserID(), n))
	assert.NoError(t, st.CheckAccess(ctx, s.ID(), s.UserID(), n.Add(time.Hour-time.Millisecond)))

	for name, err := range map[string]error{
		"unknown session": st.CheckAccess(ctx, uuid.NewString(), s.UserID(), n),
		"wrong user":      st.CheckAccess(ctx, s.ID(), uuid.NewString(), n),
		"empty user":      st.CheckAccess(ctx, s.ID(), "", n),
		"expired":         st.CheckAccess(ctx, s.ID(), s.UserID(), n.Add(time.Hour)),
	} {
		assert.ErrorIs(t, err, session.ErrRevoked, name)
		assert.ErrorIs(t, err, domain.ErrUnauthorized, name)
	}
}

func TestClosedClientIsUnavailable(t *testing.T) {
	ctx := context.Background()
	_, prefix := testenv.Redis(t)
	client, err := redis.Open(testenv.RedisURL())
	require.NoError(t, err)
	st := redis.NewSessionStore(client, prefix)
	s := newSession(t, uuid.NewString(), "h1", now(), ttl)
	require.NoError(t, client.Close())

	n := now()
	for name, err := range map[string]error{
		"create": st.Create(ctx, s),
		"get":    func() error { _, err := st.Get(ctx, s.ID()); return err }(),
		"update": func() error {
			_, err := st.Update(ctx, s.ID(), func(*session.Session) error { return nil })
			return err
		}(),
		"revoke":       st.Revoke(ctx, s.ID(), n),
		"revoke all":   st.RevokeAllForUser(ctx, s.UserID(), "", n),
		"list":         func() error { _, err := st.ListActive(ctx, s.UserID(), n); return err }(),
		"check access": st.CheckAccess(ctx, s.ID(), s.UserID(), n),
		"ping":         redis.NewPinger(client).Ping(ctx),
	} {
		assert.ErrorIs(t, err, domain.ErrUnavailable, name)
		assert.NotErrorIs(t, err, session.ErrRevoked, name)
		assert.NotErrorIs(t, err, session.ErrNotFound, name)
	}
}

func TestOpen(t *testing.T) {
	ctx := context.Background()
	client, err := redis.Open(testenv.RedisURL())
	require.NoError(t, err)
	assert.NoError(t, redis.NewPinger(client).Ping(ctx))
	require.NoError(t, client.Close())

	// Nothing listens on port 1: Open still succeeds (the gateway starts
	// without Redis), the ping says unavailable, and the password never shows.
	down, err := redis.Open("redis://user:s3cr3t@127.0.0.1:1/0")
	require.NoError(t, err)
	err = redis.NewPinger(down).Ping(ctx)
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.NotContains(t, err.Error(), "s3cr3t")
	require.NoError(t, down.Close())

	for _, bad := range []string{"http://user:s3cr3t@host/0", "redis://user:s3cr3t@host:bad/0", "redis://user:s3cr3t@host/x"} {
		_, err = redis.Open(bad)
		require.Error(t, err, bad)
		assert.NotErrorIs(t, err, domain.ErrUnavailable, bad)
		assert.NotContains(t, err.Error(), "s3cr3t", bad)
	}
}

// TestSessionStore runs every case against both write paths.
func TestSessionStore(t *testing.T) {
	cases := map[string]func(*testing.T, storeMaker){
		"CreateGet":                              testCreateGet,
		"Get_Unknown":                            testGetUnknown,
		"Get_CorruptRecordIsNotNotFound":         testGetCorruptRecordIsNotNotFound,
		"Update_Rotates":                         testUpdateRotates,
		"Update_UnknownTokenChangesNothing":      testUpdateUnknownTokenChangesNothing,
		"Update_PersistsRevokeOnReuse":           testUpdatePersistsRevokeOnReuse,
		"Update_ConcurrentRotationsWithOneToken": testUpdateConcurrentRotationsWithOneToken,
		"Update_Unknown":                         testUpdateUnknown,
		"Revoke":                                 testRevoke,
		"RevokeAllForUser_ExceptCurrent":         testRevokeAllForUserExceptCurrent,
		"ListActive":                             testListActive,
		"CheckAccess":                            testCheckAccess,
	}
	for mode, mk := range map[string]storeMaker{"single node": newStore, "multi node": newMultiNodeStore} {
		t.Run(mode, func(t *testing.T) {
			for name, tc := range cases {
				t.Run(name, func(t *testing.T) { tc(t, mk) })
			}
		})
	}
}

func scanAll(t *testing.T, client goredis.UniversalClient, prefix string) []string {
	t.Helper()
	var keys []string
	iter := client.Scan(context.Background(), 0, prefix+"*", 100).Iterator()
	for iter.Next(context.Background()) {
		keys = append(keys, iter.Val())
	}
	require.NoError(t, iter.Err())
	for _, k := range keys {
		require.True(t, strings.HasPrefix(k, prefix))
	}
	return keys
}

func BenchmarkCheckAccess(b *testing.B) {
	ctx := context.Background()
	st, _, _ := newStore(b)
	s := create(b, st, newSession(b, uuid.NewString(), "h1", now(), ttl))
	n := now()
	for b.Loop() {
		if err := st.CheckAccess(ctx, s.ID(), s.UserID(), n); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCheckAccessParallel(b *testing.B) {
	ctx := context.Background()
	st, _, _ := newStore(b)
	s := create(b, st, newSession(b, uuid.NewString(), "h1", now(), ttl))
	n := now()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if err := st.CheckAccess(ctx, s.ID(), s.UserID(), n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
