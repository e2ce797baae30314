package auth

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// RequestOTP sends a one-time code by SMS (POST /api/auth/otp).
//
// It answers the same whether or not the phone has an account: it never
// looks accounts up, so neither its answer nor its timing can tell.
type RequestOTP struct {
	codes   ports.OTPStore
	sms     ports.SMSSender
	texts   ports.SMSTexts
	clock   ports.Clock
	metrics ports.OTPMetrics
	ttl     time.Duration
	newCode func() (otp.Code, error)
}

// NewRequestOTP wires the use case; ttl is the codes' lifetime (OTP_TTL, the
// store's policy), which the text tells the user. metrics may be nil.
func NewRequestOTP(codes ports.OTPStore, sms ports.SMSSender, texts ports.SMSTexts, clock ports.Clock, metrics ports.OTPMetrics, ttl time.Duration) *RequestOTP {
	return &RequestOTP{codes: codes, sms: sms, texts: texts, clock: clock, metrics: metrics, ttl: ttl, newCode: otp.NewCode}
}

// RequestOTPInput is the phone as typed, the client the per-client ceiling
// counts (as in LoginInput), and the language of the text.
type RequestOTPInput struct {
	Phone  string
	Client string
	Lang   string
}

// Handle returns a *domain.ValidationError naming phone for anything but
// +998 and 9 digits (no text goes to other countries), an error matching
// otp.ErrRateLimited (a *otp.RateLimitedError with Retry-After) when the
// phone or the client asked too often, and one matching sms.ErrNotSent when
// the gateway failed. The code is stored before the text goes out, so a
// refused request texts nobody; a failed text leaves the code counted (the
// user's resend is the retry, SMS.md §3).
func (uc *RequestOTP) Handle(ctx context.Context, in RequestOTPInput) (otp.Issued, error) {
	phone, err := user.ParsePhone(in.Phone)
	if err != nil {
		return otp.Issued{}, err
	}
	code, err := uc.newCode()
	if err != nil {
		return otp.Issued{}, err
	}
	issued, err := uc.codes.Issue(ctx, phone, in.Client, code, uc.clock.Now())
	if errors.Is(err, otp.ErrRateLimited) {
		uc.count(ports.OTPRateLimited)
		return otp.Issued{}, err
	}
	if err != nil {
		return otp.Issued{}, fmt.Errorf("store a code: %w", err)
	}
	if err := uc.sms.Send(ctx, phone, uc.texts.LoginCode(in.Lang, code.Reveal(), uc.ttl)); err != nil {
		uc.count(ports.OTPSendFailed)
		return otp.Issued{}, fmt.Errorf("text a code to %s: %w", phone.Masked(), err)
	}
	uc.count(ports.OTPSent)
	return issued, nil
}

func (uc *RequestOTP) count(outcome string) {
	if uc.metrics != nil {
		uc.metrics.OTPCodeRequested(outcome)
	}
}
