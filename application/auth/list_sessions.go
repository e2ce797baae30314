package auth

import (
	"context"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/ports"
)

// ListSessions lists the caller's live sessions, so they can spot and end a
// device they do not recognise.
type ListSessions struct {
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewListSessions wires the use case.
func NewListSessions(sessions ports.SessionStore, clock ports.Clock) *ListSessions {
	return &ListSessions{sessions: sessions, clock: clock}
}

// ListSessionsInput is the authenticated caller.
type ListSessionsInput struct {
	Claims ports.AccessClaims
}

// SessionItem is one live session; Current marks the one the request's
// access token belongs to.
type SessionItem struct {
	Session *session.Session
	Current bool
}

// Handle returns the caller's sessions that have not ended, newest first.
func (uc *ListSessions) Handle(ctx context.Context, in ListSessionsInput) ([]SessionItem, error) {
	list, err := uc.sessions.ListActive(ctx, in.Claims.UserID, uc.clock.Now())
	if err != nil {
		return nil, err
	}
	items := make([]SessionItem, 0, len(list))
	for _, s := range list {
		items = append(items, SessionItem{Session: s, Current: s.ID() == in.Claims.SessionID})
	}
	return items, nil
}
