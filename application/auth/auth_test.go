package auth_test

import (
	"context"
	"errors"
	"fmt"
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
)

var now = time.Date(2026, 11, 27, 8, 0, 0, 0, time.UTC)

// life is how long the tests' sessions live; maxPerUser how many one user
// may have.
var life = session.Lifetime{TTL: refreshTTL, MaxAge: 3 * refreshTTL}

const maxPerUser = 3

const (
	refreshTTL = 720 * time.Hour
	userID     = "6f1c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f"
	sessionID  = "0b5e7d3a-1c2f-4e6a-8b9d-0c1e2f3a4b5c"
	otherSID   = "9d8c7b6a-5f4e-4d3c-8b2a-1f0e9d8c7b6a"
)

func activeUser(role user.Role) *user.User {
	return user.Restore(userID, "ann@example.uz", "stored-hash", "Ann", "", role, user.StatusActive, now, now)
}

func blockedUser() *user.User {
	return user.Restore(userID, "ann@example.uz", "stored-hash", "Ann", "", user.RoleCustomer, user.StatusBlocked, now, now)
}

func claimsOf(uid, sid string) ports.AccessClaims {
	return ports.AccessClaims{UserID: uid, Role: user.RoleCustomer, SessionID: sid, TokenID: "jti", IssuedAt: now, ExpiresAt: now.Add(15 * time.Minute)}
}

// expectSessionStart expects the three calls that open a session for u at
// revocation epoch epoch, the last returning createErr, and returns the calls
// (for InOrder) and a pointer that receives the session given to Create. The
// UserEpoch read comes before the user is read, so each test expects it.
func expectSessionStart(sessions *mocks.MockSessionStore, tokens *mocks.MockTokenIssuer, u *user.User, sid string, epoch int64, createErr error) ([]*gomock.Call, **session.Session) {
	var stored *session.Session
	calls := []*gomock.Call{
		tokens.EXPECT().NewRefresh(sid).Return(sid+".refresh", "refresh-hash", nil),
		tokens.EXPECT().IssueAccess(ports.AccessClaims{UserID: u.ID(), Role: u.Role(), SessionID: sid}).
			DoAndReturn(func(c ports.AccessClaims) (string, ports.AccessClaims, error) {
				c.TokenID, c.IssuedAt, c.ExpiresAt = "jti", now, now.Add(15*time.Minute)
				return "access.jwt", c, nil
			}),
		sessions.EXPECT().Create(gomock.Any(), gomock.Any(), epoch).DoAndReturn(func(_ context.Context, s *session.Session, _ int64) error {
			stored = s
			return createErr
		}),
	}
	return calls, &stored
}

// errStale is what the store answers a Create whose epoch is out of date.
var errStale = fmt.Errorf("redis create session: %w", session.ErrStale)

func assertTokens(t *testing.T, sid string, got auth.Tokens) {
	t.Helper()
	assert.Equal(t, auth.Tokens{AccessToken: "access.jwt", RefreshToken: sid + ".refresh", TokenType: "Bearer", ExpiresIn: 900}, got)
}

func TestLockedOutError_MatchesCategoryAndCarriesRetryAfter(t *testing.T) {
	err := joined(&auth.LockedOutError{RetryAfter: 90 * time.Second})
	assert.ErrorIs(t, err, auth.ErrLockedOut)
	var locked *auth.LockedOutError
	require.ErrorAs(t, err, &locked)
	assert.Equal(t, 90*time.Second, locked.RetryAfter)
	assert.NotErrorIs(t, err, domain.ErrUnauthorized)
	assert.Contains(t, locked.Error(), "1m30s")
}

func TestErrInvalidCredentials_IsUnauthorized(t *testing.T) {
	assert.ErrorIs(t, auth.ErrInvalidCredentials, domain.ErrUnauthorized)
}

func joined(err error) error { return errors.Join(errors.New("context"), err) }
