package auth

import (
	"context"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// sessionStarter opens a session for a user who just proved who they are
// (register, login) and hands out its first token pair.
type sessionStarter struct {
	sessions   ports.SessionStore
	tokens     ports.TokenIssuer
	ids        ports.IDGenerator
	clock      ports.Clock
	refreshTTL time.Duration
}

func (s sessionStarter) start(ctx context.Context, u *user.User, userAgent, ip string) (Tokens, error) {
	id := s.ids.NewID()
	refresh, hash, err := s.tokens.NewRefresh(id)
	if err != nil {
		return Tokens{}, fmt.Errorf("new refresh token for session %s: %w", id, err)
	}
	sess, err := session.New(id, u.ID(), hash, userAgent, ip, s.clock.Now(), s.refreshTTL)
	if err != nil {
		// Only our own wiring can make this fail (empty id, ttl <= 0): %v keeps
		// it from reaching the client as a 422.
		return Tokens{}, fmt.Errorf("new session for user %s: %v", u.ID(), err)
	}
	// The access token is signed before the session is stored so that a
	// failure here leaves no orphan session behind; it reaches nobody until
	// the session exists.
	access, claims, err := s.tokens.IssueAccess(ports.AccessClaims{UserID: u.ID(), Role: u.Role(), SessionID: id})
	if err != nil {
		return Tokens{}, fmt.Errorf("issue access token for session %s: %w", id, err)
	}
	if err := s.sessions.Create(ctx, sess); err != nil {
		return Tokens{}, fmt.Errorf("create session %s: %w", id, err)
	}
	return tokensOf(access, refresh, claims), nil
}

func tokensOf(access, refresh string, claims ports.AccessClaims) Tokens {
	return Tokens{
		AccessToken:  access,
		RefreshToken: refresh,
		TokenType:    TokenTypeBearer,
		ExpiresIn:    int64(claims.ExpiresAt.Sub(claims.IssuedAt) / time.Second),
	}
}
