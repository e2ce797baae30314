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
	"github.com/ultramarket/gateway/test/testsupport"
)

type registerMocks struct {
	users    *mocks.MockUserRepository
	hasher   *mocks.MockPasswordHasher
	sessions *mocks.MockSessionStore
	tokens   *mocks.MockTokenIssuer
}

func newRegister(t *testing.T, id string) (*auth.Register, registerMocks) {
	ctrl := gomock.NewController(t)
	m := registerMocks{
		users:    mocks.NewMockUserRepository(ctrl),
		hasher:   mocks.NewMockPasswordHasher(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
		tokens:   mocks.NewMockTokenIssuer(ctrl),
	}
	return auth.NewRegister(m.users, m.hasher, m.sessions, m.tokens, testsupport.FixedID(id), testsupport.FixedClock(now), life), m
}

func TestRegister_CreatesCustomerAndStartsSession(t *testing.T) {
	// One id generator serves both the user and the session here.
	uc, m := newRegister(t, userID)
	var saved *user.User
	m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), "+998901234567").Return(nil, user.ErrNotFound)
	hash := m.hasher.EXPECT().Hash(gomock.Any(), "Str0ng-enough-pass").Return("$argon2id$new", nil)
	create := m.users.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, u *user.User) error {
		saved = u
		return nil
	})
	want := user.Restore(userID, "ann@example.uz", "$argon2id$new", "Ann Lee", "+998901234567", user.RoleCustomer, user.StatusActive, now, now)
	epoch := m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil)
	start, stored := expectSessionStart(m.sessions, m.tokens, want, userID, 0, nil)
	// The epoch is read before the account exists.
	gomock.InOrder(append([]*gomock.Call{hash, epoch, create}, start...)...)

	res, err := uc.Handle(context.Background(), auth.RegisterInput{
		Email: "  Ann@Example.UZ ", Password: "Str0ng-enough-pass", FullName: " Ann Lee ", Phone: "+998901234567",
		UserAgent: "curl/8", IP: "203.0.113.7",
	})
	require.NoError(t, err)
	require.NotNil(t, saved)
	assert.Equal(t, want, saved)
	assert.Same(t, saved, res.User)
	assertTokens(t, userID, res.Tokens)

	s := *stored
	require.NotNil(t, s)
	assert.Equal(t, userID, s.ID())
	assert.Equal(t, userID, s.UserID())
	assert.Equal(t, "refresh-hash", s.CurrentHash())
	assert.Equal(t, "curl/8", s.UserAgent())
	assert.Equal(t, "203.0.113.7", s.IP())
	assert.Equal(t, now.Add(refreshTTL), s.ExpiresAt())
}

func TestRegister_CollectsEveryInvalidFieldAndNeverHashes(t *testing.T) {
	uc, _ := newRegister(t, userID) // no EXPECT: hashing or storing fails the test

	_, err := uc.Handle(context.Background(), auth.RegisterInput{
		Email: "not-an-email", Password: "short", FullName: "   ", Phone: "12345",
	})
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.Equal(t, []string{"email", "password", "full_name", "phone"}, testsupport.FieldsOf(t, err))
}

func TestRegister_PasswordPolicyChecksAgainstTheNormalisedEmail(t *testing.T) {
	uc, _ := newRegister(t, userID)

	_, err := uc.Handle(context.Background(), auth.RegisterInput{
		Email: " Long.Name@Example.UZ", Password: "long.name@example.uz", FullName: "Ann",
	})
	assert.Equal(t, []string{"password"}, testsupport.FieldsOf(t, err))

	_, err = uc.Handle(context.Background(), auth.RegisterInput{Email: "ann@example.uz", Password: "password", FullName: "Ann"})
	assert.Equal(t, []string{"password"}, testsupport.FieldsOf(t, err), "common password")
}

func TestRegister_EmailTakenPassesThroughAndStartsNoSession(t *testing.T) {
	uc, m := newRegister(t, userID)
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("$argon2id$new", nil)
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil)
	m.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(user.ErrEmailTaken)

	_, err := uc.Handle(context.Background(), auth.RegisterInput{Email: "ann@example.uz", Password: "Str0ng-enough-pass", FullName: "Ann"})
	assert.ErrorIs(t, err, user.ErrEmailTaken)
	assert.ErrorIs(t, err, domain.ErrConflict)
}

func TestRegister_PropagatesHashAndSessionErrors(t *testing.T) {
	in := auth.RegisterInput{Email: "ann@example.uz", Password: "Str0ng-enough-pass", FullName: "Ann"}
	boom := errors.New("boom")

	uc, m := newRegister(t, userID)
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("", boom)
	_, err := uc.Handle(context.Background(), in)
	assert.ErrorIs(t, err, boom)

	uc, m = newRegister(t, userID)
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("$argon2id$new", nil)
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil)
	m.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(nil)
	m.tokens.EXPECT().NewRefresh(userID).Return("r", "h", nil)
	m.tokens.EXPECT().IssueAccess(gomock.Any()).Return("a", claimsOf(userID, userID), nil)
	unavailable := errors.Join(errors.New("redis down"), domain.ErrUnavailable)
	m.sessions.EXPECT().Create(gomock.Any(), gomock.Any(), int64(0)).Return(unavailable)
	_, err = uc.Handle(context.Background(), in)
	assert.ErrorIs(t, err, domain.ErrUnavailable)

	// Redis down before the account is stored: no account without a session.
	uc, m = newRegister(t, userID) // no users.Create expected
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("$argon2id$new", nil)
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), unavailable)
	_, err = uc.Handle(context.Background(), in)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

func TestRegister_ExpiresInComesFromTheIssuedClaims(t *testing.T) {
	uc, m := newRegister(t, userID)
	m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("$argon2id$new", nil)
	m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil)
	m.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(nil)
	m.tokens.EXPECT().NewRefresh(userID).Return("r", "h", nil)
	c := claimsOf(userID, userID)
	c.ExpiresAt = c.IssuedAt.Add(5 * time.Minute)
	m.tokens.EXPECT().IssueAccess(gomock.Any()).Return("a", c, nil)
	m.sessions.EXPECT().Create(gomock.Any(), gomock.Any(), int64(0)).Return(nil)

	res, err := uc.Handle(context.Background(), auth.RegisterInput{Email: "ann@example.uz", Password: "Str0ng-enough-pass", FullName: "Ann"})
	require.NoError(t, err)
	assert.Equal(t, int64(300), res.Tokens.ExpiresIn)
}

// TestRegister_StaleSessionRereadsTheNewAccount: the new account's sessions
// were revoked between its creation and its first session's (an admin
// blocked or re-roled it). The session is not stored; the account is read
// again and the session carries what that read says.
func TestRegister_StaleSessionRereadsTheNewAccount(t *testing.T) {
	in := auth.RegisterInput{Email: "ann@example.uz", Password: "Str0ng-enough-pass", FullName: "Ann"}

	t.Run("blocked meanwhile", func(t *testing.T) {
		uc, m := newRegister(t, userID)
		var saved *user.User
		first := []*gomock.Call{
			m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("$argon2id$new", nil),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
			m.users.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, u *user.User) error {
				saved = u
				return nil
			}),
		}
		start, _ := expectSessionStart(m.sessions, m.tokens, activeUser(user.RoleCustomer), userID, 0, errStale)
		gomock.InOrder(append(append(first, start...),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(1), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(blockedUser(), nil),
		)...)

		_, err := uc.Handle(context.Background(), in)
		require.NotNil(t, saved)
		assert.ErrorIs(t, err, user.ErrBlocked)
		assert.ErrorIs(t, err, domain.ErrForbidden)
	})
	t.Run("re-roled meanwhile", func(t *testing.T) {
		uc, m := newRegister(t, userID)
		seller := activeUser(user.RoleSeller)
		first := []*gomock.Call{
			m.hasher.EXPECT().Hash(gomock.Any(), gomock.Any()).Return("$argon2id$new", nil),
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(0), nil),
			m.users.EXPECT().Create(gomock.Any(), gomock.Any()).Return(nil),
		}
		start1, _ := expectSessionStart(m.sessions, m.tokens, activeUser(user.RoleCustomer), userID, 0, errStale)
		again := []*gomock.Call{
			m.sessions.EXPECT().UserEpoch(gomock.Any(), userID).Return(int64(1), nil),
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(seller, nil),
		}
		start2, stored := expectSessionStart(m.sessions, m.tokens, seller, userID, 1, nil)
		gomock.InOrder(append(append(append(first, start1...), again...), start2...)...)

		res, err := uc.Handle(context.Background(), in)
		require.NoError(t, err)
		assert.Same(t, seller, res.User)
		assertTokens(t, userID, res.Tokens)
		require.NotNil(t, *stored)
	})
}

// A phone another account has verified cannot be typed at registration
// (API.md: verified phones are unique, 409 conflict); nothing is hashed or
// stored.
func TestRegister_PhoneVerifiedByAnotherAccount(t *testing.T) {
	uc, m := newRegister(t, userID)
	other := user.Restore("u-other", "", "", "", "+998901234567", user.RoleCustomer, user.StatusActive, now, now).
		WithPhoneVerified(true)
	m.users.EXPECT().GetByVerifiedPhone(gomock.Any(), "+998901234567").Return(other, nil)

	_, err := uc.Handle(context.Background(), auth.RegisterInput{
		Email: "ann@example.uz", Password: "Str0ng-enough-pass", FullName: "Ann Lee", Phone: "+998901234567",
	})
	require.ErrorIs(t, err, user.ErrPhoneTaken)
	require.ErrorIs(t, err, domain.ErrConflict)
}
