package ports

//go:generate go run github.com/golang/mock/mockgen -source=sms.go -destination=mocks/sms.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/user"
)

// SMSSender hands one text message to an SMS gateway (SMS_PROVIDER: Eskiz.uz
// in production, the console in development).
//
// The text may carry a one-time code. An implementation never logs it, never
// puts it or the whole number in an error, and sends it once: a call that
// timed out is not repeated (the gateway may have taken it, and a second try
// could text the user twice; SMS.md §3). The console adapter, whose whole job
// is to show the text in development, is the one place it is logged.
//
// Outcomes, for a metric of codes sent per outcome: nil means the gateway
// took the message (delivery is not confirmed); an error matching
// sms.ErrNotSent (which wraps domain.ErrUnavailable) means the gateway failed
// or refused; anything else is a bug of ours (a zero phone, an empty text).
type SMSSender interface {
	Send(ctx context.Context, to user.Phone, text string) error
}

// SMSTexts writes the texts the service sends, in the request's language
// (API.md, "Languages": lang is "uz", "ru" or "en"; an implementation
// answers in English for any other). Texts go through Eskiz's template
// moderation, so their wording changes only together with the templates
// approved there (README, operations).
type SMSTexts interface {
	// LoginCode is the text carrying a one-time code, which lives ttl.
	// POST /api/auth/otp names no purpose (one code serves phone login and
	// password reset, see package otp), so this one text serves both.
	LoginCode(lang, code string, ttl time.Duration) string
}
