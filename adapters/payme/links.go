package payme

import (
	"encoding/base64"
	"fmt"
	"strings"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

// Links builds Payme checkout links (SPEC §3.1): the checkout host, a slash,
// and standard base64 (with padding) of
// "m=<merchant id>;ac.order_id=<order id>;a=<amount in tiyin>[;c=<return url>]".
// The link is unsigned: CheckPerformTransaction validates what comes back.
type Links struct {
	checkoutURL, merchantID string
}

// NewLinks returns a builder for checkoutURL (PAYME_CHECKOUT_URL, e.g.
// https://checkout.paycom.uz) and merchantID (PAYME_MERCHANT_ID).
func NewLinks(checkoutURL, merchantID string) *Links {
	return &Links{checkoutURL: strings.TrimRight(checkoutURL, "/"), merchantID: merchantID}
}

// ErrNotConfigured: no PAYME_MERCHANT_ID or checkout URL, so no link can be made.
var ErrNotConfigured = fmt.Errorf("payme: checkout is not configured: %w", domain.ErrUnavailable)

// PaymeURL returns the checkout link for an order. The amount must be
// positive; no value may contain ';', the separator of the format
// (a return URL with one is a validation error on return_url).
func (l *Links) PaymeURL(orderID string, amount money.Money, returnURL string) (string, error) {
	if l.merchantID == "" || l.checkoutURL == "" {
		return "", ErrNotConfigured
	}
	if strings.ContainsRune(l.merchantID, ';') {
		return "", fmt.Errorf("payme: merchant id contains ';': %w", ErrNotConfigured)
	}
	if orderID == "" || strings.ContainsRune(orderID, ';') {
		return "", domain.Invalid("order_id", domain.MsgPaymeOrderID)
	}
	if amount.Tiyin() <= 0 {
		return "", domain.Invalid("amount", domain.MsgPositive)
	}
	if strings.ContainsRune(returnURL, ';') {
		return "", domain.Invalid("return_url", domain.MsgNoSemicolon)
	}
	params := fmt.Sprintf("m=%s;ac.order_id=%s;a=%d", l.merchantID, orderID, amount.Tiyin())
	if returnURL != "" {
		params += ";c=" + returnURL
	}
	return l.checkoutURL + "/" + base64.StdEncoding.EncodeToString([]byte(params)), nil
}
