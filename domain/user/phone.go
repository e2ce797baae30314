package user

import (
	"log/slog"

	"github.com/ultramarket/gateway/domain"
)

// Phone is an Uzbek phone number that passed the rule of API.md (+998 and 9
// digits), the same rule registration applies to an optional phone
// (NormalizePhone). It is the type the SMS and one-time-code ports take, so
// nothing reaches a gateway or a code store unchecked. The zero Phone is "no
// phone" and is refused by both.
type Phone struct {
	e164 string // "+998XXXXXXXXX"
}

// errPhoneRequired is shared, like the other parse errors: callers merge its
// fields, never append to it.
var errPhoneRequired error = domain.Invalid("phone", domain.MsgRequired)

// ParsePhone reads a required phone number. Surrounding spaces are trimmed,
// nothing else is forgiven: a contract that says "+998 and 9 digits" is not
// met by "998..." or "90 123 45 67", and guessing the country would send codes
// to numbers nobody typed. The error names the field "phone".
func ParsePhone(s string) (Phone, error) {
	p, msg := normalizePhone(s)
	if msg != "" {
		return Phone{}, domain.Invalid("phone", msg)
	}
	if p == "" {
		return Phone{}, errPhoneRequired
	}
	return Phone{e164: p}, nil
}

// IsZero reports whether p is the zero Phone (no number).
func (p Phone) IsZero() bool { return p.e164 == "" }

// String is the E.164 form, +998XXXXXXXXX, as stored and shown to its owner.
func (p Phone) String() string { return p.e164 }

// Digits is the international number without the "+", 998XXXXXXXXX: the form
// SMS gateways take (Eskiz's mobile_phone, Play Mobile's recipient).
func (p Phone) Digits() string {
	if p.IsZero() {
		return ""
	}
	return p.e164[1:]
}

// Masked hides the middle of the subscriber number, 99890***4567, for logs:
// enough to tell numbers apart when debugging, not enough to text one.
func (p Phone) Masked() string {
	d := p.Digits()
	if d == "" {
		return ""
	}
	return d[:5] + "***" + d[len(d)-4:]
}

// LogValue makes slog write the masked form, so logging a Phone as an
// attribute never puts a whole number in the logs.
func (p Phone) LogValue() slog.Value { return slog.StringValue(p.Masked()) }
