package e2e

// Admin refunds and the payments console (API.md, "Refunds and
// reconciliation"), end to end: the gateway over HTTP, Postgres, and a fake
// Click Merchant API that checks the signed Auth header.

import (
	"bytes"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/fakes/clickmerchant"
)

// newMoneyGateway is newPayGateway with CLICK_API_URL pointing at a fake
// Click Merchant API of the same merchant (SPEC §7's example credentials,
// which are the gateway's Click credentials here).
// newMoneyGateway is a gateway with both providers configured and Click's
// Merchant API served by a fake; more changes the configuration further.
func newMoneyGateway(t *testing.T, more ...func(*config.Config)) (*gateway, *clickmerchant.Server) {
	t.Helper()
	fake := clickmerchant.New(clickmerchant.Config{})
	t.Cleanup(fake.Close)
	g := newGateway(t, func(c *config.Config) {
		c.ClickServiceID, c.ClickMerchantID, c.ClickSecretKey = clickServiceID, clickMerchantID, clickSecret
		c.ClickMerchantUserID = clickmerchant.SpecMerchantUserID
		c.PaymeMerchantID, c.PaymeKey = payPaymeMerchant, payPaymeKey
		c.PaymentReturnHosts = []string{"shop.example.uz"}
		c.ClickAPIURL = fake.URL()
		for _, f := range more {
			f(c)
		}
	})
	return g, fake
}

// refundCalls are the calls to Click's Merchant API about a payment's
// standing (reversal, status): the sale receipt's submission, which the
// receipt worker sends after every Click payment, is not one of them.
func refundCalls(fake *clickmerchant.Server) []clickmerchant.Call {
	var out []clickmerchant.Call
	for _, c := range fake.Calls() {
		if c.Route == clickmerchant.RouteReversal || c.Route == clickmerchant.RouteStatus {
			out = append(out, c)
		}
	}
	return out
}

// clickPaidOrder places an order for buyer and pays it through Click's
// Prepare and Complete; Click's Merchant API knows the payment as
// successful. It returns the order and Click's payment id (click_paydoc_id).
func (g *gateway) clickPaidOrder(t *testing.T, fake *clickmerchant.Server, buyer account) (orderID string, paymentID int64) {
	t.Helper()
	orderID = g.clickTestOrder(t, buyer, clickDefaultTotal)
	f, prepareID := g.clickPrepared(t, orderID, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, 0).signed(clickSecret)), 0)
	paymentID, err := strconv.ParseInt(f.Get("click_paydoc_id"), 10, 64)
	require.NoError(t, err)
	fake.SetPayment(clickmerchant.Payment{ID: paymentID, MerchantTransID: orderID, Status: clickmerchant.StatusSuccess})
	return orderID, paymentID
}

// paymePaidOrder places an order for buyer and pays it through Payme's
// CreateTransaction and PerformTransaction; it returns the order and
// Payme's transaction id.
func (g *gateway) paymePaidOrder(t *testing.T, buyer account) (orderID, paymeID string) {
	t.Helper()
	orderID = g.clickTestOrder(t, buyer, clickDefaultTotal)
	paymeID = strings.ReplaceAll(uuid.NewString(), "-", "")[:24]
	g.payPaymeOK(t, "CreateTransaction", map[string]any{"id": paymeID, "time": time.Now().UnixMilli(),
		"amount": clickDefaultTotal, "account": map[string]any{"order_id": orderID}})
	g.payPaymeOK(t, "PerformTransaction", map[string]any{"id": paymeID})
	require.Equal(t, "paid", g.clickOrderStatus(t, orderID))
	return orderID, paymeID
}

// payPaymeCode makes one Payme call and returns its JSON-RPC error code (0
// for a result) and the result.
func (g *gateway) payPaymeCode(t *testing.T, method string, params map[string]any) (int, map[string]any) {
	t.Helper()
	body, err := json.Marshal(map[string]any{"method": method, "params": params, "id": 1})
	require.NoError(t, err)
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, g.BaseURL+"/api/payments/payme", bytes.NewReader(body))
	require.NoError(t, err)
	req.SetBasicAuth("Paycom", payPaymeKey)
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	var out struct {
		Result map[string]any `json:"result"`
		Error  *struct {
			Code int `json:"code"`
		} `json:"error"`
	}
	require.NoError(t, json.NewDecoder(resp.Body).Decode(&out))
	if out.Error != nil {
		return out.Error.Code, nil
	}
	return 0, out.Result
}

// advance moves an order on as an admin does (PATCH /api/orders/:id/status).
func (g *gateway) advance(t *testing.T, token, orderID string, statuses ...string) {
	t.Helper()
	for _, s := range statuses {
		r := g.do(t, req{Method: http.MethodPatch, Path: "/api/orders/" + orderID + "/status", Token: token, Body: map[string]any{"status": s}})
		expectJSON(t, r, http.StatusOK)
	}
}

func (g *gateway) refund(t *testing.T, token, orderID string, body any) response {
	t.Helper()
	return g.post(t, "/api/admin/orders/"+orderID+"/refund", token, body)
}

// orderState is what a refund may change, read from the database.
type orderState struct {
	Status         string
	RefundAuth     bool
	Refunds        int
	Stock          int64
	AttemptsStates string
}

func (g *gateway) orderState(t *testing.T, orderID string) orderState {
	t.Helper()
	var s orderState
	require.NoError(t, g.DB.Get(&s.Status, `SELECT status FROM orders WHERE id = $1`, orderID))
	require.NoError(t, g.DB.Get(&s.RefundAuth, `SELECT refund_authorized_at IS NOT NULL FROM orders WHERE id = $1`, orderID))
	require.NoError(t, g.DB.Get(&s.Refunds, `SELECT count(*) FROM order_refunds WHERE order_id = $1`, orderID))
	require.NoError(t, g.DB.Get(&s.AttemptsStates, `SELECT COALESCE(string_agg(state::text, ',' ORDER BY prepare_id), '')
		FROM click_transactions WHERE order_id = $1`, orderID))
	s.Stock = g.clickProductStock(t, orderID)
	return s
}

func TestRefund_ClickReversesThenRefunds(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)

	t.Run("before shipping the stock comes back", func(t *testing.T) {
		orderID, paymentID := g.clickPaidOrder(t, fake, buyer)
		require.EqualValues(t, 9, g.clickProductStock(t, orderID))

		r := g.refund(t, admin.Access, orderID, map[string]any{"reason": "  The buyer changed their mind  "})
		expectJSON(t, r, http.StatusOK)
		o := asMap(t, r)
		assert.Equal(t, "refunded", o["status"])
		assertUTCTime(t, o["refund_authorized_at"].(string), "refund_authorized_at")
		refunds, _ := o["refunds"].([]any)
		require.Len(t, refunds, 1)
		audit := refunds[0].(map[string]any)
		assertKeys(t, audit, []string{"admin_id", "created_at", "id", "outcome", "provider", "reason"}, "refund")
		assert.Equal(t, admin.ID, audit["admin_id"])
		assert.Equal(t, "click", audit["provider"])
		assert.Equal(t, "reversed", audit["outcome"])
		assert.Equal(t, "The buyer changed their mind", audit["reason"])
		payAssertUUID(t, audit["id"], "refund id")

		p, _ := fake.Payment(paymentID)
		assert.True(t, p.Reversed, "Click was asked to reverse the payment")
		calls := refundCalls(fake)
		require.Len(t, calls, 1)
		assert.Equal(t, fmt.Sprintf("DELETE /v2/merchant/payment/reversal/%s/%d", clickServiceID, paymentID),
			calls[0].Method+" "+calls[0].Path)
		assert.Equal(t, orderState{Status: "refunded", RefundAuth: true, Refunds: 1, Stock: 10, AttemptsStates: "-2"},
			g.orderState(t, orderID))

		tx := g.get(t, "/api/payments?order_id="+orderID, buyer.Access)
		expectJSON(t, tx, http.StatusOK)
		items := asMap(t, tx)["items"].([]any)
		require.Len(t, items, 1)
		assert.Equal(t, "refunded", items[0].(map[string]any)["state"])
		assert.Nil(t, items[0].(map[string]any)["cancel_reason"], "we ended it; Click sent no error")

		// The audit is for admins: the buyer sees the order without it.
		mine := g.get(t, "/api/orders/"+orderID, buyer.Access)
		expectJSON(t, mine, http.StatusOK)
		assert.NotContains(t, asMap(t, mine), "refunds")
		assert.NotNil(t, asMap(t, mine)["refund_authorized_at"])
		theirs := g.get(t, "/api/orders/"+orderID, admin.Access)
		expectJSON(t, theirs, http.StatusOK)
		assert.Len(t, asMap(t, theirs)["refunds"], 1)

		again := g.refund(t, admin.Access, orderID, map[string]any{"reason": "twice"})
		expectProblem(t, again, http.StatusConflict, "order_not_refundable")
		assert.Len(t, refundCalls(fake), 1, "Click is not asked again")
	})

	t.Run("after delivery the goods stay out of stock", func(t *testing.T) {
		orderID, paymentID := g.clickPaidOrder(t, fake, buyer)
		g.advance(t, admin.Access, orderID, "shipped", "delivered")

		r := g.refund(t, admin.Access, orderID, map[string]any{"reason": "Returned: broken in transit"})
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, "refunded", asMap(t, r)["status"])
		p, _ := fake.Payment(paymentID)
		assert.True(t, p.Reversed)
		assert.Equal(t, orderState{Status: "refunded", RefundAuth: true, Refunds: 1, Stock: 9, AttemptsStates: "-2"},
			g.orderState(t, orderID))
	})
}

func TestRefund_ClickRefusalChangesNothing(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)
	orderID, paymentID := g.clickPaidOrder(t, fake, buyer)
	before := g.orderState(t, orderID)

	fake.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Route: clickmerchant.RouteReversal,
		Code: -5017, Note: "Reversal is possible only within the reporting month"})
	r := g.refund(t, admin.Access, orderID, map[string]any{"reason": "Out of stock"})
	p := expectProblem(t, r, http.StatusConflict, "refund_refused")
	assert.Equal(t, "Reversal is possible only within the reporting month", p.Detail, "Click's note, as Click wrote it")

	assert.Equal(t, before, g.orderState(t, orderID))
	assert.Equal(t, orderState{Status: "paid", Stock: 9, AttemptsStates: "2"}, before)
	pay, _ := fake.Payment(paymentID)
	assert.False(t, pay.Reversed)
}

func TestRefund_ClickOutageChangesNothing(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)
	orderID, paymentID := g.clickPaidOrder(t, fake, buyer)
	before := g.orderState(t, orderID)

	fake.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx, Route: clickmerchant.RouteReversal})
	expectProblem(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": "r"}), http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Equal(t, before, g.orderState(t, orderID))

	fake.Close() // unreachable
	expectProblem(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": "r"}), http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Equal(t, before, g.orderState(t, orderID))
	pay, _ := fake.Payment(paymentID)
	assert.False(t, pay.Reversed)

	fake.Restart()
	expectJSON(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": "r"}), http.StatusOK)
	assert.Equal(t, "refunded", g.orderState(t, orderID).Status, "nothing was half done: the retry refunds")
}

// TestRefund_ClickRetryAfterALostAnswerRecordsTheRefund: Click reversed the
// payment but its answer never reached us. Asking again, Click refuses (the
// payment is reversed already) and reports the payment cancelled: the refund
// happened, and is recorded.
func TestRefund_ClickRetryAfterALostAnswerRecordsTheRefund(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)
	orderID, paymentID := g.clickPaidOrder(t, fake, buyer)
	fake.SetPayment(clickmerchant.Payment{ID: paymentID, MerchantTransID: orderID, Status: clickmerchant.StatusCancelled, Reversed: true})

	expectJSON(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": "retry"}), http.StatusOK)
	assert.Equal(t, orderState{Status: "refunded", RefundAuth: true, Refunds: 1, Stock: 10, AttemptsStates: "-2"}, g.orderState(t, orderID))
}

func TestRefund_ClickWithoutMerchantAPIIsUnavailable(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	orderID, _ := g.clickPaidOrder(t, fake, buyer)

	cfg := g.Config
	cfg.ClickAPIURL = "" // another instance on the same database, with the Merchant API off
	off := startGateway(t, cfg, "")
	admin := off.newAccount(t, roleAdmin)
	expectProblem(t, off.refund(t, admin.Access, orderID, map[string]any{"reason": "r"}), http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Equal(t, "paid", g.orderState(t, orderID).Status)
}

func TestRefund_PaymeAfterDeliveryOnlyWhenAuthorized(t *testing.T) {
	t.Parallel()
	g, _ := newMoneyGateway(t)
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)
	orderID, paymeID := g.paymePaidOrder(t, buyer)
	g.advance(t, admin.Access, orderID, "shipped", "delivered")
	cancel := map[string]any{"id": paymeID, "reason": 5}

	code, _ := g.payPaymeCode(t, "CancelTransaction", cancel)
	assert.Equal(t, -31007, code, "without an authorization the goods that left cannot be refunded")
	assert.Equal(t, "delivered", g.clickOrderStatus(t, orderID))

	r := g.refund(t, admin.Access, orderID, map[string]any{"reason": "Returned within 10 days"})
	expectJSON(t, r, http.StatusAccepted)
	o := asMap(t, r)
	assert.Equal(t, "delivered", o["status"], "Payme is still to refund it")
	authorizedAt := o["refund_authorized_at"]
	assertUTCTime(t, authorizedAt.(string), "refund_authorized_at")
	require.Len(t, o["refunds"], 1)
	audit := o["refunds"].([]any)[0].(map[string]any)
	assert.Equal(t, "payme", audit["provider"])
	assert.Equal(t, "authorized", audit["outcome"])
	assert.Equal(t, admin.ID, audit["admin_id"])

	again := g.refund(t, admin.Access, orderID, map[string]any{"reason": "again"})
	expectJSON(t, again, http.StatusAccepted)
	assert.Equal(t, authorizedAt, asMap(t, again)["refund_authorized_at"], "the first authorization stands")
	assert.Len(t, asMap(t, again)["refunds"], 1, "nothing new to audit")

	code, res := g.payPaymeCode(t, "CancelTransaction", cancel)
	require.Zero(t, code)
	assert.EqualValues(t, -2, res["state"])
	st := g.orderState(t, orderID)
	assert.Equal(t, "refunded", st.Status)
	assert.EqualValues(t, 9, st.Stock, "delivered goods do not come back into stock")
	var shipped bool
	require.NoError(t, g.DB.Get(&shipped, `SELECT shipped_at IS NOT NULL AND delivered_at IS NOT NULL FROM orders WHERE id = $1`, orderID))
	assert.True(t, shipped, "the shipping history stays")
}

func TestRefund_WhoAndWhat(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	admin, super, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleSuperAdmin), g.newAccount(t, roleCustomer)
	seller := g.newAccount(t, roleSeller)
	orderID, _ := g.clickPaidOrder(t, fake, buyer)
	body := map[string]any{"reason": "r"}

	expectProblem(t, g.refund(t, buyer.Access, orderID, body), http.StatusForbidden, "forbidden")
	expectProblem(t, g.refund(t, seller.Access, orderID, body), http.StatusForbidden, "forbidden")
	expectProblem(t, g.refund(t, "", orderID, body), http.StatusUnauthorized, "unauthorized")
	expectValidation(t, g.refund(t, admin.Access, orderID, map[string]any{}), "reason")
	expectValidation(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": "   "}), "reason")
	expectValidation(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": strings.Repeat("x", 501)}), "reason")
	expectProblem(t, g.refund(t, admin.Access, orderID, map[string]any{"reason": "r", "amount": 1}), http.StatusUnprocessableEntity, "validation_failed")
	expectProblem(t, g.refund(t, admin.Access, uuid.NewString(), body), http.StatusNotFound, "not_found")
	expectProblem(t, g.refund(t, admin.Access, "not-a-uuid", body), http.StatusNotFound, "not_found")
	unpaid := g.clickTestOrder(t, buyer, clickDefaultTotal)
	expectProblem(t, g.refund(t, admin.Access, unpaid, body), http.StatusConflict, "order_not_refundable")
	assert.Empty(t, refundCalls(fake), "no refusal reached Click")
	assert.Equal(t, 0, g.orderState(t, orderID).Refunds)

	expectJSON(t, g.refund(t, super.Access, orderID, map[string]any{"reason": strings.Repeat("я", 500)}), http.StatusOK)
}

// ---------------------------------------------------------------------------
// Payments console

// paymentsList is GET /api/admin/payments with query q.
func (g *gateway) paymentsList(t *testing.T, token string, q url.Values) map[string]any {
	t.Helper()
	r := g.get(t, "/api/admin/payments?"+q.Encode(), token)
	expectJSON(t, r, http.StatusOK)
	return asMap(t, r)
}

// csvOfJSON is the CSV row API.md derives from one JSON transaction.
func csvOfJSON(t *testing.T, m map[string]any) []string {
	t.Helper()
	text := func(v any) string {
		switch x := v.(type) {
		case nil:
			return ""
		case string:
			return x
		case float64:
			return strconv.FormatInt(int64(x), 10)
		}
		t.Fatalf("unexpected JSON value %#v", v)
		return ""
	}
	amount := int64(m["amount"].(float64))
	return []string{text(m["id"]), text(m["provider"]), text(m["provider_transaction_id"]), text(m["order_id"]),
		strconv.FormatInt(amount, 10), fmt.Sprintf("%d.%02d", amount/100, amount%100), text(m["state"]),
		text(m["created_at"]), text(m["performed_at"]), text(m["cancelled_at"]), text(m["cancel_reason"])}
}

func TestPaymentsConsole_CSVEqualsTheJSONList(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)

	refunded, _ := g.clickPaidOrder(t, fake, buyer)
	expectJSON(t, g.refund(t, admin.Access, refunded, map[string]any{"reason": "r"}), http.StatusOK)
	clickPaid, _ := g.clickPaidOrder(t, fake, buyer)
	paymePaid, paymeID := g.paymePaidOrder(t, buyer)
	pending := g.clickTestOrder(t, buyer, clickDefaultTotal)
	g.clickPrepared(t, pending, somOf(clickDefaultTotal))
	cancelled := g.clickTestOrder(t, buyer, clickDefaultTotal)
	f, prepareID := g.clickPrepared(t, cancelled, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)

	list := g.paymentsList(t, admin.Access, url.Values{"page_size": {"100"}})
	items := list["items"].([]any)
	require.Len(t, items, 5)
	assert.EqualValues(t, 5, list["total"])
	assert.EqualValues(t, 1, list["page"])
	// Compared as times: RFC 3339 with trailing zeros of the fraction left
	// out ("…10.7Z") does not sort as text.
	var previous time.Time
	for i, it := range items {
		m := it.(map[string]any)
		assertKeys(t, m, []string{"amount", "cancel_reason", "cancelled_at", "created_at", "id", "order_id", "performed_at",
			"provider", "provider_transaction_id", "state"}, "transaction")
		created, err := time.Parse(time.RFC3339Nano, m["created_at"].(string))
		require.NoError(t, err)
		if i > 0 {
			assert.False(t, created.After(previous), "newest first: %s after %s", created, previous)
		}
		previous = created
	}

	r := g.get(t, "/api/admin/payments/export", admin.Access)
	require.Equal(t, http.StatusOK, r.Status, "%s", r)
	assert.Equal(t, "text/csv; charset=utf-8; header=present", r.Header.Get("Content-Type"))
	assert.Equal(t, `attachment; filename="payments.csv"`, r.Header.Get("Content-Disposition"))
	assert.True(t, strings.HasSuffix(string(r.Body), "\r\n"), "RFC 4180 lines end in CRLF")
	rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
	require.NoError(t, err)
	require.Len(t, rows, 1+len(items))
	assert.Equal(t, []string{"id", "provider", "provider_transaction_id", "order_id", "amount_tiyin", "amount_som", "state",
		"created_at", "performed_at", "cancelled_at", "cancel_reason"}, rows[0])
	for i, it := range items {
		assert.Equal(t, csvOfJSON(t, it.(map[string]any)), rows[i+1], "row %d", i+1)
	}
	assert.Contains(t, string(r.Body), ",5000050,50000.50,", "amount_som is N.NN")

	byState := map[string]string{}
	for _, it := range items {
		m := it.(map[string]any)
		byState[m["order_id"].(string)+"/"+m["provider"].(string)] = m["state"].(string)
	}
	assert.Equal(t, map[string]string{refunded + "/click": "refunded", clickPaid + "/click": "completed",
		paymePaid + "/payme": "completed", pending + "/click": "pending", cancelled + "/click": "cancelled"}, byState)

	t.Run("filters", func(t *testing.T) {
		count := func(q url.Values) int {
			l := g.paymentsList(t, admin.Access, q)
			n := int(l["total"].(float64))
			r := g.get(t, "/api/admin/payments/export?"+q.Encode(), admin.Access)
			require.Equal(t, http.StatusOK, r.Status, "%s", r)
			rows, err := csv.NewReader(bytes.NewReader(r.Body)).ReadAll()
			require.NoError(t, err)
			assert.Len(t, rows, n+1, "the export has the list's rows: %v", q)
			return n
		}
		assert.Equal(t, 4, count(url.Values{"provider": {"click"}}))
		assert.Equal(t, 1, count(url.Values{"provider": {"payme"}}))
		assert.Equal(t, 2, count(url.Values{"state": {"completed"}}))
		assert.Equal(t, 1, count(url.Values{"state": {"refunded"}, "provider": {"click"}}))
		assert.Equal(t, 1, count(url.Values{"order_id": {paymePaid}}))
		assert.Equal(t, 0, count(url.Values{"order_id": {uuid.NewString()}}))
		tomorrow := time.Now().In(tashkent(t)).AddDate(0, 0, 1).Format(time.DateOnly)
		today := time.Now().In(tashkent(t)).Format(time.DateOnly)
		assert.Equal(t, 0, count(url.Values{"from": {tomorrow}}))
		assert.Equal(t, 5, count(url.Values{"from": {today}, "to": {today}}), "a to date includes its whole day")
		assert.Equal(t, 0, count(url.Values{"to": {time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)}}))

		page := g.paymentsList(t, admin.Access, url.Values{"page": {"2"}, "page_size": {"2"}})
		assert.Len(t, page["items"], 2)
		assert.Equal(t, items[2].(map[string]any)["id"], page["items"].([]any)[0].(map[string]any)["id"])
		assert.Equal(t, paymeID, g.paymentsList(t, admin.Access, url.Values{"provider": {"payme"}})["items"].([]any)[0].(map[string]any)["provider_transaction_id"])
	})

	t.Run("refusals", func(t *testing.T) {
		for _, path := range []string{"/api/admin/payments", "/api/admin/payments/export"} {
			expectProblem(t, g.get(t, path, buyer.Access), http.StatusForbidden, "forbidden")
			expectProblem(t, g.get(t, path, ""), http.StatusUnauthorized, "unauthorized")
			expectValidation(t, g.get(t, path+"?state=paid", admin.Access), "state")
			expectValidation(t, g.get(t, path+"?provider=uzcard", admin.Access), "provider")
			expectValidation(t, g.get(t, path+"?order_id=42", admin.Access), "order_id")
			expectValidation(t, g.get(t, path+"?from=yesterday&to=2026-13-01", admin.Access), "from", "to")
			expectValidation(t, g.get(t, path+"?from=2026-05-02&to=2026-05-01", admin.Access), "from")
		}
		expectValidation(t, g.get(t, "/api/admin/payments?page=0&page_size=101", admin.Access), "page", "page_size")
	})
}

func tashkent(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Tashkent")
	require.NoError(t, err)
	return loc
}

// TestOpenAPI_MoneyResponsesMatchTheDocument: every answer of the console,
// its export and the refund route, errors included, is what the OpenAPI
// document says.
func TestOpenAPI_MoneyResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	g, fake := newMoneyGateway(t)
	a := g.RunningApp
	admin, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleCustomer)
	as := func(acc account) map[string]string { return map[string]string{"Authorization": "Bearer " + acc.Access} }
	reason := map[string]any{"reason": "OpenAPI"}

	refused, _ := g.clickPaidOrder(t, fake, buyer)
	fake.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Route: clickmerchant.RouteReversal, Note: "No"})
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+refused+"/refund", as(admin), reason, http.StatusConflict)
	fake.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx, Route: clickmerchant.RouteReversal})
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+refused+"/refund", as(admin), reason, http.StatusServiceUnavailable)
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+refused+"/refund", as(admin), reason, http.StatusOK)
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+refused+"/refund", as(admin), reason, http.StatusConflict)
	oaCheck(t, a, http.MethodGet, "/api/orders/"+refused, as(admin), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/orders/"+refused, as(buyer), nil, http.StatusOK)
	paymeOrder, _ := g.paymePaidOrder(t, buyer)
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+paymeOrder+"/refund", as(admin), reason, http.StatusAccepted)
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+paymeOrder+"/refund", as(buyer), reason, http.StatusForbidden)
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+paymeOrder+"/refund", as(admin), map[string]any{}, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodPost, "/api/admin/orders/"+uuid.NewString()+"/refund", as(admin), reason, http.StatusNotFound)

	oaCheck(t, a, http.MethodGet, "/api/admin/payments?provider=click&page_size=5", as(admin), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/admin/payments?state=lost", as(admin), nil, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/admin/payments", as(buyer), nil, http.StatusForbidden)
	oaCheck(t, a, http.MethodGet, "/api/admin/payments/export?from=2025-01-01", as(admin), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/admin/payments/export?to=never", as(admin), nil, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/admin/payments/export", nil, nil, http.StatusUnauthorized)
}
