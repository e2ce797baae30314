package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// UpdateMe changes the caller's name and email (PATCH /api/auth/me), as an
// account made by phone login gets its name and email.
type UpdateMe struct {
	tx       ports.TxManager
	users    ports.UserRepository
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewUpdateMe wires the use case.
func NewUpdateMe(tx ports.TxManager, users ports.UserRepository, sessions ports.SessionStore, clock ports.Clock) *UpdateMe {
	return &UpdateMe{tx: tx, users: users, sessions: sessions, clock: clock}
}

// UpdateMeInput is the authenticated caller and the fields to change (nil:
// unchanged).
type UpdateMeInput struct {
	Claims   ports.AccessClaims
	FullName *string
	Email    *string
}

// Handle returns the account as saved: a *domain.ValidationError for an
// invalid name or email (nothing saved), user.ErrEmailTaken for an email
// another account has.
func (uc *UpdateMe) Handle(ctx context.Context, in UpdateMeInput) (*user.User, error) {
	var out *user.User
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		// Update writes the whole row: locked, so a password reset or a block
		// made meanwhile is not overwritten.
		u, err := uc.users.GetForUpdate(ctx, in.Claims.UserID)
		if errors.Is(err, user.ErrNotFound) {
			return fmt.Errorf("user %s is gone: %w", in.Claims.UserID, session.ErrRevoked)
		}
		if err != nil {
			return err
		}
		if err := u.ChangeProfile(user.ProfileChange{FullName: in.FullName, Email: in.Email}, uc.clock.Now()); err != nil {
			return err
		}
		if err := uc.users.Update(ctx, u); err != nil {
			return err
		}
		out = u
		return nil
	})
	if err != nil {
		return nil, err
	}
	// After commit, so a `me` reading the row before it cannot cache the old
	// profile after this (ports.SessionStore.CacheProfile). On an error the
	// change is saved but other sessions may show the old profile: the
	// caller sees 503 and a retry forgets again.
	if err := uc.sessions.ForgetProfiles(ctx, out.ID()); err != nil {
		return nil, fmt.Errorf("forget cached profiles of user %s: %w", out.ID(), err)
	}
	return out, nil
}
