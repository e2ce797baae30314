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

func TestMe_ReturnsTheCaller(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	u := activeUser(user.RoleCustomer)
	users.EXPECT().GetByID(gomock.Any(), userID).Return(u, nil)

	got, err := auth.NewMe(users).Handle(context.Background(), auth.MeInput{Claims: claimsOf(userID, sessionID)})
	require.NoError(t, err)
	assert.Same(t, u, got)
}

func TestMe_MissingUserIsARevokedTokenNotA404(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, user.ErrNotFound)

	_, err := auth.NewMe(users).Handle(context.Background(), auth.MeInput{Claims: claimsOf(userID, sessionID)})
	assert.ErrorIs(t, err, session.ErrRevoked)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestMe_PropagatesStorageErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	boom := errors.New("boom")
	users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, boom)

	_, err := auth.NewMe(users).Handle(context.Background(), auth.MeInput{Claims: claimsOf(userID, sessionID)})
	assert.ErrorIs(t, err, boom)
}
