package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Refresh exchanges a refresh token for a new pair; the presented token stops
// working, and presenting it again ends the whole session.
type Refresh struct {
	users    ports.UserRepository
	sessions ports.SessionStore
	tokens   ports.TokenIssuer
	clock    ports.Clock
	life     session.Lifetime
}

// NewRefresh wires the use case; a session lives life.TTL after each
// refresh, and never more than life.MaxAge after its login.
func NewRefresh(users ports.UserRepository, sessions ports.SessionStore, tokens ports.TokenIssuer, clock ports.Clock, life session.Lifetime) *Refresh {
	return &Refresh{users: users, sessions: sessions, tokens: tokens, clock: clock, life: life}
}

// RefreshInput carries the refresh token the client holds.
type RefreshInput struct {
	RefreshToken string
}

// Handle returns session.ErrTokenInvalid for a malformed token and
// session.ErrUnknownToken for one no session knows (both unauthorized), and an
// error matching session.ErrRevoked (token_revoked) for a used token, an
// ended session (SESSION_MAX_AGE after its login at the latest), an account that is blocked or gone, or one whose role is no
// longer the session's.
//
// The user is loaded before the token is rotated: once rotated, the old token
// counts as used, so a database error after rotation would make the client's
// retry look like theft and end its session.
func (uc *Refresh) Handle(ctx context.Context, in RefreshInput) (Tokens, error) {
	sid, hash, err := uc.tokens.ParseRefresh(in.RefreshToken)
	if err != nil {
		return Tokens{}, err
	}
	sess, err := uc.sessions.Get(ctx, sid)
	if err != nil {
		return Tokens{}, unknownIfNotFound(sid, err)
	}
	u, err := uc.users.GetByID(ctx, sess.UserID())
	if err != nil && !errors.Is(err, user.ErrNotFound) {
		return Tokens{}, err
	}
	now := uc.clock.Now()
	if u == nil || !u.IsActive() {
		// Blocking already ended the sessions; this catches one that outlived
		// a failed revoke.
		if err := uc.sessions.Revoke(ctx, sid, now); err != nil {
			return Tokens{}, fmt.Errorf("revoke session %s of an inactive user: %w", sid, err)
		}
		return Tokens{}, fmt.Errorf("session %s: user %s is blocked or gone: %w", sid, sess.UserID(), session.ErrRevoked)
	}

	refresh, newHash, err := uc.tokens.NewRefresh(sid)
	if err != nil {
		return Tokens{}, fmt.Errorf("new refresh token for session %s: %w", sid, err)
	}
	// A session granted a role the user no longer has ends here
	// (session.ErrRoleChanged): a role change ends the user's sessions, and
	// this catches one that outlived a failed revoke.
	saved, err := uc.sessions.Update(ctx, sid, func(s *session.Session) error {
		return s.Rotate(hash, newHash, u.Role(), now, uc.life)
	})
	if err != nil {
		return Tokens{}, unknownIfNotFound(sid, err)
	}
	// The token claims the role its session holds, which is what every
	// request is checked against (see Authenticate).
	access, claims, err := uc.tokens.IssueAccess(ports.AccessClaims{UserID: u.ID(), Role: saved.Role(), SessionID: sid})
	if err != nil {
		return Tokens{}, fmt.Errorf("issue access token for session %s: %w", sid, err)
	}
	return tokensOf(access, refresh, claims), nil
}

// unknownIfNotFound turns a session the store does not know into an unknown
// token: for a refresh token that is 401, not 404.
func unknownIfNotFound(sid string, err error) error {
	if errors.Is(err, session.ErrNotFound) {
		return fmt.Errorf("session %s: %w", sid, session.ErrUnknownToken)
	}
	return err
}
