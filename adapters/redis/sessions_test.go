package redis_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
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

// sessionRole is the role newSession grants.
const sessionRole = user.RoleSeller

func newSession(t testing.TB, userID, hash string, at time.Time, life time.Duration) *session.Session {
	t.Helper()
	s, err := session.New(uuid.NewString(), userID, sessionRole, hash, "Mozilla/5.0 (test)", "203.0.113.7", at,
		session.Lifetime{TTL: life, MaxAge: 3 * ttl})
	require.NoError(t, err)
	return s
}

// lifetime is a session lifetime of ttl, well within its maximum age.
func lifetime(ttl time.Duration) session.Lifetime {
	return session.Lifetime{TTL: ttl, MaxAge: 3 * ttl}
}

// accessErr is CheckAccess's error, for cases that only care whether it let
// the request through.
func accessErr(_ ports.SessionAccess, err error) error { return err }

// create stores s as a session start does: at the user's current epoch.
func create(t testing.TB, st *redis.SessionStore, s *session.Session) *session.Session {
	t.Helper()
	epoch, err := st.UserEpoch(context.Background(), s.UserID())
	require.NoError(t, err)
	require.NoError(t, st.Create(context.Background(), s, epoch))
	return s
}

func assertSameSession(t *testing.T, want, got *session.Session) {
	t.Helper()
	assert.Equal(t, want.ID(), got.ID())
	assert.Equal(t, want.UserID(), got.UserID())
	assert.Equal(t, want.Role(), got.Role())
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
		return s.Rotate("h1", "h2", sessionRole, t1, lifetime(ttl))
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
		return s.Rotate("never-issued", "h2", sessionRole, now(), lifetime(ttl))
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
	_, err := st.Update(ctx, s.ID(), func(s *session.Session) error { return s.Rotate("h1", "h2", sessionRole, now(), lifetime(ttl)) })
	require.NoError(t, err)

	reusedAt := now()
	out, err := st.Update(ctx, s.ID(), func(s *session.Session) error { return s.Rotate("h1", "h3", sessionRole, reusedAt, lifetime(ttl)) })
	require.ErrorIs(t, err, session.ErrReuse)
	require.NotNil(t, out)
	assert.True(t, out.IsRevoked())

	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assert.True(t, got.IsRevoked(), "the revoke fn made was saved despite its error")
	assert.True(t, got.RevokedAt().Equal(reusedAt))
	assert.Equal(t, "h2", got.CurrentHash())
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s.ID(), s.UserID(), now())), session.ErrRevoked)

	// The newest token of the family no longer works either.
	_, err = st.Update(ctx, s.ID(), func(s *session.Session) error { return s.Rotate("h2", "h4", sessionRole, now(), lifetime(ttl)) })
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
						return s.Rotate("h0", fmt.Sprintf("new-%d", i), sessionRole, now(), lifetime(ttl))
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
	require.NoError(t, accessErr(st.CheckAccess(ctx, s.ID(), s.UserID(), now())))

	first := now()
	require.NoError(t, st.Revoke(ctx, s.ID(), first))
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s.ID(), s.UserID(), now())), session.ErrRevoked)

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
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s1.ID(), userID, now())), session.ErrRevoked)
	assert.NoError(t, accessErr(st.CheckAccess(ctx, s2.ID(), userID, now())))
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s3.ID(), userID, now())), session.ErrRevoked)
	assert.NoError(t, accessErr(st.CheckAccess(ctx, other.ID(), otherUser, now())))

	require.NoError(t, st.RevokeAllForUser(ctx, userID, "", now()))
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s2.ID(), userID, now())), session.ErrRevoked)
	assert.NoError(t, accessErr(st.CheckAccess(ctx, other.ID(), otherUser, now())))

	// A user without sessions is not an error.
	require.NoError(t, st.RevokeAllForUser(ctx, uuid.NewString(), "", now()))
}

func testRevokeAllForUserRaisesEpoch(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	userID, otherUser := uuid.NewString(), uuid.NewString()

	epoch, err := st.UserEpoch(ctx, userID)
	require.NoError(t, err)
	assert.Zero(t, epoch, "never revoked")

	// Raised also for a user without sessions, and once per call.
	for want := int64(1); want <= 3; want++ {
		require.NoError(t, st.RevokeAllForUser(ctx, userID, "", now()))
		epoch, err = st.UserEpoch(ctx, userID)
		require.NoError(t, err)
		assert.Equal(t, want, epoch)
	}
	s := create(t, st, newSession(t, userID, "a", now(), ttl))
	require.NoError(t, st.RevokeAllForUser(ctx, userID, s.ID(), now()))
	epoch, err = st.UserEpoch(ctx, userID)
	require.NoError(t, err)
	assert.Equal(t, int64(4), epoch, "raised also when one session is kept")

	other, err := st.UserEpoch(ctx, otherUser)
	require.NoError(t, err)
	assert.Zero(t, other, "per user")

	// The epoch must never vanish (an INCR from nothing could repeat a value
	// a login still holds): no TTL, and the key carries the prefix.
	key := prefix + "user_epoch:" + userID
	assert.Equal(t, time.Duration(-1), client.PTTL(ctx, key).Val())
	assert.Contains(t, scanAll(t, client, prefix), key)
}

func testCreateStaleEpochWritesNothing(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	userID := uuid.NewString()
	held, err := st.UserEpoch(ctx, userID) // a login reads the epoch ...
	require.NoError(t, err)
	require.NoError(t, st.RevokeAllForUser(ctx, userID, "", now())) // ... a block lands ...

	s := newSession(t, userID, "h1", now(), ttl) // ... and the login stores its session
	err = st.Create(ctx, s, held)
	require.ErrorIs(t, err, session.ErrStale)
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.NotErrorIs(t, err, domain.ErrUnavailable)

	// Nothing but the epoch was written.
	assert.Equal(t, []string{prefix + "user_epoch:" + userID}, scanAll(t, client, prefix))
	_, err = st.Get(ctx, s.ID())
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s.ID(), userID, now())), session.ErrRevoked)

	// An epoch from the future is as stale as one from the past.
	assert.ErrorIs(t, st.Create(ctx, s, held+2), session.ErrStale)

	// With the current epoch the same session is stored.
	current, err := st.UserEpoch(ctx, userID)
	require.NoError(t, err)
	require.NoError(t, st.Create(ctx, s, current))
	assert.NoError(t, accessErr(st.CheckAccess(ctx, s.ID(), userID, now())))
}

// testCreateRacingRevokeAllNeverSurvives races RevokeAllForUser against
// Creates that hold the epoch read before it: once RevokeAllForUser has
// returned, none of their sessions may be live, whichever won each race.
func testCreateRacingRevokeAllNeverSurvives(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, _, _ := newStore(t)
	const rounds, creators = 50, 4
	var created, stale int
	for round := range rounds {
		userID := uuid.NewString()
		held, err := st.UserEpoch(ctx, userID)
		require.NoError(t, err)
		if round%2 == 1 { // also from an epoch other than 0
			require.NoError(t, st.RevokeAllForUser(ctx, userID, "", now()))
			held++
		}
		sessions := make([]*session.Session, creators)
		errs := make([]error, creators)
		var revokeErr error
		start := make(chan struct{})
		var wg sync.WaitGroup
		for i := range creators {
			sessions[i] = newSession(t, userID, fmt.Sprintf("h%d", i), now(), ttl)
			wg.Go(func() {
				<-start
				errs[i] = st.Create(ctx, sessions[i], held)
			})
		}
		wg.Go(func() {
			<-start
			revokeErr = st.RevokeAllForUser(ctx, userID, "", now())
		})
		close(start)
		wg.Wait()
		require.NoError(t, revokeErr)

		for i, s := range sessions {
			switch {
			case errs[i] == nil:
				created++
			case errors.Is(errs[i], session.ErrStale):
				stale++
			default:
				t.Fatalf("round %d: create: %v", round, errs[i])
			}
			assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s.ID(), userID, now())), session.ErrRevoked,
				"round %d: session %d (create: %v) outlived the revocation", round, i, errs[i])
		}
		active, err := st.ListActive(ctx, userID, now())
		require.NoError(t, err)
		assert.Empty(t, active, "round %d", round)
	}
	t.Logf("%d sessions stored before the revocation (and ended by it), %d refused as stale", created, stale)
}

// raiseEpochHook INCRs key once, right after Create's epoch check (one
// node: the GET inside WATCH, so before EXEC) or after its write (multi
// node: between the write and the second check): the narrowest windows a
// concurrent RevokeAllForUser can hit.
type raiseEpochHook struct {
	client goredis.UniversalClient
	key    string
	multi  bool
	fired  atomic.Bool
}

func (h *raiseEpochHook) raise(ctx context.Context) {
	if h.fired.CompareAndSwap(false, true) {
		if err := h.client.Incr(ctx, h.key).Err(); err != nil {
			panic(err)
		}
	}
}

func (h *raiseEpochHook) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *raiseEpochHook) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if !h.multi && cmd.Name() == "get" && cmd.Args()[1] == h.key {
			h.raise(ctx)
		}
		return err
	}
}

func (h *raiseEpochHook) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		for _, c := range cmds {
			if h.multi && c.Name() == "hset" {
				h.raise(ctx)
			}
		}
		return err
	}
}

func testCreateEpochRaisedMidway(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	userID := uuid.NewString()
	held, err := st.UserEpoch(ctx, userID)
	require.NoError(t, err)
	hook := &raiseEpochHook{client: client, key: prefix + "user_epoch:" + userID,
		multi: st.WritesAsMultiNode()}
	client.AddHook(hook)

	s := newSession(t, userID, "h1", now(), ttl)
	err = st.Create(ctx, s, held)
	require.True(t, hook.fired.Load(), "the hook never ran")
	require.ErrorIs(t, err, session.ErrStale)
	assert.ErrorIs(t, accessErr(st.CheckAccess(ctx, s.ID(), userID, now())), session.ErrRevoked, "the session is not live")
	active, err := st.ListActive(ctx, userID, now())
	require.NoError(t, err)
	assert.Empty(t, active)
	if !hook.multi {
		_, err = st.Get(ctx, s.ID())
		assert.ErrorIs(t, err, session.ErrNotFound, "one node: nothing written")
	}
}

func testUserEpochMalformed(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	userID := uuid.NewString()
	require.NoError(t, client.Set(ctx, prefix+"user_epoch:"+userID, "x", 0).Err())

	_, err := st.UserEpoch(ctx, userID)
	require.Error(t, err)
	assert.NotErrorIs(t, err, domain.ErrUnavailable)
	err = st.Create(ctx, newSession(t, userID, "h1", now(), ttl), 0)
	require.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrStale)
	assert.NotErrorIs(t, err, domain.ErrUnavailable)
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

	access, err := st.CheckAccess(ctx, s.ID(), s.UserID(), n)
	require.NoError(t, err)
	assert.Equal(t, ports.SessionAccess{Role: sessionRole}, access, "the role the session was granted")
	assert.NoError(t, accessErr(st.CheckAccess(ctx, s.ID(), s.UserID(), n.Add(time.Hour-time.Millisecond))))

	for name, err := range map[string]error{
		"unknown session": accessErr(st.CheckAccess(ctx, uuid.NewString(), s.UserID(), n)),
		"wrong user":      accessErr(st.CheckAccess(ctx, s.ID(), uuid.NewString(), n)),
		"empty user":      accessErr(st.CheckAccess(ctx, s.ID(), "", n)),
		"expired":         accessErr(st.CheckAccess(ctx, s.ID(), s.UserID(), n.Add(time.Hour))),
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, err, session.ErrRevoked, name)
			assert.ErrorIs(t, err, domain.ErrUnauthorized, name)
		})
	}
}

// A session stored before sessions held their role (no "role" field) is
// live but grants no role; a refresh gives it one and saves it.
func testCheckAccessSessionWithoutARole(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	n := now()
	s := create(t, st, newSession(t, uuid.NewString(), "h1", n, time.Hour))
	require.NoError(t, client.HDel(ctx, prefix+"session:"+s.ID(), "role").Err())

	access, err := st.CheckAccess(ctx, s.ID(), s.UserID(), n)
	require.NoError(t, err)
	assert.Equal(t, user.Role(""), access.Role)
	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assert.Equal(t, user.Role(""), got.Role())

	_, err = st.Update(ctx, s.ID(), func(s *session.Session) error {
		return s.Rotate("h1", "h2", user.RoleAdmin, n, lifetime(time.Hour))
	})
	require.NoError(t, err)
	access, err = st.CheckAccess(ctx, s.ID(), s.UserID(), n)
	require.NoError(t, err)
	assert.Equal(t, user.RoleAdmin, access.Role)
}

// A role the store cannot read is a fault, not an ended session.
func testCheckAccessCorruptRole(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	n := now()
	s := create(t, st, newSession(t, uuid.NewString(), "h1", n, time.Hour))
	require.NoError(t, client.HSet(ctx, prefix+"session:"+s.ID(), "role", "overlord").Err())

	_, err := st.CheckAccess(ctx, s.ID(), s.UserID(), n)
	require.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrRevoked)
	assert.NotErrorIs(t, err, domain.ErrUnavailable)
	_, err = st.Get(ctx, s.ID())
	require.Error(t, err)
	assert.NotErrorIs(t, err, session.ErrNotFound)
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
		"create": st.Create(ctx, s, 0),
		"epoch":  func() error { _, err := st.UserEpoch(ctx, s.UserID()); return err }(),
		"get":    func() error { _, err := st.Get(ctx, s.ID()); return err }(),
		"update": func() error {
			_, err := st.Update(ctx, s.ID(), func(*session.Session) error { return nil })
			return err
		}(),
		"revoke":       st.Revoke(ctx, s.ID(), n),
		"revoke all":   st.RevokeAllForUser(ctx, s.UserID(), "", n),
		"list":         func() error { _, err := st.ListActive(ctx, s.UserID(), n); return err }(),
		"check access": accessErr(st.CheckAccess(ctx, s.ID(), s.UserID(), n)),
		"ping":         redis.NewPinger(client).Ping(ctx),
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, err, domain.ErrUnavailable, name)
			assert.NotErrorIs(t, err, session.ErrRevoked, name)
			assert.NotErrorIs(t, err, session.ErrNotFound, name)
		})
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
		"RevokeAllForUser_RaisesEpoch":           testRevokeAllForUserRaisesEpoch,
		"Create_StaleEpochWritesNothing":         testCreateStaleEpochWritesNothing,
		"Create_RacingRevokeAllNeverSurvives":    testCreateRacingRevokeAllNeverSurvives,
		"Create_EpochRaisedMidway":               testCreateEpochRaisedMidway,
		"UserEpoch_Malformed":                    testUserEpochMalformed,
		"ListActive":                             testListActive,
		"CheckAccess":                            testCheckAccess,
		"CheckAccess_SessionWithoutARole":        testCheckAccessSessionWithoutARole,
		"CheckAccess_CorruptRole":                testCheckAccessCorruptRole,
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
	keys := testenv.RedisKeys(t, client, prefix)
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
		if _, err := st.CheckAccess(ctx, s.ID(), s.UserID(), n); err != nil {
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
			if _, err := st.CheckAccess(ctx, s.ID(), s.UserID(), n); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
