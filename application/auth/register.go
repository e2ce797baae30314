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

// Register opens a customer account and logs it in.
type Register struct {
	users   ports.UserRepository
	hasher  ports.PasswordHasher
	ids     ports.IDGenerator
	clock   ports.Clock
	starter sessionStarter
}

// NewRegister wires the use case; life is how long sessions live. The new
// account's first session is its only one, so no bound on their number
// applies.
func NewRegister(users ports.UserRepository, hasher ports.PasswordHasher, sessions ports.SessionStore, tokens ports.TokenIssuer, ids ports.IDGenerator, clock ports.Clock, life session.Lifetime) *Register {
	return &Register{
		users: users, hasher: hasher, ids: ids, clock: clock,
		starter: sessionStarter{sessions: sessions, tokens: tokens, ids: ids, clock: clock, life: life},
	}
}

// RegisterInput is the sign-up form plus where it came from. Phone may be "".
type RegisterInput struct {
	Email     string
	Password  string
	FullName  string
	Phone     string
	UserAgent string
	IP        string
}

// RegisterResult is the new account and its first session's tokens.
type RegisterResult struct {
	User   *user.User
	Tokens Tokens
}

// Handle validates every field first and reports all that are wrong at once;
// the slow hash runs only for a valid form. A taken email returns
// user.ErrEmailTaken.
//
// The new account's revocation epoch is read before the account is stored,
// as for any session start (ports.SessionStore): an admin who blocks or
// re-roles the account between its creation and its first session's makes
// that session's creation fail, and the account is read again and checked
// (a blocked one gets user.ErrBlocked).
func (uc *Register) Handle(ctx context.Context, in RegisterInput) (RegisterResult, error) {
	now := uc.clock.Now()
	verr := &domain.ValidationError{}
	email, err := user.NormalizeEmail(in.Email)
	if err := addFields(verr, err); err != nil {
		return RegisterResult{}, err
	}
	// With an invalid email, email is "" and only the other rules apply.
	if err := addFields(verr, user.CheckPassword(in.Password, email)); err != nil {
		return RegisterResult{}, err
	}
	// The aggregate owns the full_name and phone rules; it gets its hash once
	// the form is known to be valid.
	u, newErr := user.New(uc.ids.NewID(), in.Email, "", in.FullName, in.Phone, now)
	if err := addFields(verr, newErr, "email"); err != nil { // email is reported above
		return RegisterResult{}, err
	}
	if err := verr.OrNil(); err != nil {
		return RegisterResult{}, err
	}
	if newErr != nil {
		return RegisterResult{}, newErr
	}

	if u.Phone() != "" {
		// Verified phones are unique: a typed one another account proved is
		// refused (API.md). Checked before the slow hash; a phone login
		// verifying it at this very moment is not stopped, as typed phones
		// are not unique.
		switch _, err := uc.users.GetByVerifiedPhone(ctx, u.Phone()); {
		case err == nil:
			return RegisterResult{}, fmt.Errorf("register: %w", user.ErrPhoneTaken)
		case !errors.Is(err, user.ErrNotFound):
			return RegisterResult{}, err
		}
	}

	hash, err := uc.hasher.Hash(ctx, in.Password)
	if err != nil {
		return RegisterResult{}, fmt.Errorf("hash password: %w", err)
	}
	u.SetPasswordHash(hash, now)
	created := u
	u, tokens, err := uc.starter.start(ctx, created.ID(), in.UserAgent, in.IP, func(ctx context.Context, attempt int) (*user.User, error) {
		if attempt == 0 {
			if err := uc.users.Create(ctx, created); err != nil {
				return nil, err
			}
			return created, nil
		}
		fresh, err := uc.users.GetByID(ctx, created.ID())
		if err != nil {
			return nil, err
		}
		if !fresh.IsActive() {
			return nil, fmt.Errorf("register user %s: blocked meanwhile: %w", fresh.ID(), user.ErrBlocked)
		}
		return fresh, nil
	})
	if err != nil {
		return RegisterResult{}, err
	}
	return RegisterResult{User: u, Tokens: tokens}, nil
}
