package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
)

const newPassword = "An0ther-strong-one"

type changePasswordMocks struct {
	users    *mocks.MockUserRepository
	hasher   *mocks.MockPasswordHasher
	sessions *mocks.MockSessionStore
}

func newChangePassword(t *testing.T) (*auth.ChangePassword, changePasswordMocks) {
	ctrl := gomock.NewController(t)
	m := changePasswordMocks{
		users:    mocks.NewMockUserRepository(ctrl),
		hasher:   mocks.NewMockPasswordHasher(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
	}
	return auth.NewChangePassword(inlineTx{}, m.users, m.hasher, m.sessions, fixedClock{now}), m
}

func changeInput(current, next string) auth.ChangePasswordInput {
	return auth.ChangePasswordInput{Claims: claimsOf(userID, sessionID), CurrentPassword: current, NewPassword: next}
}

func TestChangePassword_SavesNewHashAndEndsEveryOtherSession(t *testing.T) {
	uc, m := newChangePassword(t)
	locked := activeUser(user.RoleCustomer)
	gomock.InOrder(
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil),
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil),
		m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(locked, nil),
		m.users.EXPECT().Update(gomock.Any(), locked).Return(nil),
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, sessionID, now).Return(nil),
	)

	require.NoError(t, uc.Handle(context.Background(), changeInput(password, newPassword)))
	assert.Equal(t, "new-hash", locked.PasswordHash())
	assert.Equal(t, now, locked.UpdatedAt())
}

func TestChangePassword_WrongCurrentPasswordSavesNothing(t *testing.T) {
	uc, m := newChangePassword(t) // no Hash, Update or revoke
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", "not-it").Return(false, nil)

	err := uc.Handle(context.Background(), changeInput("not-it", newPassword))
	require.ErrorIs(t, err, domain.ErrValidation)
	assert.NotErrorIs(t, err, domain.ErrUnauthorized)
	assert.Equal(t, []string{"current_password"}, fieldsOf(t, err))
}

func TestChangePassword_NamesEveryBadField(t *testing.T) {
	t.Run("weak new password", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
		err := uc.Handle(context.Background(), changeInput(password, "short"))
		assert.Equal(t, []string{"new_password"}, fieldsOf(t, err))
	})
	t.Run("new password is the email", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
		err := uc.Handle(context.Background(), changeInput(password, "Ann@Example.uz"))
		assert.Equal(t, []string{"new_password"}, fieldsOf(t, err))
	})
	t.Run("both wrong", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", "not-it").Return(false, nil)
		err := uc.Handle(context.Background(), changeInput("not-it", "short"))
		assert.Equal(t, []string{"current_password", "new_password"}, fieldsOf(t, err))
	})
	t.Run("empty current password is not verified", func(t *testing.T) {
		uc, m := newChangePassword(t)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		err := uc.Handle(context.Background(), changeInput("", newPassword))
		assert.Equal(t, []string{"current_password"}, fieldsOf(t, err))
	})
}

func TestChangePassword_PasswordChangedMeanwhileIsRefused(t *testing.T) {
	uc, m := newChangePassword(t) // no Update or revoke
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
	m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil)
	changed := user.Restore(userID, "ann@example.uz", "changed-hash", "Ann", "", user.RoleCustomer, user.StatusActive, now, now)
	m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(changed, nil)

	err := uc.Handle(context.Background(), changeInput(password, newPassword))
	assert.Equal(t, []string{"current_password"}, fieldsOf(t, err))
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
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
		m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil)
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(locked, nil)
		m.users.EXPECT().Update(gomock.Any(), locked).Return(boom)
		assert.ErrorIs(t, uc.Handle(context.Background(), changeInput(password, newPassword)), boom)
	})
	t.Run("revoke", func(t *testing.T) {
		uc, m := newChangePassword(t)
		locked := activeUser(user.RoleCustomer)
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
		m.hasher.EXPECT().Verify(gomock.Any(), "stored-hash", password).Return(true, nil)
		m.hasher.EXPECT().Hash(gomock.Any(), newPassword).Return("new-hash", nil)
		m.users.EXPECT().GetForUpdate(gomock.Any(), userID).Return(locked, nil)
		m.users.EXPECT().Update(gomock.Any(), locked).Return(nil)
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, sessionID, now).Return(boom)
		assert.ErrorIs(t, uc.Handle(context.Background(), changeInput(password, newPassword)), boom)
	})
}
