package session_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

const (
	ttl    = 30 * 24 * time.Hour
	maxAge = 90 * 24 * time.Hour
	role   = user.RoleSeller
)

var life = session.Lifetime{TTL: ttl, MaxAge: maxAge}

func newSession(t *testing.T) *session.Session {
	t.Helper()
	s, err := session.New("s1", "u1", role, "h0", "curl/8", "10.0.0.1", t0, life)
	require.NoError(t, err)
	return s
}

func TestErrorChains(t *testing.T) {
	assert.ErrorIs(t, session.ErrNotFound, domain.ErrNotFound)
	assert.ErrorIs(t, session.ErrRevoked, domain.ErrUnauthorized)
	assert.ErrorIs(t, session.ErrReuse, session.ErrRevoked)
	assert.ErrorIs(t, session.ErrReuse, domain.ErrUnauthorized)
	assert.ErrorIs(t, session.ErrExpired, session.ErrRevoked)
	assert.ErrorIs(t, session.ErrUnknownToken, domain.ErrUnauthorized)
	assert.False(t, errors.Is(session.ErrUnknownToken, session.ErrRevoked), "unknown token is plain unauthorized")
	assert.ErrorIs(t, session.ErrTokenExpired, domain.ErrUnauthorized)
	assert.ErrorIs(t, session.ErrTokenInvalid, domain.ErrUnauthorized)
	assert.ErrorIs(t, session.ErrRoleMismatch, session.ErrTokenInvalid, "a token of another role is an invalid one")
	assert.False(t, errors.Is(session.ErrRoleMismatch, session.ErrRevoked))
	assert.ErrorIs(t, session.ErrRoleChanged, session.ErrRevoked, "a session whose role changed has ended")
	assert.False(t, errors.Is(session.ErrTokenExpired, session.ErrRevoked))
	assert.False(t, errors.Is(session.ErrTokenInvalid, session.ErrTokenExpired))
}

func TestNew(t *testing.T) {
	s := newSession(t)
	assert.Equal(t, "s1", s.ID())
	assert.Equal(t, "u1", s.UserID())
	assert.Equal(t, role, s.Role())
	assert.Equal(t, "h0", s.CurrentHash())
	assert.Empty(t, s.UsedHashes())
	assert.Equal(t, "curl/8", s.UserAgent())
	assert.Equal(t, "10.0.0.1", s.IP())
	assert.Equal(t, t0, s.CreatedAt())
	assert.Equal(t, t0, s.LastUsedAt())
	assert.Equal(t, t0.Add(ttl), s.ExpiresAt())
	assert.True(t, s.RevokedAt().IsZero())
	assert.False(t, s.IsRevoked())
	assert.True(t, s.IsActive(t0))
}

func TestNewValidation(t *testing.T) {
	_, err := session.New("s", "u", role, "", "", "", t0, life)
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, err = session.New("s", "u", role, "h", "", "", t0, session.Lifetime{MaxAge: maxAge})
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, err = session.New("s", "u", role, "h", "", "", t0, session.Lifetime{TTL: ttl})
	assert.ErrorIs(t, err, domain.ErrValidation)
	for _, bad := range []user.Role{"", "root", "Admin"} {
		_, err = session.New("s", "u", bad, "h", "", "", t0, life)
		assert.ErrorIs(t, err, domain.ErrValidation, "role %q", bad)
	}
}

func TestNewTruncatesUserAgent(t *testing.T) {
	cases := []struct {
		name    string
		ua      string
		wantLen int
	}{
		{"511", strings.Repeat("a", 511), 511},
		{"512", strings.Repeat("a", 512), 512},
		{"513", strings.Repeat("a", 513), 512},
		{"long", strings.Repeat("a", 5000), 512},
		// 511 ASCII + a 2-byte rune would straddle byte 512: the whole rune goes.
		{"rune straddles", strings.Repeat("a", 511) + "ж" + "tail", 511},
		{"rune ends at 512", strings.Repeat("a", 510) + "ж" + "tail", 512},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := session.New("s", "u", role, "h", c.ua, "", t0, life)
			require.NoError(t, err)
			assert.Len(t, s.UserAgent(), c.wantLen, c.name)
			assert.True(t, strings.HasPrefix(c.ua, s.UserAgent()), c.name)
			assert.True(t, utf8Valid(s.UserAgent()), c.name)
		})
	}
}

func utf8Valid(s string) bool { return strings.ToValidUTF8(s, "\uFFFD") == s }

func TestIsActiveBoundary(t *testing.T) {
	s := newSession(t)
	exp := s.ExpiresAt()
	assert.True(t, s.IsActive(exp.Add(-time.Nanosecond)))
	assert.False(t, s.IsActive(exp), "expires exactly at expiresAt")
	assert.False(t, s.IsActive(exp.Add(time.Millisecond)))
	s.Revoke(t0)
	assert.False(t, s.IsActive(t0))
}

func TestRotateHappyPath(t *testing.T) {
	s := newSession(t)
	t1 := t0.Add(time.Hour)
	require.NoError(t, s.Rotate("h0", "h1", role, t1, life))
	assert.Equal(t, "h1", s.CurrentHash())
	assert.Equal(t, []string{"h0"}, s.UsedHashes())
	assert.Equal(t, t1, s.LastUsedAt())
	assert.Equal(t, t1.Add(ttl), s.ExpiresAt(), "rotation slides the expiry")
	assert.Equal(t, t0, s.CreatedAt())

	t2 := t1.Add(time.Hour)
	require.NoError(t, s.Rotate("h1", "h2", role, t2, session.Lifetime{TTL: time.Hour, MaxAge: maxAge}))
	assert.Equal(t, "h2", s.CurrentHash())
	assert.Equal(t, []string{"h0", "h1"}, s.UsedHashes())
	assert.Equal(t, t2.Add(time.Hour), s.ExpiresAt())
}

func TestRotateTable(t *testing.T) {
	t1 := t0.Add(time.Hour)
	type setup func(*session.Session)
	rotated := func(s *session.Session) { require.NoError(t, s.Rotate("h0", "h1", role, t0, life)) }
	revoked := func(s *session.Session) { s.Revoke(t0) }
	cases := []struct {
		name        string
		prep        setup
		presented   string
		now         time.Time
		want        error
		wantCurrent string
		wantRevoked bool
	}{
		{"current token", nil, "h0", t1, nil, "new", false},
		{"unknown token", nil, "zz", t1, session.ErrUnknownToken, "h0", false},
		{"empty token", nil, "", t1, session.ErrUnknownToken, "h0", false},
		{"used token → reuse", rotated, "h0", t1, session.ErrReuse, "h1", true},
		{"current after rotation", rotated, "h1", t1, nil, "new", false},
		{"revoked, current token", revoked, "h0", t1, session.ErrRevoked, "h0", true},
		{"revoked, unknown token", revoked, "zz", t1, session.ErrRevoked, "h0", true},
		{"expired exactly", nil, "h0", t0.Add(ttl), session.ErrExpired, "h0", false},
		{"expired later", nil, "h0", t0.Add(ttl + time.Second), session.ErrExpired, "h0", false},
		{"just before expiry", nil, "h0", t0.Add(ttl - time.Nanosecond), nil, "new", false},
		{"expired, used token", rotated, "h0", t0.Add(2 * ttl), session.ErrExpired, "h1", false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := newSession(t)
			if c.prep != nil {
				c.prep(s)
			}
			before := s.UsedHashes()
			err := s.Rotate(c.presented, "new", role, c.now, life)
			if c.want == nil {
				require.NoError(t, err)
			} else {
				assert.ErrorIs(t, err, c.want)
				assert.Equal(t, before, s.UsedHashes(), "failed rotation keeps the family")
			}
			assert.Equal(t, c.wantCurrent, s.CurrentHash())
			assert.Equal(t, c.wantRevoked, s.IsRevoked())
		})
	}
}

func TestReuseRevokesAtNowAndEndsTheNewestToken(t *testing.T) {
	s := newSession(t)
	require.NoError(t, s.Rotate("h0", "h1", role, t0, life))
	t1 := t0.Add(time.Minute)
	assert.ErrorIs(t, s.Rotate("h0", "x", role, t1, life), session.ErrReuse)
	assert.Equal(t, t1, s.RevokedAt())
	// The legitimate holder's newest token no longer works either.
	assert.ErrorIs(t, s.Rotate("h1", "h2", role, t1.Add(time.Second), life), session.ErrRevoked)
	assert.False(t, s.IsActive(t1))
}

func TestUsedHashesKeepsLast64(t *testing.T) {
	for _, rotations := range []int{1, 63, 64, 65, 66, 70, 129} {
		s := newSession(t)
		for i := 0; i < rotations; i++ {
			require.NoError(t, s.Rotate(fmt.Sprintf("h%d", i), fmt.Sprintf("h%d", i+1), role, t0, life))
		}
		used := s.UsedHashes()
		first := max(0, rotations-64)
		require.Len(t, used, rotations-first, "after %d rotations", rotations)
		for j, h := range used {
			assert.Equal(t, fmt.Sprintf("h%d", first+j), h, "after %d rotations", rotations)
		}
		if first > 0 {
			// Older than the kept window → unknown, not reuse, and the session survives.
			assert.ErrorIs(t, s.Rotate(fmt.Sprintf("h%d", first-1), "x", role, t0, life), session.ErrUnknownToken)
			assert.False(t, s.IsRevoked())
		}
		assert.ErrorIs(t, s.Rotate(fmt.Sprintf("h%d", first), "x", role, t0, life), session.ErrReuse)
	}
}

func TestUsedHashesIsACopy(t *testing.T) {
	used := []string{"a", "b"}
	s := session.Restore("s", "u", role, "", "", "c", used, t0, t0, t0.Add(ttl), time.Time{})
	used[0] = "mutated"
	assert.Equal(t, []string{"a", "b"}, s.UsedHashes())
	got := s.UsedHashes()
	got[1] = "mutated"
	assert.Equal(t, []string{"a", "b"}, s.UsedHashes())
	assert.ErrorIs(t, s.Rotate("a", "d", role, t0, life), session.ErrReuse)
}

func TestRevokeIsIdempotent(t *testing.T) {
	s := newSession(t)
	t1, t2 := t0.Add(time.Minute), t0.Add(time.Hour)
	s.Revoke(t1)
	assert.True(t, s.IsRevoked())
	assert.Equal(t, t1, s.RevokedAt())
	s.Revoke(t2)
	assert.Equal(t, t1, s.RevokedAt(), "first revocation time is kept")
}

func TestTouch(t *testing.T) {
	s := newSession(t)
	t1 := t0.Add(time.Hour)
	s.Touch(t1)
	assert.Equal(t, t1, s.LastUsedAt())
	assert.Equal(t, t0.Add(ttl), s.ExpiresAt(), "touch does not extend the session")
}

func TestRestore(t *testing.T) {
	t1, t2, t3 := t0.Add(time.Hour), t0.Add(ttl), t0.Add(2*time.Hour)
	s := session.Restore("s", "u", role, "ua", "ip", "cur", nil, t0, t1, t2, t3)
	assert.Equal(t, role, s.Role())
	assert.Equal(t, "ua", s.UserAgent())
	assert.Equal(t, "ip", s.IP())
	assert.Equal(t, "cur", s.CurrentHash())
	assert.Equal(t, t1, s.LastUsedAt())
	assert.Equal(t, t2, s.ExpiresAt())
	assert.Equal(t, t3, s.RevokedAt())
	assert.True(t, s.IsRevoked())
	assert.False(t, s.IsActive(t0))
}

func TestRotateEndsASessionWhoseRoleChanged(t *testing.T) {
	s := newSession(t)
	t1 := t0.Add(time.Hour)
	assert.ErrorIs(t, s.Rotate("h0", "h1", user.RoleAdmin, t1, life), session.ErrRoleChanged)
	assert.Equal(t, t1, s.RevokedAt(), "the session ends")
	assert.Equal(t, role, s.Role(), "and keeps the role it had")
	assert.Equal(t, "h0", s.CurrentHash(), "no new token was accepted")
	// The user's next refresh (or a thief's) is refused as of an ended session.
	assert.ErrorIs(t, s.Rotate("h0", "h1", role, t1, life), session.ErrRevoked)
}

func TestRotateWithAnUnknownTokenDoesNotLookAtTheRole(t *testing.T) {
	s := newSession(t)
	assert.ErrorIs(t, s.Rotate("zz", "h1", user.RoleAdmin, t0, life), session.ErrUnknownToken)
	assert.False(t, s.IsRevoked(), "only the holder of the current token can end the session")
}

func TestRotateGivesASessionWithoutARoleTheUsersRole(t *testing.T) {
	// Stored before sessions held their role.
	s := session.Restore("s", "u", "", "ua", "ip", "h0", nil, t0, t0, t0.Add(ttl), time.Time{})
	require.NoError(t, s.Rotate("h0", "h1", user.RoleAdmin, t0.Add(time.Minute), life))
	assert.Equal(t, user.RoleAdmin, s.Role())
	assert.False(t, s.IsRevoked())
}

func TestMaxAgeBoundsTheSessionHoweverOftenItIsRefreshed(t *testing.T) {
	life := session.Lifetime{TTL: 10 * 24 * time.Hour, MaxAge: 25 * 24 * time.Hour}
	s, err := session.New("s", "u", role, "h0", "", "", t0, life)
	require.NoError(t, err)
	assert.Equal(t, t0.Add(life.TTL), s.ExpiresAt())

	day := 24 * time.Hour
	require.NoError(t, s.Rotate("h0", "h1", role, t0.Add(9*day), life))
	assert.Equal(t, t0.Add(19*day), s.ExpiresAt(), "a refresh slides the expiry")
	require.NoError(t, s.Rotate("h1", "h2", role, t0.Add(18*day), life))
	assert.Equal(t, t0.Add(25*day), s.ExpiresAt(), "but never past MaxAge after the login")
	assert.True(t, s.IsActive(t0.Add(25*day-time.Millisecond)))
	assert.False(t, s.IsActive(t0.Add(25*day)))
	assert.ErrorIs(t, s.Rotate("h2", "h3", role, t0.Add(25*day), life), session.ErrExpired)
	assert.Equal(t, "h2", s.CurrentHash())
}

func TestMaxAgeShorterThanTTLBoundsTheFirstExpiry(t *testing.T) {
	s, err := session.New("s", "u", role, "h0", "", "", t0, session.Lifetime{TTL: ttl, MaxAge: time.Hour})
	require.NoError(t, err)
	assert.Equal(t, t0.Add(time.Hour), s.ExpiresAt())
}

// A session stored with a later expiry (under a longer SESSION_MAX_AGE)
// cannot be refreshed past the age in force now.
func TestRotateAppliesTheMaxAgeInForce(t *testing.T) {
	s, err := session.New("s", "u", role, "h0", "", "", t0, life)
	require.NoError(t, err)
	shorter := session.Lifetime{TTL: ttl, MaxAge: time.Hour}
	assert.ErrorIs(t, s.Rotate("h0", "h1", role, t0.Add(time.Hour), shorter), session.ErrExpired)
	require.NoError(t, s.Rotate("h0", "h1", role, t0.Add(time.Hour-time.Millisecond), shorter))
	assert.Equal(t, t0.Add(time.Hour), s.ExpiresAt())
}

func TestExcessEndsTheLeastRecentlyUsed(t *testing.T) {
	at := func(id string, created, lastUsed time.Duration) *session.Session {
		return session.Restore(id, "u", role, "", "", "h", nil, t0.Add(created), t0.Add(lastUsed), t0.Add(ttl), time.Time{})
	}
	a := at("a", 0, 5*time.Hour)
	b := at("b", time.Hour, 2*time.Hour)                    // least recently used
	c := at("c", 2*time.Hour, 3*time.Hour)                  // ties with d on last use, older
	d := at("d", 3*time.Hour, 3*time.Hour+time.Microsecond) // the same millisecond as c
	e := at("e", 4*time.Hour, 4*time.Hour)
	live := []*session.Session{a, b, c, d, e}

	assert.Empty(t, session.Excess(live, 5))
	assert.Empty(t, session.Excess(live, 6))
	assert.Equal(t, []*session.Session{b}, session.Excess(live, 4))
	assert.Equal(t, []*session.Session{b, c}, session.Excess(live, 3), "on a tie the older session ends")
	assert.Equal(t, []*session.Session{b, c, d, e}, session.Excess(live, 1))
	assert.Equal(t, []*session.Session{a, b, c, d, e}, live, "the input is left as it was")

	// Same last use and creation: the id decides, so every caller agrees.
	x, y := at("x", 0, time.Hour), at("y", 0, time.Hour)
	assert.Equal(t, []*session.Session{x}, session.Excess([]*session.Session{y, x}, 1))
	assert.Equal(t, []*session.Session{x}, session.Excess([]*session.Session{x, y}, 1))
}
