// Package smstexts writes the texts the service sends by SMS
// (ports.SMSTexts).
//
// A text is short and plain ASCII where it can be: a code text of one GSM-7
// part costs one SMS, and Eskiz sends a Cyrillic or other non-GSM text as
// UCS-2 (about 70 characters a part, SMS.md §1). The wording is what the
// Eskiz templates were approved for (README, operations): change both
// together.
package smstexts

import (
	"fmt"
	"time"

	"github.com/ultramarket/gateway/ports"
)

// Brand starts every text, so the user knows who sent it.
const Brand = "UltraMarket"

// English writes every text in English, whatever the language asked for;
// Uzbek and Russian come with their message catalogues.
type English struct{}

var _ ports.SMSTexts = English{}

// LoginCode names the code, how long it lives, and the warning every bank
// and marketplace here sends with one.
func (English) LoginCode(_ string, code string, ttl time.Duration) string {
	return fmt.Sprintf("%s: your code is %s. It expires in %s. Do not share it with anyone.", Brand, code, minutes(ttl))
}

// minutes says ttl in whole minutes, or in seconds below one.
func minutes(ttl time.Duration) string {
	switch {
	case ttl < time.Minute:
		return fmt.Sprintf("%d seconds", int(ttl/time.Second))
	case ttl < 2*time.Minute:
		return "1 minute"
	}
	return fmt.Sprintf("%d minutes", int(ttl/time.Minute))
}
