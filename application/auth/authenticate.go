package auth

import (
	"context"

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
func (uc *Authenticate) Handle(ctx context.Context, in AuthenticateInput) (ports.AccessClaims, error) {
	claims, err := uc.tokens.ParseAccess(in.AccessToken)
	if err != nil {
		return ports.AccessClaims{}, err
	}
	if err := uc.sessions.CheckAccess(ctx, claims.SessionID, claims.UserID, uc.clock.Now()); err != nil {
		return ports.AccessClaims{}, err
	}
	return claims, nil
}
