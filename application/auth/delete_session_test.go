package auth_test

import (
	"context"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestDeleteSession_RevokesOwnSession(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	other, err := session.New(otherSID, userID, user.RoleCustomer, "h9", "phone", "", now.Add(-time.Hour), life)
	require.NoError(t, err)
	gomock.InOrder(
		sessions.EXPECT().Get(gomock.Any(), otherSID).Return(other, nil),
		sessions.EXPECT().Revoke(gomock.Any(), otherSID, now).Return(nil),
	)

	err = auth.NewDeleteSession(sessions, testsupport.FixedClock(now)).
		Handle(context.Background(), auth.DeleteSessionInput{Claims: claimsOf(userID, sessionID), SessionID: otherSID})
	require.NoError(t, err)
}

func TestDeleteSession_SomeoneElsesSessionIsNotFound(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl) // no Revoke
	theirs, err := session.New(otherSID, "someone-else", user.RoleCustomer, "h9", "", "", now.Add(-time.Hour), life)
	require.NoError(t, err)
	sessions.EXPECT().Get(gomock.Any(), otherSID).Return(theirs, nil)

	err = auth.NewDeleteSession(sessions, testsupport.FixedClock(now)).
		Handle(context.Background(), auth.DeleteSessionInput{Claims: claimsOf(userID, sessionID), SessionID: otherSID})
	assert.ErrorIs(t, err, session.ErrNotFound)
	assert.False(t, theirs.IsRevoked())
}

func TestDeleteSession_UnknownOrEndedSessionIsNotFound(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl) // no Revoke
	ended, err := session.New(otherSID, userID, user.RoleCustomer, "h9", "", "", now.Add(-time.Hour), life)
	require.NoError(t, err)
	ended.Revoke(now.Add(-time.Minute))
	sessions.EXPECT().Get(gomock.Any(), otherSID).Return(ended, nil)
	sessions.EXPECT().Get(gomock.Any(), "nope").Return(nil, session.ErrNotFound)
	uc := auth.NewDeleteSession(sessions, testsupport.FixedClock(now))

	err = uc.Handle(context.Background(), auth.DeleteSessionInput{Claims: claimsOf(userID, sessionID), SessionID: otherSID})
	assert.ErrorIs(t, err, session.ErrNotFound)
	err = uc.Handle(context.Background(), auth.DeleteSessionInput{Claims: claimsOf(userID, sessionID), SessionID: "nope"})
	assert.ErrorIs(t, err, session.ErrNotFound)
}
