package auth

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"strings"
	"sync"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Login exchanges an email and password for a new session.
type Login struct {
	users   ports.UserRepository
	hasher  ports.PasswordHasher
	guard   ports.LoginGuard
	starter sessionStarter
	// dummy is verified against when there is no account, so an unknown
	// email costs as much time as a wrong password and cannot be told apart.
	// It is hashed on the first login rather than at start-up: one argon2id
	// hash is tens of milliseconds and its whole memory cost (19 MiB at
	// DefaultParams), which would otherwise delay every start and sit in the
	// idle heap until the next GC. Every first login pays it, whatever the
	// email, so the first attempt tells nothing either.
	dummy func() (string, error)
}

// NewLogin wires the use case. The dummy hash (a random password, with the
// same hasher and cost as real accounts, for the unknown-email path) is made
// once, by the first login.
func NewLogin(users ports.UserRepository, hasher ports.PasswordHasher, guard ports.LoginGuard, sessions ports.SessionStore, tokens ports.TokenIssuer, ids ports.IDGenerator, clock ports.Clock, policy SessionPolicy) (*Login, error) {
	return &Login{
		users: users, hasher: hasher, guard: guard,
		dummy: sync.OnceValues(func() (string, error) {
			// Not the caller's context: a first login that gives up must not
			// leave every later one without a dummy.
			return hasher.Hash(context.Background(), rand.Text())
		}),
		starter: sessionStarter{sessions: sessions, tokens: tokens, ids: ids, clock: clock,
			life: policy.Lifetime, maxPerUser: policy.MaxPerUser},
	}, nil
}

// LoginInput is the login form plus where it came from: IP is the client
// address as derived through the trusted proxies (the session records it),
// and Client the client the lockout counts failures of, that address with an
// IPv6 one cut to its /64 (a subscriber picks any address in theirs).
type LoginInput struct {
	Email     string
	Password  string
	UserAgent string
	IP        string
	Client    string
}

// LoginResult is the account and its new session's tokens.
type LoginResult struct {
	User   *user.User
	Tokens Tokens
}

// Handle returns ErrInvalidCredentials for an unknown or malformed email and
// for a wrong password alike, *LockedOutError while the email is locked out
// for the client or everywhere (even with the right password; see
// ports.LoginGuard), and user.ErrBlocked for a
// blocked account with the right password. Only an empty field is a
// validation error: anything more would tell the email policy to a guesser.
//
// Once the password is right, the account is read again by id after the
// user's revocation epoch (see ports.SessionStore), and the session carries
// what that read says: a block, role change or password change committed
// meanwhile either shows in it or makes the session's creation fail, and the
// account is read and checked once more. A second such failure in a row
// wraps domain.ErrUnavailable.
//
// A user may have SessionPolicy.MaxPerUser live sessions: once the new one
// is stored, the least recently used ones beyond that end.
func (uc *Login) Handle(ctx context.Context, in LoginInput) (LoginResult, error) {
	verr := &domain.ValidationError{}
	if strings.TrimSpace(in.Email) == "" {
		verr.Add("email", domain.MsgNotEmpty)
	}
	if in.Password == "" {
		verr.Add("password", domain.MsgNotEmpty)
	}
	if err := verr.OrNil(); err != nil {
		return LoginResult{}, err
	}

	dummyHash, err := uc.dummy()
	if err != nil {
		return LoginResult{}, fmt.Errorf("login: hash the dummy password: %w", err)
	}

	email, emailErr := user.NormalizeEmail(in.Email)
	if emailErr != nil {
		// No account can have it; it still keys the lockout so a malformed
		// email behaves like any unknown one.
		email = strings.ToLower(strings.TrimSpace(in.Email))
	}
	lock, err := uc.guard.Check(ctx, email, in.Client)
	if err != nil {
		return LoginResult{}, fmt.Errorf("check login lockout: %w", err)
	}
	if lock.Locked() {
		return LoginResult{}, lockedOut(lock)
	}

	var u *user.User
	if emailErr == nil {
		u, err = uc.users.GetByEmail(ctx, email)
		if err != nil && !errors.Is(err, user.ErrNotFound) {
			return LoginResult{}, err
		}
	}
	// An account made by phone login has no password until it sets one:
	// like an unknown email, it costs a dummy verification and fails.
	hash := dummyHash
	if u != nil && u.HasPassword() {
		hash = u.PasswordHash()
	}
	ok, err := uc.hasher.Verify(ctx, hash, in.Password)
	if err != nil {
		return LoginResult{}, fmt.Errorf("verify password: %w", err)
	}
	if u == nil || !u.HasPassword() || !ok {
		// A lockout this failure causes applies from the next attempt: this
		// one is answered like any other wrong guess.
		if _, err := uc.guard.Fail(ctx, email, in.Client); err != nil {
			return LoginResult{}, fmt.Errorf("record failed login: %w", err)
		}
		return LoginResult{}, ErrInvalidCredentials
	}
	if !u.IsActive() {
		return LoginResult{}, fmt.Errorf("login user %s: %w", u.ID(), user.ErrBlocked)
	}
	if err := uc.guard.Reset(ctx, email, in.Client); err != nil {
		return LoginResult{}, fmt.Errorf("reset login failures: %w", err)
	}
	id, verified := u.ID(), u.PasswordHash()
	u, tokens, err := uc.starter.start(ctx, id, in.UserAgent, in.IP, func(ctx context.Context, _ int) (*user.User, error) {
		fresh, err := uc.recheck(ctx, id, verified, in.Password)
		if err != nil {
			return nil, err
		}
		verified = fresh.PasswordHash()
		return fresh, nil
	})
	if err != nil {
		return LoginResult{}, err
	}
	return LoginResult{User: u, Tokens: tokens}, nil
}

// recheck reads the user again for the session about to start and repeats
// the checks on what it finds. verified is the hash the password last
// matched; a different one (the password was changed meanwhile) is verified
// against again. Not a guess, so a mismatch here is not counted as a failure.
func (uc *Login) recheck(ctx context.Context, id, verified, password string) (*user.User, error) {
	u, err := uc.users.GetByID(ctx, id)
	if errors.Is(err, user.ErrNotFound) {
		return nil, fmt.Errorf("login user %s: gone meanwhile: %w", id, ErrInvalidCredentials)
	}
	if err != nil {
		return nil, err
	}
	if !u.HasPassword() {
		return nil, fmt.Errorf("login user %s: password removed meanwhile: %w", id, ErrInvalidCredentials)
	}
	if u.PasswordHash() != verified {
		ok, err := uc.hasher.Verify(ctx, u.PasswordHash(), password)
		if err != nil {
			return nil, fmt.Errorf("verify password: %w", err)
		}
		if !ok {
			return nil, fmt.Errorf("login user %s: password changed meanwhile: %w", id, ErrInvalidCredentials)
		}
	}
	if !u.IsActive() {
		return nil, fmt.Errorf("login user %s: %w", id, user.ErrBlocked)
	}
	return u, nil
}
