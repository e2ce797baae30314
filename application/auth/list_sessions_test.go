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
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestListSessions_MarksTheCurrentOne(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	newer, err := session.New(otherSID, userID, user.RoleCustomer, "h9", "phone", "198.51.100.1", now.Add(-time.Minute), life)
	require.NoError(t, err)
	current := storedSession(t)
	sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return([]*session.Session{newer, current}, nil)

	got, err := auth.NewListSessions(sessions, testsupport.FixedClock(now)).
		Handle(context.Background(), auth.ListSessionsInput{Claims: claimsOf(userID, sessionID)})
	require.NoError(t, err)
	assert.Equal(t, []auth.SessionItem{{Session: newer, Current: false}, {Session: current, Current: true}}, got)
}

func TestListSessions_EmptyIsAnEmptyList(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return(nil, nil)

	got, err := auth.NewListSessions(sessions, testsupport.FixedClock(now)).
		Handle(context.Background(), auth.ListSessionsInput{Claims: claimsOf(userID, sessionID)})
	require.NoError(t, err)
	assert.NotNil(t, got, "serialises as [] rather than null")
	assert.Empty(t, got)
}

func TestListSessions_PropagatesStoreErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	sessions := mocks.NewMockSessionStore(ctrl)
	boom := errors.New("boom")
	sessions.EXPECT().ListActive(gomock.Any(), userID, now).Return(nil, boom)

	_, err := auth.NewListSessions(sessions, testsupport.FixedClock(now)).
		Handle(context.Background(), auth.ListSessionsInput{Claims: claimsOf(userID, sessionID)})
	assert.ErrorIs(t, err, boom)
}
