// Package sms holds what the core knows about text messages: sending one can
// fail, and every gateway's failure looks the same to the use cases.
package sms

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
)

// ErrNotSent means the SMS gateway did not take the message: it could not be
// reached, did not answer in time, refused our credentials or the message, or
// failed on its side. It wraps domain.ErrUnavailable: nothing of ours changed
// and asking again later may work.
//
// A send that timed out may still have gone out (the gateway got it but its
// answer was lost), so a caller must not send the same text again on its own:
// the user's "send again" is the retry (SMS.md §3). Its message names the call
// and the reason, never the text, the whole number or a credential.
var ErrNotSent = fmt.Errorf("sms: not sent: %w", domain.ErrUnavailable)
