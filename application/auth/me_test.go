package auth_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
)

func TestMe_ReadsTheCallerAndCachesItInTheSession(t *testing.T) {
	ctrl := gomock.NewController(t)
	users, sessions := mocks.NewMockUserRepository(ctrl), mocks.NewMockSessionStore(ctrl)
	u := activeUser(user.RoleCustomer)
	gomock.InOrder(
		users.EXPECT().GetByID(gomock.Any(), userID).Return(u, nil),
		// the generation the session check read, so a change committed
		// meanwhile makes the store refuse the old profile
		sessions.EXPECT().CacheProfile(gomock.Any(), sessionID, u, int64(7)).Return(nil),
	)

	got, err := auth.NewMe(users, sessions).Handle(context.Background(),
		auth.MeInput{Claims: claimsOf(userID, sessionID), Access: ports.SessionAccess{Role: user.RoleCustomer, ProfileGen: 7}})
	require.NoError(t, err)
	assert.Same(t, u, got)
}

func TestMe_ServedFromTheSessionsCachedProfileWithoutTheDatabase(t *testing.T) {
	ctrl := gomock.NewController(t)
	// No EXPECT: any UserRepository or SessionStore call fails the test.
	users, sessions := mocks.NewMockUserRepository(ctrl), mocks.NewMockSessionStore(ctrl)
	cached := activeUser(user.RoleCustomer)

	got, err := auth.NewMe(users, sessions).Handle(context.Background(),
		auth.MeInput{Claims: claimsOf(userID, sessionID), Access: ports.SessionAccess{Role: user.RoleCustomer, Profile: cached}})
	require.NoError(t, err)
	assert.Same(t, cached, got)
}

func TestMe_CacheFailureStillAnswers(t *testing.T) {
	ctrl := gomock.NewController(t)
	users, sessions := mocks.NewMockUserRepository(ctrl), mocks.NewMockSessionStore(ctrl)
	u := activeUser(user.RoleCustomer)
	users.EXPECT().GetByID(gomock.Any(), userID).Return(u, nil)
	sessions.EXPECT().CacheProfile(gomock.Any(), sessionID, u, int64(0)).Return(fmt.Errorf("redis: %w", domain.ErrUnavailable))

	got, err := auth.NewMe(users, sessions).Handle(context.Background(), auth.MeInput{Claims: claimsOf(userID, sessionID)})
	require.NoError(t, err)
	assert.Same(t, u, got)
}

func TestMe_MissingUserIsARevokedTokenNotA404(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, user.ErrNotFound)

	_, err := auth.NewMe(users, mocks.NewMockSessionStore(ctrl)).Handle(context.Background(), auth.MeInput{Claims: claimsOf(userID, sessionID)})
	assert.ErrorIs(t, err, session.ErrRevoked)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestMe_PropagatesStorageErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	boom := errors.New("boom")
	users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, boom)

	_, err := auth.NewMe(users, mocks.NewMockSessionStore(ctrl)).Handle(context.Background(), auth.MeInput{Claims: claimsOf(userID, sessionID)})
	assert.ErrorIs(t, err, boom)
}

func TestMe_CachedProfileOfAnotherRoleIsReadAgain(t *testing.T) {
	ctrl := gomock.NewController(t)
	users, sessions := mocks.NewMockUserRepository(ctrl), mocks.NewMockSessionStore(ctrl)
	fresh := activeUser(user.RoleCustomer)
	users.EXPECT().GetByID(gomock.Any(), userID).Return(fresh, nil)
	sessions.EXPECT().CacheProfile(gomock.Any(), sessionID, fresh, int64(2)).Return(nil)
	claims := claimsOf(userID, sessionID)
	require.Equal(t, user.RoleCustomer, claims.Role)

	got, err := auth.NewMe(users, sessions).Handle(context.Background(), auth.MeInput{Claims: claims,
		Access: ports.SessionAccess{Role: claims.Role, Profile: activeUser(user.RoleAdmin), ProfileGen: 2}})
	require.NoError(t, err)
	assert.Same(t, fresh, got)
}
