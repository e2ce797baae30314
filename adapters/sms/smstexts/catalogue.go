package smstexts

import (
	"time"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/ports"
)

// Catalogue writes each text in the language asked for, from the message
// catalogues (adapters/i18n, ids sms.*); a language we do not speak gets
// English. Every wording there needs its approved Eskiz template.
type Catalogue struct {
	texts *i18n.Bundle
}

var _ ports.SMSTexts = Catalogue{}

// NewCatalogue writes texts from b (i18n.Catalogues() in the service).
func NewCatalogue(b *i18n.Bundle) Catalogue { return Catalogue{texts: b} }

// LoginCode says the code's lifetime in whole minutes, which pick the plural
// form. The catalogues count minutes only, so a lifetime under one (OTP_TTL
// allows 1s, for tests) is said in seconds by English.
func (c Catalogue) LoginCode(lang, code string, ttl time.Duration) string {
	if ttl < time.Minute {
		return English{}.LoginCode(lang, code, ttl)
	}
	return c.texts.Text(lang, i18n.SMSLoginCode, map[string]any{"Code": code, i18n.PluralArg: int(ttl / time.Minute)})
}
