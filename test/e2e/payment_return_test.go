package e2e

import (
	"net/http"
	"net/url"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// API.md: return_url must be https (http on localhost in development only)
// with a host in PAYMENT_RETURN_HOSTS, the port not compared; anything else
// is 422 naming return_url, so our payment pages never redirect a buyer to
// someone else's site.
func TestPayments_ReturnURLMustBeOnAShopHost(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) {
		c.ClickServiceID, c.ClickMerchantID = clickServiceID, clickMerchantID
		c.PaymentReturnHosts = []string{"shop.example.uz", "localhost"}
	})
	buyer := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)
	link := func(returnURL string) response {
		return g.paymentLink(t, buyer.Access, map[string]any{"order_id": orderID, "provider": "click", "return_url": returnURL})
	}

	for _, ret := range []string{
		"https://evil.example/phish",
		"https://pay.shop.example.uz/",
		"https://shop.example.uz.evil.example/",
		"https://shop.example.uz@evil.example/",
		`https://evil.example\@shop.example.uz/`,
		"http://shop.example.uz/paid",
		"http://localhost:3000/paid", // not in development
	} {
		p := expectValidation(t, link(ret), "return_url")
		assert.Equal(t, []string{"return_url"}, p.fields(), ret)
	}

	// An allowed host, on any port: the link sends the buyer back there.
	m := g.paymentLinkOK(t, buyer.Access, map[string]any{"order_id": orderID, "provider": "click",
		"return_url": "https://shop.example.uz:8443/orders/1?paid=1"})
	u, err := url.Parse(m["payment_url"].(string))
	require.NoError(t, err)
	assert.Equal(t, "https://shop.example.uz:8443/orders/1?paid=1", u.Query().Get("return_url"))
}

// By default PAYMENT_RETURN_HOSTS is the hosts of CORS_ORIGINS, and in
// development http://localhost is accepted, as the web client runs there.
func TestPayments_ReturnURLDefaultsToTheCORSHostsAndLocalhostInDevelopment(t *testing.T) {
	t.Parallel()
	cfg := identityConfig(t)
	lookup := map[string]string{"APP_ENV": "development", "CORS_ORIGINS": "http://localhost:3000,https://web.example.uz"}
	loaded, err := config.Load(func(k string) (string, bool) { v, ok := lookup[k]; return v, ok })
	require.NoError(t, err)
	cfg.Env, cfg.CORSOrigins, cfg.PaymentReturnHosts = loaded.Env, loaded.CORSOrigins, loaded.PaymentReturnHosts
	cfg.PaymeMerchantID, cfg.PaymeKey = payPaymeMerchant, payPaymeKey
	g := startGateway(t, cfg, "")
	buyer := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)

	for _, ret := range []string{"http://localhost:3000/paid", "https://web.example.uz/paid"} {
		r := g.paymentLink(t, buyer.Access, map[string]any{"order_id": orderID, "provider": "payme", "return_url": ret})
		expectJSON(t, r, http.StatusCreated)
	}
	for _, ret := range []string{"http://web.example.uz/paid", "https://shop.example.uz/paid"} {
		expectValidation(t, g.paymentLink(t, buyer.Access, map[string]any{"order_id": orderID, "provider": "payme", "return_url": ret}), "return_url")
	}
}
