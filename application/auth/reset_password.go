package auth

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ResetPassword sets the password of the account with a verified phone,
// proved by a code from RequestOTP (POST /api/auth/password/reset), and ends
// every session of that account: whoever held the old password or a token
// is signed out.
type ResetPassword struct {
	codes    ports.OTPStore
	tx       ports.TxManager
	users    ports.UserRepository
	hasher   ports.PasswordHasher
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewResetPassword wires the use case.
func NewResetPassword(codes ports.OTPStore, tx ports.TxManager, users ports.UserRepository, hasher ports.PasswordHasher, sessions ports.SessionStore, clock ports.Clock) *ResetPassword {
	return &ResetPassword{codes: codes, tx: tx, users: users, hasher: hasher, sessions: sessions, clock: clock}
}

// ResetPasswordInput is the form.
type ResetPasswordInput struct {
	Phone       string
	Code        string
	NewPassword string
}

// Handle validates the whole form before it tries the code, so a password
// the policy refuses does not use the code up: a *domain.ValidationError
// names phone, code and new_password. Then a wrong, expired or used code,
// and a right code for a phone no account has verified, answer
// otp.ErrInvalidCode alike; a blocked account user.ErrBlocked.
func (uc *ResetPassword) Handle(ctx context.Context, in ResetPasswordInput) error {
	verr := &domain.ValidationError{}
	phone, err := user.ParsePhone(in.Phone)
	if err := verr.Merge(err); err != nil {
		return err
	}
	code, err := otp.ParseCode(in.Code)
	if err := verr.Merge(err); err != nil {
		return err
	}
	if err := newPasswordFields(verr, user.CheckPassword(in.NewPassword, "")); err != nil {
		return err
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	if err := uc.codes.Verify(ctx, phone, code, uc.clock.Now()); err != nil {
		return err
	}
	u, err := uc.users.GetByVerifiedPhone(ctx, phone.String())
	if errors.Is(err, user.ErrNotFound) {
		return fmt.Errorf("reset password: no account verified this phone: %w", otp.ErrInvalidCode)
	}
	if err != nil {
		return err
	}
	if !u.IsActive() {
		return fmt.Errorf("reset password of user %s: %w", u.ID(), user.ErrBlocked)
	}
	// The email rule needs the account; the code is spent by now, but a
	// password equal to one's own email is a rare slip.
	if err := newPasswordFields(verr, user.CheckPassword(in.NewPassword, u.Email())); err != nil {
		return err
	}
	if err := verr.OrNil(); err != nil {
		return err
	}

	hash, err := uc.hasher.Hash(ctx, in.NewPassword) // slow: before the row is locked
	if err != nil {
		return fmt.Errorf("hash password: %w", err)
	}
	now := uc.clock.Now()
	err = uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		// Update writes the whole row: locking and re-reading it keeps a
		// block, role or profile change made meanwhile.
		locked, err := uc.users.GetForUpdate(ctx, u.ID())
		if err != nil {
			return err
		}
		if !locked.IsActive() {
			return fmt.Errorf("reset password of user %s: %w", u.ID(), user.ErrBlocked)
		}
		locked.SetPasswordHash(hash, now)
		return uc.users.Update(ctx, locked)
	})
	if err != nil {
		return err
	}
	if err := uc.sessions.RevokeAllForUser(ctx, u.ID(), "", now); err != nil {
		return fmt.Errorf("end the sessions of user %s: %w", u.ID(), err)
	}
	return nil
}

// newPasswordFields adds the password policy's refusal to verr under the
// form's field name, new_password (the policy names it "password").
func newPasswordFields(verr *domain.ValidationError, err error) error {
	if err == nil {
		return nil
	}
	var perr *domain.ValidationError
	if !errors.As(err, &perr) {
		return err
	}
	for _, f := range perr.Fields {
		verr.Add("new_password", f.Message, f.Args)
	}
	return nil
}
