package e2e

import (
	"encoding/base64"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

var (
	paymentLinkKeys = []string{"order_id", "provider", "amount", "currency", "payment_url"}
	transactionKeys = []string{"id", "provider", "provider_transaction_id", "order_id", "amount", "state",
		"created_at", "performed_at", "cancelled_at", "cancel_reason"}
)

func (g *gateway) paymentLink(t *testing.T, token string, body any) response {
	t.Helper()
	return g.post(t, "/api/payments", token, body)
}

// paymentLinkOK asks for a link and checks the 201 body's shape.
func (g *gateway) paymentLinkOK(t *testing.T, token string, body map[string]any) map[string]any {
	t.Helper()
	r := g.paymentLink(t, token, body)
	expectJSON(t, r, http.StatusCreated)
	m := asMap(t, r)
	assertKeys(t, m, paymentLinkKeys, "payment link")
	assert.Equal(t, body["order_id"], m["order_id"])
	assert.Equal(t, body["provider"], m["provider"])
	assert.Equal(t, float64(clickDefaultTotal), m["amount"], "amount in tiyin")
	assert.Equal(t, "UZS", m["currency"])
	return m
}

func TestPayments_PaymeLink(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)

	for _, tc := range []struct {
		returnURL string
		payload   string
	}{
		{"", "m=" + payPaymeMerchant + ";ac.order_id=" + orderID + ";a=" + strconv.FormatInt(clickDefaultTotal, 10)},
		{"https://shop.example.uz/orders/1?paid=1", "m=" + payPaymeMerchant + ";ac.order_id=" + orderID + ";a=" +
			strconv.FormatInt(clickDefaultTotal, 10) + ";c=https://shop.example.uz/orders/1?paid=1"},
	} {
		t.Run("return_url="+tc.returnURL, func(t *testing.T) {
			body := map[string]any{"order_id": orderID, "provider": "payme"}
			if tc.returnURL != "" {
				body["return_url"] = tc.returnURL
			}
			m := g.paymentLinkOK(t, buyer.Access, body)
			link, _ := m["payment_url"].(string)
			encoded, ok := strings.CutPrefix(link, "https://checkout.paycom.uz/")
			require.True(t, ok, "payment_url %q", link)
			decoded, err := base64.StdEncoding.DecodeString(encoded)
			require.NoError(t, err, "standard base64 with padding: %q", encoded)
			assert.Equal(t, tc.payload, string(decoded))
		})
	}
}

func TestPayments_ClickLink(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)

	m := g.paymentLinkOK(t, buyer.Access, map[string]any{"order_id": orderID, "provider": "click",
		"return_url": "https://shop.example.uz/done?x=1&y=%C3%BC#top"})
	u, err := url.Parse(m["payment_url"].(string))
	require.NoError(t, err)
	assert.Equal(t, "https://my.click.uz/services/pay", u.Scheme+"://"+u.Host+u.Path)
	assert.Equal(t, url.Values{
		"service_id": {clickServiceID}, "merchant_id": {clickMerchantID}, "amount": {"50000.50"},
		"transaction_param": {orderID}, "return_url": {"https://shop.example.uz/done?x=1&y=%C3%BC#top"},
	}, u.Query())

	// The link's amount and order id are what a Prepare must then carry.
	a := g.clickSend(t, newClickForm(nextClickTransID(), u.Query().Get("transaction_param"), u.Query().Get("amount")).signed(clickSecret))
	requireClickCode(t, a, 0)
}

func TestPayments_LinkIsForTheOwnerOfAPayableOrderOnly(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	owner := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, owner, clickDefaultTotal)
	body := map[string]any{"order_id": orderID, "provider": "payme"}

	// Not the owner: 404, whoever asks — admins included.
	for _, role := range []string{roleCustomer, roleSeller, roleAdmin, roleSuperAdmin} {
		other := g.newAccount(t, role)
		expectProblem(t, g.paymentLink(t, other.Access, body), http.StatusNotFound, "not_found")
	}
	expectProblem(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": uuid.NewString(), "provider": "payme"}),
		http.StatusNotFound, "not_found")
	expectProblem(t, g.paymentLink(t, "", body), http.StatusUnauthorized, "unauthorized")

	// Invalid fields: 422 naming them.
	expectValidation(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": orderID, "provider": "paypal"}), "provider")
	expectValidation(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": orderID}), "provider")
	expectValidation(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": "42", "provider": "click"}), "order_id")
	for _, ret := range []string{"/relative", "ftp://shop.example.uz/", "https://shop.example.uz/a;b", "https://" + strings.Repeat("a", 2048) + ".uz/"} {
		expectValidation(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": orderID, "provider": "payme", "return_url": ret}), "return_url")
	}
	expectValidation(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": orderID, "provider": "payme", "amount": 1}), "amount")

	// Once paid (here by Click), no more links: 409 order_not_payable.
	f, prepareID := g.clickPrepared(t, orderID, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, 0).signed(clickSecret)), 0)
	for _, provider := range []string{"payme", "click"} {
		expectProblem(t, g.paymentLink(t, owner.Access, map[string]any{"order_id": orderID, "provider": provider}),
			http.StatusConflict, "order_not_payable")
	}
}

func TestPayments_TransactionsOfAnOrder(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	owner := g.newAccount(t, roleCustomer)
	admin := g.newAccount(t, roleAdmin)
	stranger := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, owner, clickDefaultTotal)
	path := "/api/payments?order_id=" + orderID

	r := g.get(t, path, owner.Access)
	expectJSON(t, r, http.StatusOK)
	assert.JSONEq(t, `{"items":[]}`, string(r.Body))

	// A cancelled attempt, then a paid one.
	f1, p1 := g.clickPrepared(t, orderID, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f1.completing(p1, -5017).signed(clickSecret)), -9)
	f2, p2 := g.clickPrepared(t, orderID, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f2.completing(p2, 0).signed(clickSecret)), 0)

	for _, token := range []string{owner.Access, admin.Access} {
		r = g.get(t, path, token)
		expectJSON(t, r, http.StatusOK)
		items, _ := asMap(t, r)["items"].([]any)
		require.Len(t, items, 2, "%s", r)
		for _, it := range items {
			assertKeys(t, it.(map[string]any), transactionKeys, "transaction")
		}
		cancelled, completed := items[0].(map[string]any), items[1].(map[string]any)

		// Our id is a UUID, like every id of the API; merchant_prepare_id is
		// Click's business only.
		assert.Equal(t, g.clickAttemptID(t, p1), cancelled["id"])
		payAssertUUID(t, cancelled["id"], "a Click transaction's id")
		assert.Equal(t, "click", cancelled["provider"])
		assert.Equal(t, f1.Get("click_trans_id"), cancelled["provider_transaction_id"], "Click's id as a decimal string")
		assert.Equal(t, orderID, cancelled["order_id"])
		assert.Equal(t, float64(clickDefaultTotal), cancelled["amount"])
		assert.Equal(t, "cancelled", cancelled["state"])
		assert.Nil(t, cancelled["performed_at"])
		assertUTCTime(t, cancelled["cancelled_at"].(string), "cancelled_at")
		assert.Equal(t, float64(-5017), cancelled["cancel_reason"], "the error Click sent")

		assert.Equal(t, g.clickAttemptID(t, p2), completed["id"])
		payAssertUUID(t, completed["id"], "a Click transaction's id")
		assert.Equal(t, "completed", completed["state"])
		assert.Equal(t, f2.Get("click_trans_id"), completed["provider_transaction_id"])
		created := assertUTCTime(t, completed["created_at"].(string), "created_at")
		performed := assertUTCTime(t, completed["performed_at"].(string), "performed_at")
		assert.False(t, performed.Before(created))
		assert.Nil(t, completed["cancelled_at"])
		assert.Nil(t, completed["cancel_reason"])
	}

	// The settlement names the paying attempt by that same id.
	var settledBy string
	require.NoError(t, g.DB.Get(&settledBy, `SELECT provider_tx_id FROM order_settlements WHERE order_id = $1`, orderID))
	assert.Equal(t, g.clickAttemptID(t, p2), settledBy)

	// Click cancels the confirmed payment: on that word alone (its signature
	// does not cover error) it stays completed; reconciliation_test.go shows
	// it refunded once Click's Merchant API confirms the cancel.
	requireClickCode(t, g.clickSend(t, f2.completing(p2, -5017).signed(clickSecret)), -9)
	items, _ := asMap(t, g.get(t, path, owner.Access))["items"].([]any)
	require.Len(t, items, 2)
	assert.Equal(t, "completed", items[1].(map[string]any)["state"])
	assert.Nil(t, items[1].(map[string]any)["cancel_reason"])

	// Anyone else: 404; a bad order_id: 422; no token: 401.
	expectProblem(t, g.get(t, path, stranger.Access), http.StatusNotFound, "not_found")
	expectProblem(t, g.get(t, "/api/payments?order_id="+uuid.NewString(), owner.Access), http.StatusNotFound, "not_found")
	expectValidation(t, g.get(t, "/api/payments", owner.Access), "order_id")
	expectValidation(t, g.get(t, "/api/payments?order_id=42", owner.Access), "order_id")
	expectProblem(t, g.get(t, path, ""), http.StatusUnauthorized, "unauthorized")
}
