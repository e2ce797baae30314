package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

func profileOf(userID, name string, at time.Time) *user.User {
	return user.Restore(userID, "ann@example.uz", "$argon2id$secret", name, "+998901234567",
		user.RoleSeller, user.StatusActive, at.Add(-time.Hour).Truncate(time.Microsecond), at).WithPhoneVerified(true).
		WithSellerProfile(fiscal.RestoreSellerProfile("", "31234567890123", true))
}

func TestSessionProfileCache(t *testing.T) {
	for mode, mk := range map[string]storeMaker{"single node": newStore, "multi node": newMultiNodeStore} {
		t.Run(mode, func(t *testing.T) { testSessionProfileCache(t, mk) })
	}
}

func testSessionProfileCache(t *testing.T, newStore storeMaker) {
	ctx := context.Background()
	st, client, prefix := newStore(t)
	n := now()
	userID := uuid.NewString()
	a := create(t, st, newSession(t, userID, "h1", n, time.Hour))
	b := create(t, st, newSession(t, userID, "h2", n, time.Hour))

	access, err := st.CheckAccess(ctx, a.ID(), userID, n)
	require.NoError(t, err)
	assert.Nil(t, access.Profile, "nothing cached before the first me")
	assert.Zero(t, access.ProfileGen)

	old := profileOf(userID, "Ann", n)
	require.NoError(t, st.CacheProfile(ctx, a.ID(), old, access.ProfileGen))
	access, err = st.CheckAccess(ctx, a.ID(), userID, n)
	require.NoError(t, err)
	require.NotNil(t, access.Profile, "the one HMGET returns the profile")
	got := access.Profile
	assert.Equal(t, old.ID(), got.ID())
	assert.Equal(t, old.Email(), got.Email())
	assert.Equal(t, old.FullName(), got.FullName())
	assert.Equal(t, old.Phone(), got.Phone())
	assert.Equal(t, old.PhoneVerified(), got.PhoneVerified())
	assert.Equal(t, old.Role(), got.Role())
	assert.Equal(t, old.Status(), got.Status())
	assert.True(t, old.CreatedAt().Equal(got.CreatedAt()))
	sp, ok := got.SellerProfile()
	require.True(t, ok, "the seller profile me shows")
	assert.Equal(t, "31234567890123", sp.PINFL())
	assert.True(t, sp.VATPayer())
	assert.False(t, got.HasPassword(), "the password hash is never cached")
	raw, err := client.HGet(ctx, prefix+"session:"+a.ID(), "profile").Result()
	require.NoError(t, err)
	assert.NotContains(t, raw, "secret")

	// b's check read generation 0; a change commits and forgets every
	// session's profile; b's late fill of what it read before is refused.
	bAccess, err := st.CheckAccess(ctx, b.ID(), userID, n)
	require.NoError(t, err)
	require.NoError(t, st.ForgetProfiles(ctx, userID))
	require.NoError(t, st.CacheProfile(ctx, b.ID(), old, bAccess.ProfileGen))
	for _, id := range []string{a.ID(), b.ID()} {
		access, err := st.CheckAccess(ctx, id, userID, n)
		require.NoError(t, err)
		assert.Nil(t, access.Profile, "forgotten, and the stale fill did not land")
		assert.Equal(t, int64(1), access.ProfileGen)
	}
	fresh := profileOf(userID, "Anna", n)
	require.NoError(t, st.CacheProfile(ctx, b.ID(), fresh, 1))
	access, err = st.CheckAccess(ctx, b.ID(), userID, n)
	require.NoError(t, err)
	require.NotNil(t, access.Profile)
	assert.Equal(t, "Anna", access.Profile.FullName())

	// The cache fields are not the session's: a rotation keeps working and
	// Get decodes the session as before.
	_, err = st.Update(ctx, b.ID(), func(s *session.Session) error {
		return s.Rotate("h2", "h3", sessionRole, n, lifetime(time.Hour))
	})
	require.NoError(t, err)
	_, err = st.Get(ctx, b.ID())
	require.NoError(t, err)

	// Neither a revoked nor a vanished session gets a profile or a stub.
	require.NoError(t, st.Revoke(ctx, a.ID(), n))
	require.NoError(t, st.CacheProfile(ctx, a.ID(), fresh, 1))
	assert.Zero(t, client.HExists(ctx, prefix+"session:"+a.ID(), "profile").Val())
	require.NoError(t, client.Del(ctx, prefix+"session:"+b.ID()).Err())
	require.NoError(t, st.ForgetProfiles(ctx, userID))
	require.NoError(t, st.CacheProfile(ctx, b.ID(), fresh, 1))
	assert.Zero(t, client.Exists(ctx, prefix+"session:"+b.ID()).Val(), "no stub record")
}
