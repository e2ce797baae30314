package payments

import (
	"context"
	"fmt"
	"net/url"
	"slices"
	"strings"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// MaxReturnURLLength bounds return_url: browsers and both gateways cope with
// URLs of this size, and Payme's link carries it base64-encoded.
const MaxReturnURLLength = 2048

// CreatePaymentLinkInput is POST /api/payments: the raw fields of the body
// and the caller from the token.
type CreatePaymentLinkInput struct {
	Actor     user.Actor
	OrderID   string
	Provider  string
	ReturnURL string // optional
}

// PaymentLink is where the buyer goes to pay the order.
type PaymentLink struct {
	OrderID  string
	Provider payment.Provider
	Amount   money.Money
	URL      string
}

// ReturnURLPolicy is where the payment pages may send a buyer back to
// (PAYMENT_RETURN_HOSTS). Both gateways redirect to return_url after the
// payment, under their own trusted name: without a policy anyone could make
// a link that ends on a site of theirs (an open redirect, handy for
// phishing right after a real payment).
type ReturnURLPolicy struct {
	// Hosts are the allowed host names, lower case, without a trailing dot;
	// the port is not compared. Empty allows no return_url at all.
	Hosts []string
	// HTTPOnLocalhost also accepts http for the host localhost (development,
	// where the web client runs on http://localhost:3000); everything else
	// must be https.
	HTTPOnLocalhost bool
}

// CreatePaymentLink builds a Payme or Click link for an order awaiting
// payment, for its owner only.
type CreatePaymentLink struct {
	orders  ports.OrderRepository
	links   ports.PaymentLinks
	returns ReturnURLPolicy
}

// NewCreatePaymentLink wires the use case; returns says which return_url
// values are accepted.
func NewCreatePaymentLink(orders ports.OrderRepository, links ports.PaymentLinks, returns ReturnURLPolicy) *CreatePaymentLink {
	return &CreatePaymentLink{orders: orders, links: links, returns: returns}
}

// Handle returns the link. Errors: a *domain.ValidationError naming order_id,
// provider or return_url (422); order.ErrNotFound (404) for a missing order
// and for anyone but its owner, admins included; order.ErrNotPayable (409)
// unless the order is pending_payment.
func (uc *CreatePaymentLink) Handle(ctx context.Context, in CreatePaymentLinkInput) (PaymentLink, error) {
	verr := &domain.ValidationError{}
	checkOrderID(verr, in.OrderID)
	provider, ok := parseProvider(in.Provider)
	if !ok {
		verr.Add("provider", domain.MsgEither, domain.Args{"Values": "payme", "Last": "click"})
	}
	if msg, args := uc.returns.check(in.ReturnURL); msg != "" {
		verr.Add("return_url", msg, args)
	}
	if err := verr.OrNil(); err != nil {
		return PaymentLink{}, err
	}

	o, err := uc.orders.Get(ctx, in.OrderID)
	if err != nil {
		return PaymentLink{}, fmt.Errorf("payment link: %w", err)
	}
	// Paying is the buyer's act: an admin who is not the owner sees nothing.
	if !o.OwnedBy(in.Actor.ID) {
		return PaymentLink{}, fmt.Errorf("payment link: order %s is not the caller's: %w", o.ID(), order.ErrNotFound)
	}
	if err := o.CheckPayable(); err != nil {
		return PaymentLink{}, fmt.Errorf("payment link for order %s (%s): %w", o.ID(), o.Status(), err)
	}
	var link string
	switch provider {
	case payment.ProviderPayme:
		link, err = uc.links.PaymeURL(o.ID(), o.Total(), in.ReturnURL)
	case payment.ProviderClick:
		link, err = uc.links.ClickURL(o.ID(), o.Total(), in.ReturnURL)
	}
	if err != nil {
		return PaymentLink{}, fmt.Errorf("%s link for order %s: %w", provider, o.ID(), err)
	}
	return PaymentLink{OrderID: o.ID(), Provider: provider, Amount: o.Total(), URL: link}, nil
}

func parseProvider(s string) (payment.Provider, bool) {
	switch p := payment.Provider(s); p {
	case payment.ProviderPayme, payment.ProviderClick:
		return p, true
	}
	return "", false
}

// checkOrderID reports a missing or malformed order id as field order_id.
func checkOrderID(verr *domain.ValidationError, id string) {
	switch {
	case id == "":
		verr.Add("order_id", domain.MsgRequired)
	case !domain.IsID(id):
		verr.Add("order_id", domain.MsgUUID)
	}
}

// check returns what is wrong with an optional return URL, or "". It must
// be an absolute https URL (http on localhost when HTTPOnLocalhost) whose
// host is one of Hosts. A ';' would end the value early in Payme's link (its
// parameters are ';'-separated), so it is refused for both providers. So are
// user information ("https://shop.uz@evil.example/" goes to evil.example)
// and backslashes, which browsers read as '/' where url.Parse does not: the
// host checked must be the host the browser goes to.
func (p ReturnURLPolicy) check(s string) (string, domain.Args) {
	if s == "" {
		return "", nil
	}
	if len(s) > MaxReturnURLLength {
		return domain.MsgMaxChars, domain.Args{"Count": MaxReturnURLLength}
	}
	if strings.Contains(s, ";") {
		return domain.MsgNoSemicolon, nil
	}
	if strings.Contains(s, `\`) {
		return domain.MsgNoBackslash, nil
	}
	for i := 0; i < len(s); i++ {
		if s[i] <= ' ' || s[i] == 0x7f {
			return domain.MsgNoSpaces, nil
		}
	}
	u, err := url.Parse(s)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.Opaque != "" {
		return domain.MsgAbsoluteHTTPS, nil
	}
	if u.User != nil {
		return domain.MsgNoUserInfo, nil
	}
	host := strings.TrimSuffix(strings.ToLower(u.Hostname()), ".")
	if !slices.Contains(p.Hosts, host) {
		return domain.MsgOwnHost, nil
	}
	if u.Scheme == "http" && (!p.HTTPOnLocalhost || host != "localhost") {
		return domain.MsgHTTPS, nil
	}
	return "", nil
}
