package auth

import (
	"context"

	"github.com/ultramarket/gateway/ports"
)

// LogoutAll ends every session of the caller, the current one included.
type LogoutAll struct {
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewLogoutAll wires the use case.
func NewLogoutAll(sessions ports.SessionStore, clock ports.Clock) *LogoutAll {
	return &LogoutAll{sessions: sessions, clock: clock}
}

// LogoutAllInput is the authenticated caller.
type LogoutAllInput struct {
	Claims ports.AccessClaims
}

// Handle ends all of the caller's sessions.
func (uc *LogoutAll) Handle(ctx context.Context, in LogoutAllInput) error {
	return uc.sessions.RevokeAllForUser(ctx, in.Claims.UserID, "", uc.clock.Now())
}
