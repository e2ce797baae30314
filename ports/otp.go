package ports

//go:generate go run github.com/golang/mock/mockgen -source=otp.go -destination=mocks/otp.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/user"
)

// OTPStore keeps the one-time codes of phone login where every gateway
// instance sees them (Redis), and enforces otp.Policy (the limits of API.md)
// atomically across instances.
//
// Codes are kept only as keyed hashes (HMAC-SHA256 with a server-side pepper,
// bound to the phone and to the send), compared in constant time, and never
// logged. A phone has at most one live code.
//
// Purpose: one code serves both phone login (POST /api/auth/otp/verify) and
// password reset (POST /api/auth/password/reset); see package otp for why.
// Whichever Verify comes first consumes it.
//
// Times come from the caller's clock (now). Errors reaching the store wrap
// domain.ErrUnavailable; the store fails closed (no send, no login).
//
// The send of POST /api/auth/otp goes: code := otp.NewCode(); Issue; then the
// SMS. Issue comes first so a refused request texts nobody; if the SMS then
// fails, the code stays stored and counted (the user's resend is the retry).
type OTPStore interface {
	// Issue checks the send limits of phone and of client (the caller's client
	// key: the IP, an IPv6 client's /64) and, when they allow it, stores code
	// as the phone's only live code, ending any earlier one, and counts the
	// send against both. Refused: a *otp.RateLimitedError (matching
	// otp.ErrRateLimited) carrying Retry-After, and nothing changed; a
	// request refused for its phone does not count against its client.
	Issue(ctx context.Context, phone user.Phone, client string, code otp.Code, now time.Time) (otp.Issued, error)
	// Verify checks code against the phone's live code and, when it matches,
	// consumes it: nil once, for one caller, however many verify the same code
	// at once. Otherwise otp.ErrInvalidCode, for a wrong, expired, used or
	// replaced code and for a phone without one. Every try counts: the
	// MaxWrong-th wrong one ends the code, and no more than MaxWrong tries are
	// ever compared against one code, concurrent ones included.
	Verify(ctx context.Context, phone user.Phone, code otp.Code, now time.Time) error
}

// Outcomes of asking for a code, the label of the codes-sent metric: an
// SMS-pumping attack shows as many sends and few verifications, a broken
// gateway as failures.
const (
	OTPSent        = "sent"         // the gateway took the text
	OTPSendFailed  = "failed"       // the gateway failed or refused (the code is stored; resend is the retry)
	OTPRateLimited = "rate_limited" // a limit of phone or client refused; nothing sent
)

// OTPMetrics counts codes asked for, by outcome (one of the OTP* outcomes).
type OTPMetrics interface {
	OTPCodeRequested(outcome string)
}
