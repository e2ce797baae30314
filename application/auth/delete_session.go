package auth

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/ports"
)

// DeleteSession ends one of the caller's sessions (signing a device out).
type DeleteSession struct {
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewDeleteSession wires the use case.
func NewDeleteSession(sessions ports.SessionStore, clock ports.Clock) *DeleteSession {
	return &DeleteSession{sessions: sessions, clock: clock}
}

// DeleteSessionInput is the authenticated caller and the session to end.
type DeleteSessionInput struct {
	Claims    ports.AccessClaims
	SessionID string
}

// Handle ends the session. Another user's session, or one that has already
// ended (and so is not in the caller's list), returns session.ErrNotFound: a
// caller learns nothing about sessions that are not theirs.
func (uc *DeleteSession) Handle(ctx context.Context, in DeleteSessionInput) error {
	s, err := uc.sessions.Get(ctx, in.SessionID)
	if err != nil {
		return err
	}
	now := uc.clock.Now()
	if s.UserID() != in.Claims.UserID || !s.IsActive(now) {
		return fmt.Errorf("session %s of user %s: %w", in.SessionID, in.Claims.UserID, session.ErrNotFound)
	}
	return uc.sessions.Revoke(ctx, in.SessionID, now)
}
