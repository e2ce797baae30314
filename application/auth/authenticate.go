package auth

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/ports"
)

// Authenticate checks the bearer token of every authenticated request. It
// touches no database: the signature and one session-store lookup decide.
type Authenticate struct {
	tokens   ports.TokenIssuer
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewAuthenticate wires the use case.
func NewAuthenticate(tokens ports.TokenIssuer, sessions ports.SessionStore, clock ports.Clock) *Authenticate {
	return &Authenticate{tokens: tokens, sessions: sessions, clock: clock}
}

// AuthenticateInput is the token from the Authorization header, without the
// "Bearer " prefix.
type AuthenticateInput struct {
	AccessToken string
}

// Handle returns the token's claims, or session.ErrTokenExpired
// (token_expired), session.ErrTokenInvalid (unauthorized) or an error matching
// session.ErrRevoked (token_revoked) when its session has ended.
//
// The role that authorizes the request is the one the session holds: a token
// claiming another (session.ErrRoleMismatch, unauthorized) was forged with
// the signing key, or predates a role change. So the signing key alone makes
// nobody an admin; it would also take a session granted that role.
func (uc *Authenticate) Handle(ctx context.Context, in AuthenticateInput) (ports.AccessClaims, error) {
	claims, _, err := uc.HandleAccess(ctx, in)
	return claims, err
}

// HandleAccess is Handle that also returns what the session check read, so
// GET /api/auth/me can be served from it (MeInput.Access) without another
// lookup.
func (uc *Authenticate) HandleAccess(ctx context.Context, in AuthenticateInput) (ports.AccessClaims, ports.SessionAccess, error) {
	claims, err := uc.tokens.ParseAccess(in.AccessToken)
	if err != nil {
		return ports.AccessClaims{}, ports.SessionAccess{}, err
	}
	access, err := uc.sessions.CheckAccess(ctx, claims.SessionID, claims.UserID, uc.clock.Now())
	if err != nil {
		return ports.AccessClaims{}, ports.SessionAccess{}, err
	}
	if access.Role != claims.Role {
		return ports.AccessClaims{}, ports.SessionAccess{}, fmt.Errorf("session %s: %w", claims.SessionID, session.ErrRoleMismatch)
	}
	return claims, access, nil
}
