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
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
)

func newAuthenticate(t *testing.T) (*auth.Authenticate, *mocks.MockTokenIssuer, *mocks.MockSessionStore) {
	ctrl := gomock.NewController(t)
	tokens := mocks.NewMockTokenIssuer(ctrl)
	sessions := mocks.NewMockSessionStore(ctrl)
	// No user repository is wired: the per-request check never reaches the database.
	return auth.NewAuthenticate(tokens, sessions, fixedClock{now}), tokens, sessions
}

func TestAuthenticate_ValidTokenOfALiveSession(t *testing.T) {
	uc, tokens, sessions := newAuthenticate(t)
	claims := claimsOf(userID, sessionID)
	gomock.InOrder(
		tokens.EXPECT().ParseAccess("access.jwt").Return(claims, nil),
		sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(nil),
	)

	got, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
	require.NoError(t, err)
	assert.Equal(t, claims, got)
}

func TestAuthenticate_BadTokensNeverReachTheStore(t *testing.T) {
	for _, want := range []error{session.ErrTokenExpired, session.ErrTokenInvalid} {
		uc, tokens, _ := newAuthenticate(t)
		tokens.EXPECT().ParseAccess("access.jwt").Return(ports.AccessClaims{}, want)

		got, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
		assert.ErrorIs(t, err, want)
		assert.NotErrorIs(t, err, session.ErrRevoked)
		assert.Equal(t, ports.AccessClaims{}, got)
	}
}

func TestAuthenticate_EndedSessionIsRevoked(t *testing.T) {
	uc, tokens, sessions := newAuthenticate(t)
	tokens.EXPECT().ParseAccess("access.jwt").Return(claimsOf(userID, sessionID), nil)
	sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(session.ErrRevoked)

	got, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
	assert.ErrorIs(t, err, session.ErrRevoked)
	assert.Equal(t, ports.AccessClaims{}, got)
}

func TestAuthenticate_StoreDownIsUnavailable(t *testing.T) {
	uc, tokens, sessions := newAuthenticate(t)
	tokens.EXPECT().ParseAccess("access.jwt").Return(claimsOf(userID, sessionID), nil)
	down := errors.Join(errors.New("redis down"), domain.ErrUnavailable)
	sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(down)

	_, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}
