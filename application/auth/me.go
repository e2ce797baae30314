package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Me returns the caller's account.
type Me struct {
	users ports.UserRepository
}

// NewMe wires the use case.
func NewMe(users ports.UserRepository) *Me {
	return &Me{users: users}
}

// MeInput is the authenticated caller.
type MeInput struct {
	Claims ports.AccessClaims
}

// Handle returns the caller's user. An account that no longer exists makes
// the token one of an ended session (session.ErrRevoked), not a 404.
func (uc *Me) Handle(ctx context.Context, in MeInput) (*user.User, error) {
	u, err := uc.users.GetByID(ctx, in.Claims.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return nil, fmt.Errorf("user %s is gone: %w", in.Claims.UserID, session.ErrRevoked)
	}
	if err != nil {
		return nil, err
	}
	return u, nil
}
