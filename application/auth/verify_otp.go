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

// VerifyOTP logs in, or signs up, by phone with a code from RequestOTP
// (POST /api/auth/otp/verify).
type VerifyOTP struct {
	codes   ports.OTPStore
	users   ports.UserRepository
	ids     ports.IDGenerator
	clock   ports.Clock
	starter sessionStarter
}

// NewVerifyOTP wires the use case.
func NewVerifyOTP(codes ports.OTPStore, users ports.UserRepository, sessions ports.SessionStore, tokens ports.TokenIssuer, ids ports.IDGenerator, clock ports.Clock, policy SessionPolicy) *VerifyOTP {
	return &VerifyOTP{
		codes: codes, users: users, ids: ids, clock: clock,
		starter: sessionStarter{sessions: sessions, tokens: tokens, ids: ids, clock: clock,
			life: policy.Lifetime, maxPerUser: policy.MaxPerUser},
	}
}

// VerifyOTPInput is the form plus where it came from (as in LoginInput).
type VerifyOTPInput struct {
	Phone     string
	Code      string
	UserAgent string
	IP        string
}

// VerifyOTPResult is the account, its new session's tokens, and whether the
// account was made by this login.
type VerifyOTPResult struct {
	User    *user.User
	Tokens  Tokens
	Created bool
}

// Handle returns a *domain.ValidationError naming phone and code when they
// are malformed (nothing is tried then), otp.ErrInvalidCode for a wrong,
// expired or used code (every try counts against the code), and
// user.ErrBlocked for a blocked account. A right code logs into the account
// that verified the phone; when none did, a customer account is made with
// the phone verified. A phone typed at registration is not verified and
// never matches.
func (uc *VerifyOTP) Handle(ctx context.Context, in VerifyOTPInput) (VerifyOTPResult, error) {
	verr := &domain.ValidationError{}
	phone, err := user.ParsePhone(in.Phone)
	if err := verr.Merge(err); err != nil {
		return VerifyOTPResult{}, err
	}
	code, err := otp.ParseCode(in.Code)
	if err := verr.Merge(err); err != nil {
		return VerifyOTPResult{}, err
	}
	if err := verr.OrNil(); err != nil {
		return VerifyOTPResult{}, err
	}
	if err := uc.codes.Verify(ctx, phone, code, uc.clock.Now()); err != nil {
		return VerifyOTPResult{}, err
	}

	u, created, err := uc.findOrCreate(ctx, phone)
	if err != nil {
		return VerifyOTPResult{}, err
	}
	if !u.IsActive() {
		return VerifyOTPResult{}, fmt.Errorf("phone login of user %s: %w", u.ID(), user.ErrBlocked)
	}
	id := u.ID()
	u, tokens, err := uc.starter.start(ctx, id, in.UserAgent, in.IP, func(ctx context.Context, _ int) (*user.User, error) {
		// Read again after the revocation epoch (ports.SessionStore): the
		// session carries the account as it is now, and a block or role
		// change committed meanwhile shows here.
		fresh, err := uc.users.GetByID(ctx, id)
		if errors.Is(err, user.ErrNotFound) {
			return nil, fmt.Errorf("phone login of user %s: gone meanwhile: %w", id, otp.ErrInvalidCode)
		}
		if err != nil {
			return nil, err
		}
		if !fresh.IsActive() {
			return nil, fmt.Errorf("phone login of user %s: %w", id, user.ErrBlocked)
		}
		return fresh, nil
	})
	if err != nil {
		return VerifyOTPResult{}, err
	}
	return VerifyOTPResult{User: u, Tokens: tokens, Created: created}, nil
}

// findOrCreate returns the account that verified phone, making it when there
// is none. Two first logins of one phone racing each other both pass the
// code check only if they held two codes in turn; the second to insert finds
// the phone taken and logs into the first one's account.
func (uc *VerifyOTP) findOrCreate(ctx context.Context, phone user.Phone) (*user.User, bool, error) {
	u, err := uc.users.GetByVerifiedPhone(ctx, phone.String())
	if err == nil {
		return u, false, nil
	}
	if !errors.Is(err, user.ErrNotFound) {
		return nil, false, err
	}
	u, err = user.NewByPhone(uc.ids.NewID(), phone, uc.clock.Now())
	if err != nil {
		return nil, false, err
	}
	err = uc.users.Create(ctx, u)
	if errors.Is(err, user.ErrPhoneTaken) {
		u, err = uc.users.GetByVerifiedPhone(ctx, phone.String())
		if err != nil {
			return nil, false, fmt.Errorf("phone login: the account made meanwhile: %w", err)
		}
		return u, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	return u, true, nil
}
