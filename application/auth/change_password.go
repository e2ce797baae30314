package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ChangePassword replaces the caller's password and ends every other session:
// whoever else held the old password or a token is signed out.
type ChangePassword struct {
	tx       ports.TxManager
	users    ports.UserRepository
	hasher   ports.PasswordHasher
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewChangePassword wires the use case.
func NewChangePassword(tx ports.TxManager, users ports.UserRepository, hasher ports.PasswordHasher, sessions ports.SessionStore, clock ports.Clock) *ChangePassword {
	return &ChangePassword{tx: tx, users: users, hasher: hasher, sessions: sessions, clock: clock}
}

// ChangePasswordInput is the authenticated caller and the form.
type ChangePasswordInput struct {
	Claims          ports.AccessClaims
	CurrentPassword string
	NewPassword     string
}

// Handle returns a *domain.ValidationError naming current_password when it is
// wrong and new_password when the new one breaks the policy (both at once when
// both are wrong); nothing is saved then.
func (uc *ChangePassword) Handle(ctx context.Context, in ChangePasswordInput) error {
	u, err := uc.users.GetByID(ctx, in.Claims.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return fmt.Errorf("user %s is gone: %w", in.Claims.UserID, session.ErrRevoked)
	}
	if err != nil {
		return err
	}

	verr := &domain.ValidationError{}
	if in.CurrentPassword == "" {
		verr.Add("current_password", "must not be empty")
	} else {
		ok, err := uc.hasher.Verify(ctx, u.PasswordHash(), in.CurrentPassword)
		if err != nil {
			return fmt.Errorf("verify password of user %s: %w", u.ID(), err)
		}
		if !ok {
			verr.Add("current_password", "is incorrect")
		}
	}
	if err := user.CheckPassword(in.NewPassword, u.Email()); err != nil {
		var perr *domain.ValidationError
		if !errors.As(err, &perr) {
			return err
		}
		for _, f := range perr.Fields { // the policy names it "password"
			verr.Add("new_password", f.Message)
		}
	}
	if err := verr.OrNil(); err != nil {
		return err
	}

	// Hashing is slow, so it happens before the row is locked.
	hash, err := uc.hasher.Hash(ctx, in.NewPassword)
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := uc.clock.Now()
	err = uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		// Update writes the whole row: locking and re-reading it keeps a block
		// or role change made meanwhile from being overwritten.
		locked, err := uc.users.GetForUpdate(ctx, u.ID())
		if err != nil {
			return err
		}
		if locked.PasswordHash() != u.PasswordHash() {
			// Another request changed the password since it was verified.
			return domain.Invalid("current_password", "is incorrect")
		}
		locked.SetPasswordHash(hash, now)
		return uc.users.Update(ctx, locked)
	})
	if err != nil {
		return err
	}
	if err := uc.sessions.RevokeAllForUser(ctx, u.ID(), in.Claims.SessionID, now); err != nil {
		return fmt.Errorf("end other sessions of user %s: %w", u.ID(), err)
	}
	return nil
}
