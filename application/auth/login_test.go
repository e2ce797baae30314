package auth_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const (
	dummyHash = "$argon2id$dummy"
	// client is the caller's address; lockoutClient the client the lockout
	// counts by, which the edge derives from it (an IPv6 address's /64).
	client        = "2001:db8:1:2::7"
	lockoutClient = "2001:db8:1:2::/64"
	email         = "ann@example.uz"
	password      = "Str0ng-enough-pass"
)

type loginMocks struct {
	users    *mocks.MockUserRepository
	hasher   *mocks.MockPasswordHasher
	guard    *mocks.MockLoginGuard
	sessions *mocks.MockSessionStore
	tokens   *mocks.MockTokenIssuer
}

func newLogin(t *testing.T) (*auth.Login, loginMocks) {
	t.Helper()
	ctrl := gomock.NewController(t)
	m := loginMocks{
		users:    mocks.NewMockUserRepository(ctrl),
		hasher:   mocks.NewMockPasswordHasher(ctrl),
		guard:    mocks.NewMockLoginGuard(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
		tokens:   mocks.NewMockTokenIssuer(ctrl),
	}
	// The dummy is hashed at most once, by the first login, from a random password.
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Not("")).Return(dummyHash, nil).MaxTimes(1)
	uc, err := auth.NewLogin(m.users, m.hasher, m.guard, m.sessions, m.tokens, testsupport.FixedID(sessionID), testsupport.FixedClock(now), policy)
	require.NoError(t, err)
	return uc, m
}

var policy = auth.SessionPolicy{Lifetime: life, MaxPerUser: maxPerUser}

func loginInput(pw string) auth.LoginInput {
	return auth.LoginInput{Email: " Ann@Example.UZ ", Password: pw, UserAgent: "app/1.0", IP: client, Client: lockoutClient}
}

func TestLogin_FailsWhenTheDummyHashFails(t *testing.T) {
	ctrl := gomock.NewController(t)
	hasher := mocks.NewMockPasswordHasher(ctrl)
	boom := errors.New("boom")
	hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("", boom)
	uc, err := auth.NewLogin(mocks.NewMockUserRepository(ctrl), hasher, mocks.NewMockLoginGuard(ctrl),
		mocks.NewMockSessionStore(ctrl), mocks.NewMockTokenIssuer(ctrl), testsupport.FixedID(sessionID), testsupport.FixedClock(now), policy)
	require.NoError(t, err)
	_, err = uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, boom)
}

// Start-up does not pay for the dummy hash (an argon2id hash and its
// memory); the first login does, once, whatever the email.
func TestLogin_TheDummyIsHashedByTheFirstLoginOnly(t *testing.T) {
	ctrl := gomock.NewController(t)
	m := loginMocks{
		users:    mocks.NewMockUserRepository(ctrl),
		hasher:   mocks.NewMockPasswordHasher(ctrl), // no Hash expected: NewLogin must not call it
		guard:    mocks.NewMockLoginGuard(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
		tokens:   mocks.NewMockTokenIssuer(ctrl),
	}
	uc, err := auth.NewLogin(m.users, m.hasher, m.guard, m.sessions, m.tokens, testsupport.FixedID(sessionID), testsupport.FixedClock(now), policy)
	require.NoError(t, err)
	ctrl.Finish()

	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Not("")).Return(dummyHash, nil).Times(1)
	m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil).Times(2)
	m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, user.ErrNotFound).Times(2)
	m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil).Times(2)
	m.guard.EXPECT().Fail(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil).Times(2)
	for range 2 {
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	}
}

func TestLogin_RightPasswordResetsFailuresAndStartsSession(t *testing.T) {
	uc, m := newLogin(t)
	u := activeUser(user.RoleSeller)
	calls := []*gomock.Call{
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(u, nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil),
		m.guard.EXPECT().Reset(gomock.Any(), email, lockoutClient).Return(nil),
		// The revocation epoch, then the account again: the session rests on
		// a read no older than the epoch.
		m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(7), nil),
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(u, nil),
	}
	start, stored := expectSessionStart(m.sessions, m.tokens, u, sessionID, 7, nil)
	gomock.InOrder(append(append(calls, start...), expectOnlySession(m.sessions, stored))...)

	res, err := uc.Handle(context.Background(), loginInput(password))
	require.NoError(t, err)
	assert.Same(t, u, res.User)
	assertTokens(t, sessionID, res.Tokens)
	require.NotNil(t, *stored)
	assert.Equal(t, userID, (*stored).UserID())
	assert.Equal(t, "app/1.0", (*stored).UserAgent())
	assert.Equal(t, client, (*stored).IP())
}

func TestLogin_UnknownEmailVerifiesAgainstTheDummyHashAndRecordsFailure(t *testing.T) {
	uc, m := newLogin(t)
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, user.ErrNotFound),
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil).Times(1),
		m.guard.EXPECT().Fail(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
	)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.ErrorIs(t, err, domain.ErrUnauthorized)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestLogin_WrongPasswordAnswersInvalidCredentialsEvenWhenItCausesTheLockout(t *testing.T) {
	uc, m := newLogin(t)
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(activeUser(user.RoleCustomer), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", "wrong-password").Return(false, nil),
		m.guard.EXPECT().Fail(gomock.Any(), email, lockoutClient).Return(ports.Lockout{RetryAfter: 15 * time.Minute, Limit: auth.LockoutFailures}, nil),
	)

	_, err := uc.Handle(context.Background(), loginInput("wrong-password"))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.NotErrorIs(t, err, auth.ErrLockedOut)
}

func TestLogin_LockedOutNeverVerifies(t *testing.T) {
	for _, limit := range []int{auth.LockoutFailures, auth.EmailLockoutFailures} {
		uc, m := newLogin(t) // no Verify, GetByEmail or Fail expected
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{RetryAfter: 3 * time.Minute, Limit: limit}, nil)

		_, err := uc.Handle(context.Background(), loginInput(password))
		require.ErrorIs(t, err, auth.ErrLockedOut)
		var locked *auth.LockedOutError
		require.ErrorAs(t, err, &locked)
		assert.Equal(t, 3*time.Minute, locked.RetryAfter)
		assert.Equal(t, limit, locked.Limit, "the limit that refused")
	}
}

func TestLogin_GuardUnavailableRefusesTheLogin(t *testing.T) {
	uc, m := newLogin(t)
	down := errors.Join(errors.New("redis: connection refused"), domain.ErrUnavailable)
	m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, down)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

func TestLogin_BlockedUserWithRightPasswordIsForbidden(t *testing.T) {
	uc, m := newLogin(t) // no Reset, Fail or session expected
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(blockedUser(), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil),
	)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, user.ErrBlocked)
	assert.ErrorIs(t, err, domain.ErrForbidden)
	assert.NotErrorIs(t, err, auth.ErrInvalidCredentials)
}

func TestLogin_BlockedUserWithWrongPasswordGetsInvalidCredentials(t *testing.T) {
	uc, m := newLogin(t)
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(blockedUser(), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", "wrong-password").Return(false, nil),
		m.guard.EXPECT().Fail(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
	)

	_, err := uc.Handle(context.Background(), loginInput("wrong-password"))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.NotErrorIs(t, err, domain.ErrForbidden)
}

func TestLogin_MalformedEmailIsInvalidCredentialsNotValidation(t *testing.T) {
	uc, m := newLogin(t) // no GetByEmail: no account can have it
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), "not-an-email", lockoutClient).Return(ports.Lockout{}, nil),
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil).Times(1),
		m.guard.EXPECT().Fail(gomock.Any(), "not-an-email", lockoutClient).Return(ports.Lockout{}, nil),
	)

	_, err := uc.Handle(context.Background(), auth.LoginInput{Email: " Not-An-Email ", Password: password, IP: client, Client: lockoutClient})
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.NotErrorIs(t, err, domain.ErrValidation)
}

func TestLogin_EmptyFieldsAreValidationErrors(t *testing.T) {
	uc, _ := newLogin(t) // nothing else may be called

	_, err := uc.Handle(context.Background(), auth.LoginInput{Email: "  ", Password: "", IP: client})
	assert.Equal(t, []string{"email", "password"}, testsupport.FieldsOf(t, err))

	_, err = uc.Handle(context.Background(), auth.LoginInput{Email: email, Password: "", IP: client})
	assert.Equal(t, []string{"password"}, testsupport.FieldsOf(t, err))
}

func TestLogin_PropagatesInfrastructureErrors(t *testing.T) {
	boom := errors.New("boom")

	t.Run("user lookup", func(t *testing.T) {
		uc, m := newLogin(t)
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
	})
	t.Run("verify", func(t *testing.T) {
		uc, m := newLogin(t)
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any()).Return(false, boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
		assert.NotErrorIs(t, err, auth.ErrInvalidCredentials)
	})
	t.Run("fail", func(t *testing.T) {
		uc, m := newLogin(t)
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, user.ErrNotFound)
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil)
		m.guard.EXPECT().Fail(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
	})
	t.Run("reset", func(t *testing.T) {
		uc, m := newLogin(t) // no session is started
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
		m.guard.EXPECT().Reset(gomock.Any(), email, lockoutClient).Return(boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
	})
}

// expectRightPassword expects a login of u with the right password up to the
// start of its session.
func expectRightPassword(m loginMocks, u *user.User) []*gomock.Call {
	return []*gomock.Call{
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(u, nil),
		m.hasher.EXPECT().Verify(gomock.Any(), u.PasswordHash(), password).Return(true, nil),
		m.guard.EXPECT().Reset(gomock.Any(), email, lockoutClient).Return(nil),
	}
}

// expectOnlySession expects the bound on the user's sessions to find the new
// one (which Create received) alone: nothing ends.
func expectOnlySession(sessions *mocks.MockSessionStore, stored **session.Session) *gomock.Call {
	return sessions.EXPECT().ListActive(gomock.Any(), userID, now).
		DoAndReturn(func(context.Context, string, time.Time) ([]*session.Session, error) {
			return []*session.Session{*stored}, nil
		})
}

// TestLogin_EndsTheLeastRecentlyUsedSessionsBeyondTheBound: with maxPerUser
// (3) sessions already live, a login stores its session and then ends the
// least recently used one; on a tie of last use, the older.
func TestLogin_EndsTheLeastRecentlyUsedSessionsBeyondTheBound(t *testing.T) {
	uc, m := newLogin(t)
	u := activeUser(user.RoleCustomer)
	old := func(id string, created, lastUsed time.Duration) *session.Session {
		return session.Restore(id, userID, user.RoleCustomer, "", "", "h", nil,
			now.Add(-created), now.Add(-lastUsed), now.Add(time.Hour), time.Time{})
	}
	recent := old("recent", 5*time.Hour, time.Minute)
	tiedOlder := old("tied-older", 4*time.Hour, time.Hour) // ends: same last use, older
	tiedNewer := old("tied-newer", 3*time.Hour, time.Hour)
	calls := append(expectRightPassword(m, u),
		m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(u, nil))
	start, stored := expectSessionStart(m.sessions, m.tokens, u, sessionID, 0, nil)
	gomock.InOrder(append(append(calls, start...),
		m.sessions.EXPECT().ListActive(gomock.Any(), userID, now).
			DoAndReturn(func(context.Context, string, time.Time) ([]*session.Session, error) {
				return []*session.Session{recent, *stored, tiedNewer, tiedOlder}, nil
			}),
		m.sessions.EXPECT().Revoke(gomock.Any(), "tied-older", now).Return(nil),
	)...)

	res, err := uc.Handle(context.Background(), loginInput(password))
	require.NoError(t, err)
	assertTokens(t, sessionID, res.Tokens)
}

// TestLogin_BoundFailureEndsTheNewSession: when the store fails while the
// bound is applied, the login fails and its session, whose tokens nobody
// will get, is ended.
func TestLogin_BoundFailureEndsTheNewSession(t *testing.T) {
	down := errors.Join(errors.New("redis: connection refused"), domain.ErrUnavailable)
	for name, fail := range map[string]func(m loginMocks, stored **session.Session) []*gomock.Call{
		"list": func(m loginMocks, _ **session.Session) []*gomock.Call {
			return []*gomock.Call{m.sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return(nil, down)}
		},
		"revoke": func(m loginMocks, stored **session.Session) []*gomock.Call {
			lru := session.Restore("lru", userID, user.RoleCustomer, "", "", "h", nil,
				now.Add(-time.Hour), now.Add(-time.Hour), now.Add(time.Hour), time.Time{})
			others := []*session.Session{lru, lru, lru} // three more: one too many
			return []*gomock.Call{
				m.sessions.EXPECT().ListActive(gomock.Any(), userID, now).
					DoAndReturn(func(context.Context, string, time.Time) ([]*session.Session, error) {
						return append(others, *stored), nil
					}),
				m.sessions.EXPECT().Revoke(gomock.Any(), "lru", now).Return(down),
			}
		},
	} {
		t.Run(name, func(t *testing.T) {
			uc, m := newLogin(t)
			u := activeUser(user.RoleCustomer)
			calls := append(expectRightPassword(m, u),
				m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
				m.users.EXPECT().GetByID(gomock.Any(), userID).Return(u, nil))
			start, stored := expectSessionStart(m.sessions, m.tokens, u, sessionID, 0, nil)
			calls = append(append(calls, start...), fail(m, stored)...)
			gomock.InOrder(append(calls, m.sessions.EXPECT().Revoke(gomock.Any(), sessionID, now).Return(nil))...)

			res, err := uc.Handle(context.Background(), loginInput(password))
			assert.ErrorIs(t, err, domain.ErrUnavailable)
			assert.Empty(t, res.Tokens.AccessToken, "no tokens of an ended session")
		})
	}
}

func withHash(u *user.User, hash string) *user.User {
	return user.Restore(u.ID(), u.Email(), hash, u.FullName(), "", u.Role(), u.Status(), now, now)
}

// TestLogin_BlockedBetweenLookupAndRereadIsForbidden: the block committed
// after the lookup by email but before the read that follows the epoch; the
// re-read sees it and no session is attempted.
func TestLogin_BlockedBetweenLookupAndRereadIsForbidden(t *testing.T) {
	uc, m := newLogin(t) // no session expected
	gomock.InOrder(append(expectRightPassword(m, activeUser(user.RoleCustomer)),
		m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(1), nil),
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(blockedUser(), nil),
	)...)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, user.ErrBlocked)
	assert.ErrorIs(t, err, domain.ErrForbidden)
}

// TestLogin_StaleSessionRereadsAndChecksAgain: the user's sessions were
// revoked between the re-read and the session's creation, so Create refused
// it (nothing stored); the account is read once more and checked anew.
func TestLogin_StaleSessionRereadsAndChecksAgain(t *testing.T) {
	admin := activeUser(user.RoleAdmin)

	t.Run("blocked meanwhile: forbidden", func(t *testing.T) {
		uc, m := newLogin(t)
		calls := append(expectRightPassword(m, admin),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(3), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(admin, nil))
		start, _ := expectSessionStart(m.sessions, m.tokens, admin, sessionID, 3, errStale)
		gomock.InOrder(append(append(calls, start...),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(4), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(blockedUser(), nil),
		)...) // no second Create

		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, user.ErrBlocked)
		assert.ErrorIs(t, err, domain.ErrForbidden)
		assert.NotErrorIs(t, err, session.ErrStale)
	})
	t.Run("demoted meanwhile: the token carries the new role", func(t *testing.T) {
		uc, m := newLogin(t)
		demoted := activeUser(user.RoleCustomer)
		calls := append(expectRightPassword(m, admin),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(admin, nil))
		start1, _ := expectSessionStart(m.sessions, m.tokens, admin, sessionID, 0, errStale)
		again := []*gomock.Call{
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(1), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(demoted, nil),
		}
		start2, stored := expectSessionStart(m.sessions, m.tokens, demoted, sessionID, 1, nil)
		gomock.InOrder(append(append(append(append(calls, start1...), again...), start2...), expectOnlySession(m.sessions, stored))...)

		res, err := uc.Handle(context.Background(), loginInput(password))
		require.NoError(t, err)
		assert.Same(t, demoted, res.User)
		assertTokens(t, sessionID, res.Tokens)
		require.NotNil(t, *stored)
	})
	t.Run("password changed meanwhile: verified against the new hash", func(t *testing.T) {
		for name, matches := range map[string]bool{"still matches": true, "no longer matches": false} {
			t.Run(name, func(t *testing.T) {
				uc, m := newLogin(t) // no Fail: the password was right when tried
				changed := withHash(admin, "new-hash")
				calls := append(expectRightPassword(m, admin),
					m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
					m.users.EXPECT().GetByID(gomock.Any(), userID).Return(admin, nil))
				start1, _ := expectSessionStart(m.sessions, m.tokens, admin, sessionID, 0, errStale)
				calls = append(append(calls, start1...),
					m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(1), nil),
					m.users.EXPECT().GetByID(gomock.Any(), userID).Return(changed, nil),
					m.hasher.EXPECT().Verify(gomock.Any(), "new-hash", password).Return(matches, nil))
				if matches {
					start2, stored := expectSessionStart(m.sessions, m.tokens, changed, sessionID, 1, nil)
					calls = append(append(calls, start2...), expectOnlySession(m.sessions, stored))
				}
				gomock.InOrder(calls...)

				res, err := uc.Handle(context.Background(), loginInput(password))
				if matches {
					require.NoError(t, err)
					assert.Same(t, changed, res.User)
					return
				}
				assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
			})
		}
	})
	t.Run("stale twice: unavailable, no loop", func(t *testing.T) {
		uc, m := newLogin(t)
		calls := append(expectRightPassword(m, admin),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(admin, nil))
		start1, _ := expectSessionStart(m.sessions, m.tokens, admin, sessionID, 0, errStale)
		again := []*gomock.Call{
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(1), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(admin, nil),
		}
		start2, _ := expectSessionStart(m.sessions, m.tokens, admin, sessionID, 1, errStale)
		gomock.InOrder(append(append(append(calls, start1...), again...), start2...)...)

		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, domain.ErrUnavailable)
		assert.NotErrorIs(t, err, domain.ErrConflict, "a 503 to retry, not a 409")
		assert.NotErrorIs(t, err, session.ErrStale)
	})
	t.Run("gone meanwhile: invalid credentials", func(t *testing.T) {
		uc, m := newLogin(t)
		gomock.InOrder(append(expectRightPassword(m, admin),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, user.ErrNotFound),
		)...)

		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
		assert.NotErrorIs(t, err, domain.ErrNotFound)
	})
}

func TestLogin_EpochUnavailableStartsNoSession(t *testing.T) {
	uc, m := newLogin(t) // no GetByID or session expected
	down := errors.Join(errors.New("redis: connection refused"), domain.ErrUnavailable)
	gomock.InOrder(append(expectRightPassword(m, activeUser(user.RoleCustomer)),
		m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), down),
	)...)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

// An account made by phone login that set an email but no password cannot
// log in with one: it fails like an unknown email, at the cost of the dummy
// verification, and counts as a failure.
func TestLogin_AccountWithoutPasswordFailsLikeAnUnknownEmail(t *testing.T) {
	uc, m := newLogin(t)
	noPassword := user.Restore(userID, email, "", "Ann", "+998901234567", user.RoleCustomer, user.StatusActive, now, now).
		WithPhoneVerified(true)
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(noPassword, nil),
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(true, nil).Times(1),
		m.guard.EXPECT().Fail(gomock.Any(), email, lockoutClient).Return(ports.Lockout{}, nil),
	)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
}
