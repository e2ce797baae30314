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
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

func newAuthenticate(t *testing.T) (*auth.Authenticate, *mocks.MockTokenIssuer, *mocks.MockSessionStore) {
	ctrl := gomock.NewController(t)
	tokens := mocks.NewMockTokenIssuer(ctrl)
	sessions := mocks.NewMockSessionStore(ctrl)
	// No user repository is wired: the per-request check never reaches the database.
	return auth.NewAuthenticate(tokens, sessions, testsupport.FixedClock(now)), tokens, sessions
}

func TestAuthenticate_ValidTokenOfALiveSession(t *testing.T) {
	uc, tokens, sessions := newAuthenticate(t)
	claims := claimsOf(userID, sessionID)
	gomock.InOrder(
		tokens.EXPECT().ParseAccess("access.jwt").Return(claims, nil),
		sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(ports.SessionAccess{Role: claims.Role}, nil),
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
	sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(ports.SessionAccess{}, session.ErrRevoked)

	got, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
	assert.ErrorIs(t, err, session.ErrRevoked)
	assert.Equal(t, ports.AccessClaims{}, got)
}

func TestAuthenticate_StoreDownIsUnavailable(t *testing.T) {
	uc, tokens, sessions := newAuthenticate(t)
	tokens.EXPECT().ParseAccess("access.jwt").Return(claimsOf(userID, sessionID), nil)
	down := errors.Join(errors.New("redis down"), domain.ErrUnavailable)
	sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(ports.SessionAccess{}, down)

	_, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

// The session's role authorizes, not the token's claim: a token signed with
// the right key but claiming another role (forged, or from before a role
// change) is refused as invalid, whichever way the roles differ.
func TestAuthenticate_TokenOfAnotherRoleThanItsSessionIsUnauthorized(t *testing.T) {
	for _, tc := range []struct{ claimed, held user.Role }{
		{user.RoleSuperAdmin, user.RoleCustomer},
		{user.RoleAdmin, user.RoleSeller},
		{user.RoleCustomer, user.RoleAdmin},
		{user.RoleCustomer, ""}, // a session stored before sessions held their role
	} {
		t.Run(string(tc.claimed)+" on "+string(tc.held), func(t *testing.T) {
			uc, tokens, sessions := newAuthenticate(t)
			claims := claimsOf(userID, sessionID)
			claims.Role = tc.claimed
			tokens.EXPECT().ParseAccess("access.jwt").Return(claims, nil)
			sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, userID, now).Return(ports.SessionAccess{Role: tc.held}, nil)

			got, err := uc.Handle(context.Background(), auth.AuthenticateInput{AccessToken: "access.jwt"})
			assert.ErrorIs(t, err, session.ErrRoleMismatch)
			assert.ErrorIs(t, err, session.ErrTokenInvalid, "answered like any invalid token: 401 unauthorized")
			assert.NotErrorIs(t, err, session.ErrRevoked)
			assert.Equal(t, ports.AccessClaims{}, got)
		})
	}
}
