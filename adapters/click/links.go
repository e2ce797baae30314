package click

import (
	"errors"
	"fmt"
	"net/url"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
)

// PayURL is CLICK-Button's pay page (SPEC §6); the older POST form to
// my.click.uz/pay/ has been shut down.
const PayURL = "https://my.click.uz/services/pay"

// ErrNotConfigured: Click's ids are not set, so no pay link can be made. It
// is a service_unavailable for the buyer, who can still pay with Payme.
var ErrNotConfigured = fmt.Errorf("click: CLICK_SERVICE_ID and CLICK_MERCHANT_ID are not set: %w", domain.ErrUnavailable)

// Links builds Click pay links: the ClickURL half of ports.PaymentLinks.
type Links struct {
	serviceID, merchantID string
}

// NewLinks returns a link builder for our service and merchant ids.
func NewLinks(serviceID, merchantID string) *Links {
	return &Links{serviceID: serviceID, merchantID: merchantID}
}

// ClickURL is the link that pays orderID: Click sends the order id back as
// merchant_trans_id and the amount, as written here ("N.NN" so'm), as amount
// (signed as is). The link itself is unsigned; Prepare checks both.
// returnURL is optional.
func (l *Links) ClickURL(orderID string, amount money.Money, returnURL string) (string, error) {
	if l.serviceID == "" || l.merchantID == "" {
		return "", ErrNotConfigured
	}
	if orderID == "" || amount.IsZero() {
		return "", errors.New("click: a pay link needs an order id and an amount")
	}
	q := url.Values{
		"service_id":        {l.serviceID},
		"merchant_id":       {l.merchantID},
		"amount":            {amount.SomString()},
		"transaction_param": {orderID},
	}
	if returnURL != "" {
		q.Set("return_url", returnURL)
	}
	return PayURL + "?" + q.Encode(), nil
}
