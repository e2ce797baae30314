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

const newPassword = "An0ther-strong-one"

type changePasswordMocks struct {
	users    *mocks.MockUserRepository
	hasher   *mocks.MockPasswordHasher
	guard    *mocks.MockLoginGuard
	sessions *mocks.MockSessionStore
}

func newChangePassword(t *testing.T) (*auth.ChangePassword, changePasswordMocks) {
	ctrl := gomock.NewController(t)
	m := changePasswordMocks{
		users:    mocks.NewMockUserRepository(ctrl),
		hasher:   mocks.NewMockPasswordHasher(ctrl),
		guard:    mocks.NewMockLoginGuard(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
	}
	return auth.NewChangePassword(testsupport.InlineTx{}, m.users, m.hasher, m.guard, m.sessions, testsupport.FixedClock(now)), m
}

func changeInput(current, next string) auth.ChangePasswordInput {
	return auth.ChangePasswordInput{Claims: claimsOf(userID, sessionID), CurrentPassword: current, NewPassword: next, Client: lockoutClient}
}

// expectCurrent expects current_password to be checked as a login of the
// user's email from the client is: under the lockout, a match forgiving the
// pair's failures, a mismatch counted as one.
func expectCurrent(m changePasswordMocks, current string, matches bool) []*gomock.Call {
	calls := []*gomock.Call{
		m.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", lockoutClient).Return(ports.Lockout{}, nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", current).Return(matches, nil),
	}
	if matches {
		return append(calls, m.guard.EXPECT().Reset(gomock.Any(), "ann@example.uz", lockoutClient).Return(nil))
	}
	return append(calls, m.guard.EXPECT().Fail(gomock.Any(), "ann@example.uz", lockoutClient).Return(ports.Lockout{}, nil))
}

func TestChangePassword_SavesNewHashAndEndsEveryOtherSession(t *testing.T) {
	uc, m := newChangePassword(t)
	locked := activeUser(user.RoleCustomer)
	calls := append([]*gomock.Call{m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)},
		expectCurrent(m, password, true)...)
	gomock.InOrder(append(calls,
		m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(locked, nil),
		m.users.EXPECT().Update(gomock.Any(), locked).Return(nil),
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, sessionID, now).Return(nil),
	)...)

	require.NoError(t, uc.Handle(context.Background(), changeInput(password, newPassword)))
	assert.Equal(t, "new-hash", locked.PasswordHash())
	assert.Equal(t, now, locked.UpdatedAt())
}

func TestChangePassword_WrongCurrentPasswordSavesNothing(t *testing.T) {
	uc, m := newChangePassword(t) // no Hash, Update or revoke
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	gomock.InOrder(expectCurrent(m, "not-it", false)...)

	err := uc.Handle(context.Background(), changeInput("not-it", newPassword))
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.NotErrorIs(t, err, domain.ErrUnauthorized)
	assert.Equal(t, []string{"current_password"}, testsupport.FieldsOf(t, err))
}

// A wrong current password is a password guess: the lockout counts it (see
// expectCurrent), and while the user's email is locked out for the client,
// or everywhere, the route answers like a login: rate limited, nothing
// verified, nothing saved.
func TestChangePassword_LockedOutVerifiesNothing(t *testing.T) {
	for _, limit := range []int{auth.LockoutFailures, auth.EmailLockoutFailures} {
		uc, m := newChangePassword(t) // no Verify, Fail, Hash, Update or revoke
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		m.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", lockoutClient).
			Return(ports.Lockout{RetryAfter: 7 * time.Minute, Limit: limit}, nil)

		err := uc.Handle(context.Background(), changeInput(password, newPassword))
		require.ErrorIs(t, err, auth.ErrLockedOut)
		var locked *auth.LockedOutError
		require.ErrorAs(t, err, &locked)
		assert.Equal(t, 7*time.Minute, locked.RetryAfter)
		assert.Equal(t, limit, locked.Limit)
		assert.NotErrorIs(t, err, domain.ErrValidation)
	}
}

func TestChangePassword_GuardUnavailableRefuses(t *testing.T) {
	uc, m := newChangePassword(t) // no Verify
	down := errors.Join(errors.New("redis: connection refused"), domain.ErrUnavailable)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.guard.EXPECT().Check(gomock.Any(), "ann@example.uz", lockoutClient).Return(ports.Lockout{}, down)

	assert.ErrorIs(t, uc.Handle(context.Background(), changeInput(password, newPassword)), domain.ErrUnavailable)
}

func TestChangePassword_NamesEveryBadField(t *testing.T) {
	t.Run("weak new password", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		gomock.InOrder(expectCurrent(m, password, true)...)
		err := uc.Handle(context.Background(), changeInput(password, "short"))
		assert.Equal(t, []string{"new_password"}, testsupport.FieldsOf(t, err))
	})
	t.Run("new password is the email", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		gomock.InOrder(expectCurrent(m, password, true)...)
		err := uc.Handle(context.Background(), changeInput(password, "Ann@Example.uz"))
		assert.Equal(t, []string{"new_password"}, testsupport.FieldsOf(t, err))
	})
	t.Run("both wrong", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		gomock.InOrder(expectCurrent(m, "not-it", false)...)
		err := uc.Handle(context.Background(), changeInput("not-it", "short"))
		assert.Equal(t, []string{"current_password", "new_password"}, testsupport.FieldsOf(t, err))
	})
	t.Run("empty current password is not verified", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		err := uc.Handle(context.Background(), changeInput("", newPassword))
		assert.Equal(t, []string{"current_password"}, testsupport.FieldsOf(t, err))
	})
}

func TestChangePassword_PasswordChangedMeanwhileIsRefused(t *testing.T) {
	uc, m := newChangePassword(t) // no Update or revoke
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	gomock.InOrder(expectCurrent(m, password, true)...)
	m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil)
	changed := user.Restore(userID, "ann@example.uz", "changed-hash", "Ann", "", user.RoleCustomer, user.StatusActive, now, now)
	m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(changed, nil)

	err := uc.Handle(context.Background(), changeInput(password, newPassword))
	assert.Equal(t, []string{"current_password"}, testsupport.FieldsOf(t, err))
	assert.Equal(t, "changed-hash", changed.PasswordHash())
}

func TestChangePassword_MissingUserIsRevoked(t *testing.T) {
	uc, m := newChangePassword(t)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, user.ErrNotFound)

	err := uc.Handle(context.Background(), changeInput(password, newPassword))
	assert.ErrorIs(t, err, session.ErrRevoked)
}

func TestChangePassword_PropagatesErrors(t *testing.T) {
	boom := errors.New("boom")
	t.Run("update", func(t *testing.T) {
		uc, m := newChangePassword(t) // no revoke when nothing was saved
		locked := activeUser(user.RoleCustomer)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		gomock.InOrder(expectCurrent(m, password, true)...)
		m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil)
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(locked, nil)
		m.users.EXPECT().Update(gomock.Any(), locked).Return(boom)
		assert.ErrorIs(t, uc.Handle(context.Background(), changeInput(password, newPassword)), boom)
	})
	t.Run("revoke", func(t *testing.T) {
		uc, m := newChangePassword(t)
		locked := activeUser(user.RoleCustomer)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		gomock.InOrder(expectCurrent(m, password, true)...)
		m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil)
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(locked, nil)
		m.users.EXPECT().Update(gomock.Any(), locked).Return(nil)
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, sessionID, now).Return(boom)
		assert.ErrorIs(t, uc.Handle(context.Background(), changeInput(password, newPassword)), boom)
	})
}

// An account made by phone login has no password to prove: current_password
// is incorrect whatever it is, with nothing verified or counted (its first
// password comes from POST /api/auth/password/reset).
func TestChangePassword_AccountWithoutPassword(t *testing.T) {
	uc, m := newChangePassword(t) // no guard or hasher EXPECT: using them fails the test
	noPassword := user.Restore(userID, "", "", "", "+998901234567", user.RoleCustomer, user.StatusActive, now, now).
		WithPhoneVerified(true)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(noPassword, nil)

	err := uc.Handle(context.Background(), changeInput("anything-at-all", "N3w-strong-pass"))
	assert.Equal(t, []string{"current_password"}, testsupport.FieldsOf(t, err))
}
