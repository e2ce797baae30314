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

func TestLogout_RevokesTheCurrentSessionOnly(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	uc := auth.NewLogout(sessions, testsupport.FixedClock(now))
	sessions.EXPECT().Revoke(gomock.Any(), sessionID, now).Return(nil)

	require.NoError(t, uc.Handle(context.Background(), auth.LogoutInput{Claims: claimsOf(userID, sessionID)}))
}

func TestLogout_PropagatesStoreErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	uc := auth.NewLogout(sessions, testsupport.FixedClock(now))
	boom := errors.New("boom")
	sessions.EXPECT().Revoke(gomock.Any(), sessionID, now).Return(boom)

	assert.ErrorIs(t, uc.Handle(context.Background(), auth.LogoutInput{Claims: claimsOf(userID, sessionID)}), boom)
}
