package httpapi

import (
	"time"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

// The response shapes of the identity routes (API.md: user, tokens, session).
// They are built field by field from the aggregates, so nothing is sent that
// is not listed here: the password hash in particular has no field to land in.
// Timestamps go through ts: RFC 3339 in UTC.

// userJSON is API.md's user. Phone is null when the account has none, so a
// client can tell "not given" from a value without parsing an empty string;
// email likewise for an account made by phone login that has not set one.
type userJSON struct {
	ID            string  `json:"id"`
	Email         *string `json:"email"`
	FullName      string  `json:"full_name"`
	Phone         *string `json:"phone"`
	PhoneVerified bool    `json:"phone_verified"`
	Role          string  `json:"role"`
	Status        string  `json:"status"`
	// SellerProfile is set for a seller whose profile an admin set, else null.
	SellerProfile *sellerProfileJSON `json:"seller_profile"`
	CreatedAt     time.Time          `json:"created_at"`
}

// sellerProfileJSON is API.md's seller_profile: one of tin and pinfl is null.
type sellerProfileJSON struct {
	TIN      *string `json:"tin"`
	PINFL    *string `json:"pinfl"`
	VATPayer bool    `json:"vat_payer"`
}

func sellerProfileOf(u *user.User) *sellerProfileJSON {
	p, ok := u.SellerProfile()
	if !ok || u.Role() != user.RoleSeller {
		return nil
	}
	return &sellerProfileJSON{TIN: nullable(p.TIN()), PINFL: nullable(p.PINFL()), VATPayer: p.VATPayer()}
}

func userOf(u *user.User) userJSON {
	return userJSON{
		ID:            u.ID(),
		Email:         nullable(u.Email()),
		FullName:      u.FullName(),
		Phone:         nullable(u.Phone()),
		PhoneVerified: u.PhoneVerified(),
		Role:          string(u.Role()),
		Status:        string(u.Status()),
		SellerProfile: sellerProfileOf(u),
		CreatedAt:     ts(u.CreatedAt()),
	}
}

// tokensJSON is API.md's tokens; expires_in is the access token's lifetime in seconds.
type tokensJSON struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

func tokensOf(t auth.Tokens) tokensJSON {
	return tokensJSON{
		AccessToken:  t.AccessToken,
		RefreshToken: t.RefreshToken,
		TokenType:    t.TokenType,
		ExpiresIn:    t.ExpiresIn,
	}
}

// sessionJSON is API.md's session. user_agent and ip are null when the
// session was opened without them, like phone. current marks the session the
// request's own access token belongs to.
type sessionJSON struct {
	ID         string    `json:"id"`
	CreatedAt  time.Time `json:"created_at"`
	LastUsedAt time.Time `json:"last_used_at"`
	ExpiresAt  time.Time `json:"expires_at"`
	UserAgent  *string   `json:"user_agent"`
	IP         *string   `json:"ip"`
	Current    bool      `json:"current"`
}

func sessionOf(s *session.Session, current bool) sessionJSON {
	return sessionJSON{
		ID:         s.ID(),
		CreatedAt:  ts(s.CreatedAt()),
		LastUsedAt: ts(s.LastUsedAt()),
		ExpiresAt:  ts(s.ExpiresAt()),
		UserAgent:  nullable(s.UserAgent()),
		IP:         nullable(s.IP()),
		Current:    current,
	}
}

// Envelopes, named by API.md: {user, tokens}, {tokens}, {user}, {items}.
type (
	userTokensJSON struct {
		User   userJSON   `json:"user"`
		Tokens tokensJSON `json:"tokens"`
	}
	tokensEnvelope struct {
		Tokens tokensJSON `json:"tokens"`
	}
	userEnvelope struct {
		User userJSON `json:"user"`
	}
	// phoneLoginJSON is {user, tokens, created} of POST /api/auth/otp/verify.
	phoneLoginJSON struct {
		User    userJSON   `json:"user"`
		Tokens  tokensJSON `json:"tokens"`
		Created bool       `json:"created"`
	}
	// otpSentJSON is {expires_in, resend_in} of POST /api/auth/otp, in whole
	// seconds.
	otpSentJSON struct {
		ExpiresIn int64 `json:"expires_in"`
		ResendIn  int64 `json:"resend_in"`
	}
	sessionListJSON struct {
		Items []sessionJSON `json:"items"`
	}
)

// ts is how every timestamp leaves: in UTC (encoding/json then writes RFC
// 3339) and cut to microseconds, the precision Postgres keeps. Without the
// cut, register would answer with the clock's nanoseconds and GET me with
// the stored value, and one instant would read two ways.
func ts(t time.Time) time.Time {
	return t.UTC().Truncate(time.Microsecond)
}

func nullable(s string) *string {
	if s == "" {
		return nil
	}
	return &s
}

// pageJSON is the list envelope of API.md: {items, page, page_size, total}.
type pageJSON[T any] struct {
	Items    []T `json:"items"`
	Page     int `json:"page"`
	PageSize int `json:"page_size"`
	Total    int `json:"total"`
}

// pageOf renders one page of domain values with render; items is never null.
func pageOf[S, T any](items []S, page, pageSize, total int, render func(S) T) pageJSON[T] {
	out := pageJSON[T]{Items: make([]T, 0, len(items)), Page: page, PageSize: pageSize, Total: total}
	for _, it := range items {
		out.Items = append(out.Items, render(it))
	}
	return out
}
