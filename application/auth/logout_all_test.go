package auth_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestLogoutAll_RevokesEverySessionIncludingTheCurrent(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	uc := auth.NewLogoutAll(sessions, testsupport.FixedClock(now))
	sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, "", now).Return(nil)

	require.NoError(t, uc.Handle(context.Background(), auth.LogoutAllInput{Claims: claimsOf(userID, sessionID)}))
}

func TestLogoutAll_PropagatesStoreErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	uc := auth.NewLogoutAll(sessions, testsupport.FixedClock(now))
	boom := errors.New("boom")
	sessions.EXPECT().RevokeAllForUser(gomock.Any(), userID, "", now).Return(boom)

	assert.ErrorIs(t, uc.Handle(context.Background(), auth.LogoutAllInput{Claims: claimsOf(userID, sessionID)}), boom)
}
