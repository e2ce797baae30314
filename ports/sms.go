package ports

//go:generate go run github.com/golang/mock/mockgen -source=sms.go -destination=mocks/sms.go -package=mocks

import (
	"context"

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
