package admin_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

var now = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

func TestCreateAdmin_CreatesSuperAdmin(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	hasher := mocks.NewMockPasswordHasher(ctrl)
	uc := admin.NewCreateAdmin(testsupport.InlineTx{}, users, hasher, testsupport.FixedID("u-1"), testsupport.FixedClock(now))

	users.EXPECT().GetByEmail(gomock.Any(), "boss@ultramarket.uz").Return(nil, user.ErrNotFound)
	hasher.EXPECT().Hash(gomock.Any(), "Str0ng-enough-pass").Return("$argon2id$hash", nil)
	var saved *user.User
	users.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, u *user.User) error {
		saved = u
		return nil
	})

	res, err := uc.Handle(context.Background(), "  Boss@UltraMarket.uz ", "Str0ng-enough-pass", "")
	require.NoError(t, err)
	assert.True(t, res.Created)
	require.NotNil(t, saved)
	assert.Equal(t, "u-1", saved.ID())
	assert.Equal(t, "boss@ultramarket.uz", saved.Email())
	assert.Equal(t, user.RoleSuperAdmin, saved.Role())
	assert.Equal(t, user.StatusActive, saved.Status())
	assert.Equal(t, "$argon2id$hash", saved.PasswordHash())
}

func TestCreateAdmin_PromotesExistingWithoutTouchingPassword(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	hasher := mocks.NewMockPasswordHasher(ctrl) // no EXPECT: hashing would fail the test
	uc := admin.NewCreateAdmin(testsupport.InlineTx{}, users, hasher, testsupport.FixedID("unused"), testsupport.FixedClock(now))

	existing := user.Restore("u-7", "seller@ultramarket.uz", "old-hash", "Seller", "", user.RoleSeller, user.StatusBlocked, now, now)
	users.EXPECT().GetByEmail(gomock.Any(), "seller@ultramarket.uz").Return(existing, nil)
	users.EXPECT().GetForUpdate(gomock.Any(), "u-7").Return(existing, nil)
	users.EXPECT().Update(gomock.Any(), existing).Return(nil)

	res, err := uc.Handle(context.Background(), "seller@ultramarket.uz", "whatever-is-ignored", "")
	require.NoError(t, err)
	assert.False(t, res.Created)
	assert.Equal(t, user.RoleSuperAdmin, existing.Role())
	assert.Equal(t, user.StatusActive, existing.Status())
	assert.Equal(t, "old-hash", existing.PasswordHash())
}

func TestCreateAdmin_RefusesWeakPasswordAndBadEmail(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	uc := admin.NewCreateAdmin(testsupport.InlineTx{}, users, mocks.NewMockPasswordHasher(ctrl), testsupport.FixedID("x"), testsupport.FixedClock(now))

	_, err := uc.Handle(context.Background(), "not-an-email", "Str0ng-enough-pass", "")
	assert.ErrorIs(t, err, domain.ErrValidation)

	users.EXPECT().GetByEmail(gomock.Any(), "a@b.uz").Return(nil, user.ErrNotFound)
	_, err = uc.Handle(context.Background(), "a@b.uz", "short", "")
	assert.ErrorIs(t, err, domain.ErrValidation)
}

func TestCreateAdmin_PropagatesStorageErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	uc := admin.NewCreateAdmin(testsupport.InlineTx{}, users, mocks.NewMockPasswordHasher(ctrl), testsupport.FixedID("x"), testsupport.FixedClock(now))
	boom := errors.New("connection reset")
	users.EXPECT().GetByEmail(gomock.Any(), "a@b.uz").Return(nil, boom)
	_, err := uc.Handle(context.Background(), "a@b.uz", "Str0ng-enough-pass", "")
	assert.ErrorIs(t, err, boom)
}
