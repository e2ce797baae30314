package auth

import (
	"context"

	"github.com/ultramarket/gateway/ports"
)

// Logout ends the session the access token belongs to; its access tokens are
// refused at once on every instance.
type Logout struct {
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewLogout wires the use case.
func NewLogout(sessions ports.SessionStore, clock ports.Clock) *Logout {
	return &Logout{sessions: sessions, clock: clock}
}

// LogoutInput is the authenticated caller.
type LogoutInput struct {
	Claims ports.AccessClaims
}

// Handle ends the caller's current session.
func (uc *Logout) Handle(ctx context.Context, in LogoutInput) error {
	return uc.sessions.Revoke(ctx, in.Claims.SessionID, uc.clock.Now())
}
