package e2e

// The payment webhooks decide who is calling before they read a body
// (API.md, "Exact rules → Payments"): the client address against
// PAYME_ALLOWED_IPS / CLICK_ALLOWED_IPS (derived through TRUSTED_PROXIES),
// then Payme's Basic credentials.

import (
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// payWebhookBlocking posts to path a request that announces a 2 MiB body
// and never sends a byte of it. A webhook that read the body would wait for
// it; one that decides from the headers answers at once. It returns the
// JSON answer, which must be HTTP 200.
func payWebhookBlocking(t *testing.T, url, contentType string, header map[string]string) map[string]any {
	t.Helper()
	pr, pw := io.Pipe()
	defer pw.Close() // the body never comes
	// A server that waits for the body would wait 30 s (its ReadTimeout),
	// and the client with it (it cannot give up while writing the body): cut
	// the body off after a while, so such a server fails this test instead
	// of hanging it.
	cutOff := time.AfterFunc(10*time.Second, func() { pw.CloseWithError(errors.New("the server waited for the body")) })
	defer cutOff.Stop()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, pr)
	require.NoError(t, err)
	req.ContentLength = 2 << 20 // over 1 MiB
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err, "answered without waiting for the body")
	require.True(t, cutOff.Stop(), "answered before the body was cut off")
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

// payWebhookFrom posts body to path as coming (through the trusted proxy on
// 127.0.0.1) from xff; "" sends no X-Forwarded-For.
func payWebhookFrom(t *testing.T, url, contentType, body, xff string, header map[string]string) map[string]any {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, url, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	if xff != "" {
		req.Header.Set("X-Forwarded-For", xff)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	require.Equal(t, http.StatusOK, resp.StatusCode)
	var out map[string]any
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	return out
}

func TestClick_CallsFromOutsideTheAllowListAreMinus1AndChangeNothing(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) {
		c.ClickServiceID, c.ClickMerchantID, c.ClickSecretKey = clickServiceID, clickMerchantID, clickSecret
		c.ClickAllowedIPs = paymeNets(t, "203.0.113.0/24")
		c.TrustedProxies = paymeNets(t, "127.0.0.1/32")
	})
	buyer := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)
	form := newClickForm(nextClickTransID(), orderID, somOf(clickDefaultTotal)).signed(clickSecret)
	const prepare, complete = "/api/payments/click/prepare", "/api/payments/click/complete"
	formType := "application/x-www-form-urlencoded"

	// A correctly signed Prepare from elsewhere: -1, and no attempt exists.
	for _, xff := range []string{"198.51.100.7", ""} { // "": the proxy itself, 127.0.0.1
		out := payWebhookFrom(t, g.BaseURL+prepare, formType, form.Encode(), xff, nil)
		assert.EqualValues(t, -1, out["error"], "from %q: %v", xff, out)
		assert.Equal(t, "SIGN CHECK FAILED!", out["error_note"])
		assert.Nil(t, out["merchant_prepare_id"])
	}
	var attempts int
	require.NoError(t, g.DB.Get(&attempts, `SELECT count(*) FROM click_transactions`))
	assert.Zero(t, attempts, "nothing was prepared")

	// From Click's network it goes through.
	out := payWebhookFrom(t, g.BaseURL+prepare, formType, form.Encode(), "203.0.113.5", nil)
	require.EqualValues(t, 0, out["error"], "%v", out)
	prepareID := int64(out["merchant_prepare_id"].(float64))

	// A Complete from elsewhere: -1, the attempt stays prepared, the order unpaid.
	done := form.completing(prepareID, 0).signed(clickSecret)
	out = payWebhookFrom(t, g.BaseURL+complete, formType, done.Encode(), "198.51.100.7", nil)
	assert.EqualValues(t, -1, out["error"], "%v", out)
	assert.Equal(t, 1, g.clickAttemptState(t, form.ClickTransID()))
	assert.Equal(t, "pending_payment", g.clickOrderStatus(t, orderID))

	// An over-1-MiB body from elsewhere is answered without being read.
	for _, path := range []string{prepare, complete} {
		out = payWebhookBlocking(t, g.BaseURL+path, formType, map[string]string{"X-Forwarded-For": "198.51.100.7"})
		assert.EqualValues(t, -1, out["error"], "%s: %v", path, out)
	}

	// The real Complete still pays the order.
	out = payWebhookFrom(t, g.BaseURL+complete, formType, done.Encode(), "203.0.113.5", nil)
	assert.EqualValues(t, 0, out["error"], "%v", out)
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))
}

func TestPayme_RefusedCallersAreAnsweredWithoutReadingTheBody(t *testing.T) {
	t.Parallel()
	g := newPaymeGateway(t, 1, func(c *config.Config) {
		c.PaymeAllowedIPs = paymeNets(t, "185.234.113.0/28")
		c.TrustedProxies = paymeNets(t, "127.0.0.1/32")
	})
	url := g.apps[0].BaseURL + paymeRoute
	for name, header := range map[string]map[string]string{
		"from elsewhere, right credentials": {"X-Forwarded-For": "203.0.113.9", "Authorization": paymeAuth},
		"from Payme, wrong credentials":     {"X-Forwarded-For": "185.234.113.7", "Authorization": paymeAuth + "x"},
		"from Payme, no credentials":        {"X-Forwarded-For": "185.234.113.7"},
	} {
		t.Run(name, func(t *testing.T) {
			out := payWebhookBlocking(t, url, "text/json; charset=UTF-8", header)
			e, _ := out["error"].(map[string]any)
			require.NotNil(t, e, "%s: %v", name, out)
			assert.EqualValues(t, paymeCodeUnauthorized, e["code"], name)
			assert.Nil(t, out["id"], "%s: the body (and its id) was never read", name)
		})
	}
	// Payme itself, with its key, is heard.
	body := string(paymeBody(1, "GetStatement", map[string]any{"from": 0, "to": 1}))
	out := payWebhookFrom(t, url, "text/json; charset=UTF-8", body, "185.234.113.7", map[string]string{"Authorization": paymeAuth})
	assert.Contains(t, out, "result", "%v", out)
}

func TestWebhooks_AllowingAnyAddressIsWarnedAboutAtStart(t *testing.T) {
	t.Parallel()
	open := newGateway(t, func(c *config.Config) {
		c.PaymeAllowedIPs, c.ClickAllowedIPs = config.AnyAddress(), config.AnyAddress()
	})
	logs := open.Logs.String()
	assert.Contains(t, logs, "PAYME_ALLOWED_IPS allows any address")
	assert.Contains(t, logs, "CLICK_ALLOWED_IPS allows any address")

	closed := newGateway(t, func(c *config.Config) {
		c.PaymeAllowedIPs, c.ClickAllowedIPs = paymeNets(t, "185.234.113.0/28"), paymeNets(t, "203.0.113.0/24")
	})
	assert.False(t, strings.Contains(closed.Logs.String(), "allows any address"), "no warning for real allow-lists")
}
