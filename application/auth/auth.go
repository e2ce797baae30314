// Package auth holds the identity use cases: registration, login, token
// refresh, logout, the session list, password change and the per-request
// check behind every bearer token.
package auth

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
)

var (
	// ErrInvalidCredentials answers both an unknown email and a wrong password
	// (API code invalid_credentials), so a client cannot tell which it was.
	ErrInvalidCredentials = fmt.Errorf("auth: invalid credentials: %w", domain.ErrUnauthorized)
	// ErrLockedOut is the category of *LockedOutError (API code rate_limited).
	// No domain category means "too many requests", so it stands alone.
	ErrLockedOut = errors.New("auth: too many failed logins")
)

// LockedOutError refuses a login (or a password change) for an email that
// failed too often, from the client or from everywhere; the edge answers 429
// with Retry-After, and Limit as RateLimit-Limit.
type LockedOutError struct {
	RetryAfter time.Duration
	// Limit is the number of failures that locked the email out: LockoutFailures
	// or EmailLockoutFailures.
	Limit int
}

func (e *LockedOutError) Error() string {
	return fmt.Sprintf("auth: too many failed logins, retry after %s", e.RetryAfter)
}

// Is makes errors.Is(err, ErrLockedOut) true for every LockedOutError.
func (e *LockedOutError) Is(target error) bool { return target == ErrLockedOut }

// TokenTypeBearer is the only token type issued.
const TokenTypeBearer = "Bearer"

// The login lockout policy of API.md: this many failed logins for one email
// from one client within the window lock the pair out until the window ends.
// A client is its IP address, an IPv6 one cut to its /64 (as for rate limits).
const (
	LockoutFailures = 5
	LockoutWindow   = 15 * time.Minute
)

// The per-email ceiling of API.md: at most this many failed logins of one
// email from all clients together in any window; beyond that every login of
// the email is refused until the oldest of them leaves the window. It bounds
// what many clients guessing one password together can try.
const (
	EmailLockoutFailures = 20
	EmailLockoutWindow   = time.Hour
)

// lockedOut is the error of a lockout the guard reported.
func lockedOut(l ports.Lockout) error {
	return &LockedOutError{RetryAfter: l.RetryAfter, Limit: l.Limit}
}

// Tokens is the pair a client gets on register, login and refresh.
type Tokens struct {
	AccessToken  string
	RefreshToken string
	TokenType    string // always TokenTypeBearer
	ExpiresIn    int64  // seconds the access token lives
}

// addFields copies the fields of a *domain.ValidationError in err to verr,
// leaving out the fields in skip. An err that is not a validation error is
// returned, since it cannot be merged.
func addFields(verr *domain.ValidationError, err error, skip ...string) error {
	if err == nil {
		return nil
	}
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	for _, f := range v.Fields {
		if !slices.Contains(skip, f.Field) {
			verr.AddField(f)
		}
	}
	return nil
}
