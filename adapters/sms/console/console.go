// Package console is the development SMS provider (SMS_PROVIDER=console): it
// writes each message to the service's log instead of sending it, so a
// developer can log in by phone without an SMS account.
//
// Its log line is the one place a one-time code may ever appear: it carries
// the text, and so the code, by design. The number in it is masked. The
// service refuses SMS_PROVIDER=console in production (DESIGN.md).
package console

import (
	"context"
	"errors"
	"log/slog"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Sender implements ports.SMSSender by logging. It never fails to "send".
type Sender struct {
	log *slog.Logger
}

var _ ports.SMSSender = (*Sender)(nil)

// New returns a Sender writing to log (slog.Default() when nil).
func New(log *slog.Logger) *Sender {
	if log == nil {
		log = slog.Default()
	}
	return &Sender{log: log}
}

// Send logs the text at Info with the masked number. A zero phone or an
// empty text is refused as the real gateway's adapter refuses it, so
// development finds the same bugs.
func (s *Sender) Send(ctx context.Context, to user.Phone, text string) error {
	switch {
	case to.IsZero():
		return errors.New("console sms: send: no phone")
	case text == "":
		return errors.New("console sms: send: empty text")
	}
	s.log.InfoContext(ctx, "sms not sent: console provider (development)", "to", to, "text", text)
	return nil
}
