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
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
)

const (
	dummyHash = "$argon2id$dummy"
	client    = "203.0.113.7"
	email     = "ann@example.uz"
	password  = "Str0ng-enough-pass"
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
	// The dummy is hashed once, at construction, from a random password.
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Not("")).Return(dummyHash, nil).Times(1)
	uc, err := auth.NewLogin(m.users, m.hasher, m.guard, m.sessions, m.tokens, fixedID(sessionID), fixedClock{now}, refreshTTL)
	require.NoError(t, err)
	return uc, m
}

func loginInput(pw string) auth.LoginInput {
	return auth.LoginInput{Email: " Ann@Example.UZ ", Password: pw, UserAgent: "app/1.0", IP: client}
}

func TestNewLogin_FailsWhenTheDummyHashFails(t *testing.T) {
	ctrl := gomock.NewController(t)
	hasher := mocks.NewMockPasswordHasher(ctrl)
	boom := errors.New("boom")
	hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("", boom)
	_, err := auth.NewLogin(mocks.NewMockUserRepository(ctrl), hasher, mocks.NewMockLoginGuard(ctrl),
		mocks.NewMockSessionStore(ctrl), mocks.NewMockTokenIssuer(ctrl), fixedID(sessionID), fixedClock{now}, refreshTTL)
	assert.ErrorIs(t, err, boom)
}

func TestLogin_RightPasswordResetsFailuresAndStartsSession(t *testing.T) {
	uc, m := newLogin(t)
	u := activeUser(user.RoleSeller)
	calls := []*gomock.Call{
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(u, nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil),
		m.guard.EXPECT().Reset(gomock.Any(), email, client).Return(nil),
	}
	start, stored := expectSessionStart(m.sessions, m.tokens, u, sessionID)
	gomock.InOrder(append(calls, start...)...)

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
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, user.ErrNotFound),
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil).Times(1),
		m.guard.EXPECT().Fail(gomock.Any(), email, client).Return(time.Duration(0), nil),
	)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.ErrorIs(t, err, domain.ErrUnauthorized)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestLogin_WrongPasswordAnswersInvalidCredentialsEvenWhenItCausesTheLockout(t *testing.T) {
	uc, m := newLogin(t)
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(activeUser(user.RoleCustomer), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", "wrong-password").Return(false, nil),
		m.guard.EXPECT().Fail(gomock.Any(), email, client).Return(15*time.Minute, nil),
	)

	_, err := uc.Handle(context.Background(), loginInput("wrong-password"))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.NotErrorIs(t, err, auth.ErrLockedOut)
}

func TestLogin_LockedOutNeverVerifies(t *testing.T) {
	uc, m := newLogin(t) // no Verify, GetByEmail or Fail expected
	m.guard.EXPECT().Check(gomock.Any(), email, client).Return(3*time.Minute, nil)

	_, err := uc.Handle(context.Background(), loginInput(password))
	require.ErrorIs(t, err, auth.ErrLockedOut)
	var locked *auth.LockedOutError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, 3*time.Minute, locked.RetryAfter)
}

func TestLogin_GuardUnavailableRefusesTheLogin(t *testing.T) {
	uc, m := newLogin(t)
	down := errors.Join(errors.New("redis: connection refused"), domain.ErrUnavailable)
	m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), down)

	_, err := uc.Handle(context.Background(), loginInput(password))
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

func TestLogin_BlockedUserWithRightPasswordIsForbidden(t *testing.T) {
	uc, m := newLogin(t) // no Reset, Fail or session expected
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil),
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
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil),
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(blockedUser(), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", "wrong-password").Return(false, nil),
		m.guard.EXPECT().Fail(gomock.Any(), email, client).Return(time.Duration(0), nil),
	)

	_, err := uc.Handle(context.Background(), loginInput("wrong-password"))
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.NotErrorIs(t, err, domain.ErrForbidden)
}

func TestLogin_MalformedEmailIsInvalidCredentialsNotValidation(t *testing.T) {
	uc, m := newLogin(t) // no GetByEmail: no account can have it
	gomock.InOrder(
		m.guard.EXPECT().Check(gomock.Any(), "not-an-email", client).Return(time.Duration(0), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil).Times(1),
		m.guard.EXPECT().Fail(gomock.Any(), "not-an-email", client).Return(time.Duration(0), nil),
	)

	_, err := uc.Handle(context.Background(), auth.LoginInput{Email: " Not-An-Email ", Password: password, IP: client})
	assert.ErrorIs(t, err, auth.ErrInvalidCredentials)
	assert.NotErrorIs(t, err, domain.ErrValidation)
}

func TestLogin_EmptyFieldsAreValidationErrors(t *testing.T) {
	uc, _ := newLogin(t) // nothing else may be called

	_, err := uc.Handle(context.Background(), auth.LoginInput{Email: "  ", Password: "", IP: client})
	assert.Equal(t, []string{"email", "password"}, fieldsOf(t, err))

	_, err = uc.Handle(context.Background(), auth.LoginInput{Email: email, Password: "", IP: client})
	assert.Equal(t, []string{"password"}, fieldsOf(t, err))
}

func TestLogin_PropagatesInfrastructureErrors(t *testing.T) {
	boom := errors.New("boom")

	t.Run("user lookup", func(t *testing.T) {
		uc, m := newLogin(t)
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
	})
	t.Run("verify", func(t *testing.T) {
		uc, m := newLogin(t)
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), gomock.Any(), gomock.Any()).Return(false, boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
		assert.NotErrorIs(t, err, auth.ErrInvalidCredentials)
	})
	t.Run("fail", func(t *testing.T) {
		uc, m := newLogin(t)
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(nil, user.ErrNotFound)
		m.hasher.EXPECT().Verify(gomock.Any(), dummyHash, password).Return(false, nil)
		m.guard.EXPECT().Fail(gomock.Any(), email, client).Return(time.Duration(0), boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
	})
	t.Run("reset", func(t *testing.T) {
		uc, m := newLogin(t) // no session is started
		m.guard.EXPECT().Check(gomock.Any(), email, client).Return(time.Duration(0), nil)
		m.users.EXPECT().GetByEmail(gomock.Any(), email).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
		m.guard.EXPECT().Reset(gomock.Any(), email, client).Return(boom)
		_, err := uc.Handle(context.Background(), loginInput(password))
		assert.ErrorIs(t, err, boom)
	})
}
