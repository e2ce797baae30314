// Package otp holds the rules of one-time login codes sent by SMS (API.md,
// "Phone login"): what a code is, how it is drawn, the limits on sending and
// guessing, and the errors of both.
//
// One code serves every purpose. POST /api/auth/otp names no purpose, and
// whoever holds a phone's code can already log in as the account with that
// verified phone (POST /api/auth/otp/verify), so letting the same code set
// that account's password (POST /api/auth/password/reset) grants nothing
// more. Whichever of the two comes first consumes it.
package otp

import (
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain"
)

var (
	// ErrInvalidCode answers a wrong, expired, used, replaced or exhausted
	// code, and a phone that has none, alike (API code invalid_credentials):
	// telling them apart would help whoever is guessing.
	ErrInvalidCode = fmt.Errorf("otp: wrong, expired or used code: %w", domain.ErrUnauthorized)
	// ErrRateLimited is the category of *RateLimitedError (API code
	// rate_limited). No domain category means "too many requests", so it
	// stands alone, like auth.ErrLockedOut.
	ErrRateLimited = errors.New("otp: too many codes asked for")
)

// Limit names the rule that refused a send.
type Limit string

const (
	// LimitPhone: the phone asked within the cooldown, or too often this hour.
	LimitPhone Limit = "phone"
	// LimitClient: the client (an IP, an IPv6 /64) asked too often this hour.
	LimitClient Limit = "client"
)

// RateLimitedError refuses a send; the edge answers 429 with Retry-After.
// Nothing was stored and no earlier code was ended.
type RateLimitedError struct {
	Limit      Limit
	RetryAfter time.Duration // > 0
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("otp: too many codes asked for by this %s, retry after %s", e.Limit, e.RetryAfter)
}

// RetryAfterHint is what the edge's Retry-After header says.
func (e *RateLimitedError) RetryAfterHint() time.Duration { return e.RetryAfter }

// Is makes errors.Is(err, ErrRateLimited) true for every RateLimitedError.
func (e *RateLimitedError) Is(target error) bool { return target == ErrRateLimited }

// Issued is what a successful send tells the client (`{expires_in, resend_in}`).
type Issued struct {
	// ExpiresIn is the new code's lifetime.
	ExpiresIn time.Duration
	// ResendIn is how long until the phone may ask again: the cooldown, or
	// longer when this send used up the phone's hourly budget.
	ResendIn time.Duration
}

// The limits of API.md.
const (
	DefaultTTL          = 3 * time.Minute
	DefaultMaxWrong     = 5
	DefaultCooldown     = 60 * time.Second
	DefaultPhoneSends   = 5
	DefaultPhoneWindow  = time.Hour
	DefaultClientSends  = 20
	DefaultClientWindow = time.Hour

	// MaxTTL is the longest life an out-of-band code may have (OWASP ASVS
	// 6.5.5, SMS.md §3).
	MaxTTL = 10 * time.Minute
)

// Policy is the set of limits a code store enforces.
type Policy struct {
	TTL          time.Duration // a code's life (OTP_TTL)
	MaxWrong     int           // wrong tries that end a code
	Cooldown     time.Duration // between two sends to one phone
	PhoneSends   int           // sends to one phone per PhoneWindow
	PhoneWindow  time.Duration
	ClientSends  int // sends asked by one client per ClientWindow
	ClientWindow time.Duration
}

// DefaultPolicy is API.md's: a code lives 3 minutes and dies at the 5th wrong
// try; a phone may ask again after 60 s and 5 times an hour; a client 20
// times an hour.
func DefaultPolicy() Policy {
	return Policy{
		TTL: DefaultTTL, MaxWrong: DefaultMaxWrong, Cooldown: DefaultCooldown,
		PhoneSends: DefaultPhoneSends, PhoneWindow: DefaultPhoneWindow,
		ClientSends: DefaultClientSends, ClientWindow: DefaultClientWindow,
	}
}

// Validate refuses a policy that would make codes useless or unlimited. The
// limits are whole milliseconds, the resolution the store keeps times in.
func (p Policy) Validate() error {
	switch {
	case p.TTL < time.Second || p.TTL > MaxTTL:
		return fmt.Errorf("otp: code lifetime %s must be 1s..%s", p.TTL, MaxTTL)
	case p.MaxWrong < 1:
		return fmt.Errorf("otp: wrong tries %d must be at least 1", p.MaxWrong)
	case p.Cooldown < 0:
		return fmt.Errorf("otp: cooldown %s must not be negative", p.Cooldown)
	case p.PhoneSends < 1 || p.PhoneWindow < time.Millisecond:
		return fmt.Errorf("otp: bad per-phone limit (%d per %s)", p.PhoneSends, p.PhoneWindow)
	case p.ClientSends < 1 || p.ClientWindow < time.Millisecond:
		return fmt.Errorf("otp: bad per-client limit (%d per %s)", p.ClientSends, p.ClientWindow)
	}
	return nil
}
