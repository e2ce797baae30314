package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Me returns the caller's account. It is served from the profile the
// session check already read (ports.SessionStore.CacheProfile): no database
// read unless the session has none cached yet or a change dropped it.
type Me struct {
	users    ports.UserRepository
	sessions ports.SessionStore
}

// NewMe wires the use case.
func NewMe(users ports.UserRepository, sessions ports.SessionStore) *Me {
	return &Me{users: users, sessions: sessions}
}

// MeInput is the authenticated caller and what its session check read.
type MeInput struct {
	Claims ports.AccessClaims
	Access ports.SessionAccess
}

// Handle returns the caller's user. An account that no longer exists makes
// the token one of an ended session (session.ErrRevoked), not a 404.
func (uc *Me) Handle(ctx context.Context, in MeInput) (*user.User, error) {
	// A cached role other than the token's is older than a role change the
	// session has since been refreshed into (the create-admin command
	// promotes without Redis at hand): read the row.
	if p := in.Access.Profile; p != nil && p.ID() == in.Claims.UserID && p.Role() == in.Claims.Role {
		return p, nil
	}
	u, err := uc.users.GetByID(ctx, in.Claims.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return nil, fmt.Errorf("user %s is gone: %w", in.Claims.UserID, session.ErrRevoked)
	}
	if err != nil {
		return nil, err
	}
	// The cache only saves the next read: failing to fill it costs nothing
	// but that, so the answer does not wait on it.
	_ = uc.sessions.CacheProfile(ctx, in.Claims.SessionID, u, in.Access.ProfileGen)
	return u, nil
}
