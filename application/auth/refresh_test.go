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
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

const presented = sessionID + ".presented"

type refreshMocks struct {
	users    *mocks.MockUserRepository
	sessions *mocks.MockSessionStore
	tokens   *mocks.MockTokenIssuer
}

func newRefresh(t *testing.T) (*auth.Refresh, refreshMocks) {
	ctrl := gomock.NewController(t)
	m := refreshMocks{
		users:    mocks.NewMockUserRepository(ctrl),
		sessions: mocks.NewMockSessionStore(ctrl),
		tokens:   mocks.NewMockTokenIssuer(ctrl),
	}
	return auth.NewRefresh(m.users, m.sessions, m.tokens, testsupport.FixedClock(now), life), m
}

// storedSession was opened an hour ago by a customer with refresh hash "h1".
func storedSession(t *testing.T) *session.Session {
	t.Helper()
	return storedSessionOf(t, user.RoleCustomer)
}

// storedSessionOf is storedSession granted role.
func storedSessionOf(t *testing.T, role user.Role) *session.Session {
	t.Helper()
	s, err := session.New(sessionID, userID, role, "h1", "app/1.0", client, now.Add(-time.Hour), life)
	require.NoError(t, err)
	return s
}

// applyTo makes the mocked Update run fn on s, as the store does: what fn
// changed is kept even when fn fails.
func applyTo(s *session.Session) func(context.Context, string, func(*session.Session) error) (*session.Session, error) {
	return func(_ context.Context, _ string, fn func(*session.Session) error) (*session.Session, error) {
		return s, fn(s)
	}
}

func TestRefresh_RotatesAndIssuesTheSessionsRole(t *testing.T) {
	uc, m := newRefresh(t)
	s := storedSessionOf(t, user.RoleSeller)
	gomock.InOrder(
		m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil),
		m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil),
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleSeller), nil),
		m.tokens.EXPECT().NewRefresh(sessionID).Return(sessionID+".refresh", "h2", nil),
		m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).DoAndReturn(applyTo(s)),
		m.tokens.EXPECT().IssueAccess(ports.AccessClaims{UserID: userID, Role: user.RoleSeller, SessionID: sessionID}).
			Return("access.jwt", claimsOf(userID, sessionID), nil),
	)

	got, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	require.NoError(t, err)
	assertTokens(t, sessionID, got)
	assert.Equal(t, "h2", s.CurrentHash())
	assert.Equal(t, []string{"h1"}, s.UsedHashes())
	assert.Equal(t, now.Add(refreshTTL), s.ExpiresAt())
}

// A role change ends the user's sessions; a session that outlived a failed
// revoke ends at its next refresh instead of being issued the new role.
func TestRefresh_SessionOfAnotherRoleEnds(t *testing.T) {
	uc, m := newRefresh(t)
	s := storedSessionOf(t, user.RoleAdmin)
	m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
	m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.tokens.EXPECT().NewRefresh(sessionID).Return("new", "h2", nil)
	m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).DoAndReturn(applyTo(s))
	// no IssueAccess

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	assert.ErrorIs(t, err, session.ErrRoleChanged)
	assert.ErrorIs(t, err, session.ErrRevoked)
	assert.True(t, s.IsRevoked())
}

// A session stored before sessions held their role gets its user's role on
// refresh, so deploying this does not log everyone out.
func TestRefresh_SessionWithoutARoleGetsTheUsersRole(t *testing.T) {
	uc, m := newRefresh(t)
	s := session.Restore(sessionID, userID, "", "app/1.0", client, "h1", nil,
		now.Add(-time.Hour), now.Add(-time.Hour), now.Add(time.Hour), time.Time{})
	gomock.InOrder(
		m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil),
		m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil),
		m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleSeller), nil),
		m.tokens.EXPECT().NewRefresh(sessionID).Return(sessionID+".refresh", "h2", nil),
		m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).DoAndReturn(applyTo(s)),
		m.tokens.EXPECT().IssueAccess(ports.AccessClaims{UserID: userID, Role: user.RoleSeller, SessionID: sessionID}).
			Return("access.jwt", claimsOf(userID, sessionID), nil),
	)

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	require.NoError(t, err)
	assert.Equal(t, user.RoleSeller, s.Role())
}

func TestRefresh_MalformedTokenIsUnauthorized(t *testing.T) {
	uc, m := newRefresh(t)
	m.tokens.EXPECT().ParseRefresh("garbage").Return("", "", session.ErrTokenInvalid)

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: "garbage"})
	assert.ErrorIs(t, err, session.ErrTokenInvalid)
	assert.NotErrorIs(t, err, session.ErrRevoked)
}

func TestRefresh_UnknownSessionIsUnauthorizedNotNotFound(t *testing.T) {
	uc, m := newRefresh(t)
	m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
	m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(nil, session.ErrNotFound)

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	assert.ErrorIs(t, err, session.ErrUnknownToken)
	assert.ErrorIs(t, err, domain.ErrUnauthorized)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
	assert.NotErrorIs(t, err, session.ErrRevoked)
}

func TestRefresh_SessionGoneDuringUpdateIsUnauthorized(t *testing.T) {
	uc, m := newRefresh(t)
	m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
	m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(storedSession(t), nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.tokens.EXPECT().NewRefresh(sessionID).Return("new", "h2", nil)
	m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).Return(nil, session.ErrNotFound)

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	assert.ErrorIs(t, err, session.ErrUnknownToken)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestRefresh_ReusedTokenEndsTheSession(t *testing.T) {
	uc, m := newRefresh(t)
	s := storedSession(t)
	require.NoError(t, s.Rotate("h1", "h2", user.RoleCustomer, now.Add(-time.Minute), life)) // h1 was used already
	m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
	m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.tokens.EXPECT().NewRefresh(sessionID).Return("new", "h3", nil)
	m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).DoAndReturn(applyTo(s))
	// no IssueAccess

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	assert.ErrorIs(t, err, session.ErrRevoked)
	assert.ErrorIs(t, err, session.ErrReuse)
	assert.True(t, s.IsRevoked())
	assert.Equal(t, "h2", s.CurrentHash(), "the thief's token must not become current")
}

func TestRefresh_EndedSessionIsRevoked(t *testing.T) {
	for name, prepare := range map[string]func(*session.Session){
		"revoked": func(s *session.Session) { s.Revoke(now.Add(-time.Minute)) },
		"expired": nil,
	} {
		t.Run(name, func(t *testing.T) {
			uc, m := newRefresh(t)
			s := storedSession(t)
			if prepare != nil {
				prepare(s)
			} else {
				var err error
				s, err = session.New(sessionID, userID, user.RoleCustomer, "h1", "", "", now.Add(-2*refreshTTL), life)
				require.NoError(t, err)
			}
			m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
			m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil)
			m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
			m.tokens.EXPECT().NewRefresh(sessionID).Return("new", "h2", nil)
			m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).DoAndReturn(applyTo(s))

			_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
			assert.ErrorIs(t, err, session.ErrRevoked)
		})
	}
}

func TestRefresh_TokenTheSessionNeverIssuedIsUnauthorized(t *testing.T) {
	uc, m := newRefresh(t)
	s := storedSession(t)
	m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "forged", nil)
	m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(s, nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(activeUser(user.RoleCustomer), nil)
	m.tokens.EXPECT().NewRefresh(sessionID).Return("new", "h2", nil)
	m.sessions.EXPECT().Update(gomock.Any(), sessionID, gomock.Any()).DoAndReturn(applyTo(s))

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	assert.ErrorIs(t, err, session.ErrUnknownToken)
	assert.NotErrorIs(t, err, session.ErrRevoked)
	assert.False(t, s.IsRevoked())
}

func TestRefresh_BlockedOrMissingUserRevokesTheSession(t *testing.T) {
	for name, lookup := range map[string]func(*gomock.Call){
		"blocked": func(c *gomock.Call) { c.Return(blockedUser(), nil) },
		"missing": func(c *gomock.Call) { c.Return(nil, user.ErrNotFound) },
	} {
		t.Run(name, func(t *testing.T) {
			uc, m := newRefresh(t) // no rotation, no token issued
			m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
			m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(storedSession(t), nil)
			lookup(m.users.EXPECT().GetByID(gomock.Any(), userID))
			m.sessions.EXPECT().Revoke(gomock.Any(), sessionID, now).Return(nil)

			_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
			assert.ErrorIs(t, err, session.ErrRevoked)
			assert.NotErrorIs(t, err, domain.ErrNotFound)
		})
	}
}

func TestRefresh_DatabaseErrorLeavesTheTokenUnused(t *testing.T) {
	uc, m := newRefresh(t) // no Update: the client's retry must still work
	boom := errors.Join(errors.New("pq: connection reset"), domain.ErrUnavailable)
	m.tokens.EXPECT().ParseRefresh(presented).Return(sessionID, "h1", nil)
	m.sessions.EXPECT().Get(gomock.Any(), sessionID).Return(storedSession(t), nil)
	m.users.EXPECT().GetByID(gomock.Any(), userID).Return(nil, boom)

	_, err := uc.Handle(context.Background(), auth.RefreshInput{RefreshToken: presented})
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}
