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
//
// current_password is a password guess like a login's: a stolen access token
// must not turn this route into a way around the login lockout. So a wrong
// one counts as a failed login of the user's email from the client, and the
// lockout refuses the route as it refuses a login.
type ChangePassword struct {
	tx       ports.TxManager
	users    ports.UserRepository
	hasher   ports.PasswordHasher
	guard    ports.LoginGuard
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewChangePassword wires the use case.
func NewChangePassword(tx ports.TxManager, users ports.UserRepository, hasher ports.PasswordHasher, guard ports.LoginGuard, sessions ports.SessionStore, clock ports.Clock) *ChangePassword {
	return &ChangePassword{tx: tx, users: users, hasher: hasher, guard: guard, sessions: sessions, clock: clock}
}

// ChangePasswordInput is the authenticated caller, the form, and the client
// the lockout counts by (as in LoginInput).
type ChangePasswordInput struct {
	Claims          ports.AccessClaims
	CurrentPassword string
	NewPassword     string
	Client          string
}

// Handle returns a *domain.ValidationError naming current_password when it is
// wrong and new_password when the new one breaks the policy (both at once when
// both are wrong); nothing is saved then. While the user's email is locked out
// for the client (or everywhere) it returns *LockedOutError, and verifies
// nothing.
func (uc *ChangePassword) Handle(ctx context.Context, in ChangePasswordInput) error {
	u, err := uc.users.GetByID(ctx, in.Claims.UserID)
	if errors.Is(err, user.ErrNotFound) {
		return fmt.Errorf("user %s is gone: %w", in.Claims.UserID, session.ErrRevoked)
	}
	if err != nil {
		return err
	}

	verr := &domain.ValidationError{}
	switch {
	case in.CurrentPassword == "":
		verr.Add("current_password", domain.MsgNotEmpty)
	case !u.HasPassword():
		// An account made by phone login sets its first password with a code
		// (POST /api/auth/password/reset); no current one can match, and
		// there is nothing to guess, so the lockout is not involved.
		verr.Add("current_password", domain.MsgIncorrect)
	default:
		ok, err := uc.verifyCurrent(ctx, u, in.CurrentPassword, in.Client)
		if err != nil {
			return err
		}
		if !ok {
			verr.Add("current_password", domain.MsgIncorrect)
		}
	}
	if err := user.CheckPassword(in.NewPassword, u.Email()); err != nil {
		var perr *domain.ValidationError
		if !errors.As(err, &perr) {
			return err
		}
		for _, f := range perr.Fields { // the policy names it "password"
			f.Field = "new_password"
			verr.AddField(f)
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
			return domain.Invalid("current_password", domain.MsgIncorrect)
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

// verifyCurrent checks the current password under the login lockout of the
// user's email and the client: refused while locked out, a mismatch counted
// as a failed login, a match forgiving the pair's failures as a login does.
func (uc *ChangePassword) verifyCurrent(ctx context.Context, u *user.User, password, client string) (bool, error) {
	lock, err := uc.guard.Check(ctx, u.Email(), client)
	if err != nil {
		return false, fmt.Errorf("check login lockout: %w", err)
	}
	if lock.Locked() {
		return false, lockedOut(lock)
	}
	ok, err := uc.hasher.Verify(ctx, u.PasswordHash(), password)
	if err != nil {
		return false, fmt.Errorf("verify password of user %s: %w", u.ID(), err)
	}
	if !ok {
		if _, err := uc.guard.Fail(ctx, u.Email(), client); err != nil {
			return false, fmt.Errorf("record failed password check: %w", err)
		}
		return false, nil
	}
	if err := uc.guard.Reset(ctx, u.Email(), client); err != nil {
		return false, fmt.Errorf("reset login failures: %w", err)
	}
	return true, nil
}
