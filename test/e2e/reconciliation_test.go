package e2e

import (
	"bytes"
	"context"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/app"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/fakes/clickmerchant"
)

// reconGateway is a payment gateway whose CLICK_API_URL is a fake Click
// Merchant API (it checks the signed Auth header of every call). The
// background job waits an hour between passes, so the tests drive passes
// themselves, the way `ultramarket reconcile` does.
type reconGateway struct {
	*gateway
	click *clickmerchant.Server
	admin account
}

func newReconGateway(t *testing.T) *reconGateway {
	t.Helper()
	g, fake := newMoneyGateway(t, func(c *config.Config) { c.ReconcileInterval = time.Hour })
	return &reconGateway{gateway: g, click: fake, admin: g.newAccount(t, roleAdmin)}
}

// reconcile runs one pass, as `ultramarket reconcile` does, and returns what
// it printed. A pass that finds the job held (the app's own first pass at
// start-up) is tried again.
func (g *reconGateway) reconcile(t *testing.T) string {
	t.Helper()
	var out bytes.Buffer
	require.Eventually(t, func() bool {
		out.Reset()
		err := app.Reconcile(context.Background(), g.Config, &out, nil)
		if err != nil && strings.Contains(err.Error(), "another instance") {
			return false
		}
		require.NoError(t, err)
		return true
	}, 10*time.Second, 50*time.Millisecond)
	return out.String()
}

// paidByClick places an order, pays it through Click, tells the fake Click
// about the payment with status, and returns the order and the form.
func (g *reconGateway) paidByClick(t *testing.T, buyer account, status int) (string, clickForm, int64) {
	t.Helper()
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)
	f, prepareID := g.clickPrepared(t, orderID, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, 0).signed(clickSecret)), 0)
	require.Equal(t, "paid", g.clickOrderStatus(t, orderID))
	g.click.SetPayment(clickmerchant.Payment{ID: paydocOf(f), MerchantTransID: orderID, Status: status})
	return orderID, f, prepareID
}

func paydocOf(f clickForm) int64 {
	n, _ := strconv.ParseInt(f.Get("click_paydoc_id"), 10, 64)
	return n
}

// issues lists the reconciliation issues through the admin API.
func (g *reconGateway) issues(t *testing.T, query string) []map[string]any {
	t.Helper()
	r := g.get(t, "/api/admin/reconciliation"+query, g.admin.Access)
	expectJSON(t, r, http.StatusOK)
	items, _ := asMap(t, r)["items"].([]any)
	out := make([]map[string]any, 0, len(items))
	for _, it := range items {
		out = append(out, it.(map[string]any))
	}
	return out
}

var issueKeys = []string{"id", "kind", "order_id", "provider", "provider_transaction_id", "detail", "status",
	"detected_at", "resolved_at", "resolved_by", "note"}

// TestReconciliation_ReplayedCompleteDoesNotRefund is the attack of issue
// 12: Click's signature does not cover error, so anyone holding one signed
// Complete can replay it with error < 0. The order stays paid; Click's
// Merchant API says the payment stands, so a click_cancel_disputed issue
// opens, once, however many passes run; an admin resolves it.
func TestReconciliation_ReplayedCompleteDoesNotRefund(t *testing.T) {
	t.Parallel()
	g := newReconGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	orderID, f, prepareID := g.paidByClick(t, buyer, clickmerchant.StatusSuccess)

	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID), "not refunded on the webhook's word")
	assert.Equal(t, 2, g.clickAttemptState(t, f.ClickTransID()))
	assert.Empty(t, g.issues(t, ""), "nothing is decided before Click is asked")

	out := g.reconcile(t)
	assert.Contains(t, out, "click_cancel_disputed: 1 new, 1 open")
	for _, kind := range []string{"click_cancel_unverified", "click_paid_unconfirmed", "receipt_missing"} {
		assert.Contains(t, out, kind+": 0 new, 0 open")
	}
	// The test product has no fiscal codes, so its Click receipt fails on
	// its own schedule: receipt_failed is listed, whatever it counts.
	assert.Regexp(t, `receipt_failed: [01] new, [01] open`, out)
	// More passes, and the attacker replaying again: still one issue.
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)
	g.reconcile(t)
	assert.Contains(t, g.reconcile(t), "click_cancel_disputed: 0 new, 1 open")
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))
	assert.EqualValues(t, 9, g.clickProductStock(t, orderID), "the stock stays with the order")
	p, _ := g.click.Payment(paydocOf(f))
	assert.False(t, p.Reversed, "nothing was reversed at Click either")

	issues := g.issues(t, "?status=open&kind=click_cancel_disputed")
	require.Len(t, issues, 1)
	issue := issues[0]
	assertKeys(t, issue, issueKeys, "reconciliation_issue")
	payAssertUUID(t, issue["id"], "an issue's id")
	assert.Equal(t, "click_cancel_disputed", issue["kind"])
	assert.Equal(t, orderID, issue["order_id"])
	assert.Equal(t, "click", issue["provider"])
	assert.Equal(t, f.Get("click_trans_id"), issue["provider_transaction_id"])
	assert.Equal(t, "open", issue["status"])
	assertUTCTime(t, issue["detected_at"].(string), "detected_at")
	assert.Nil(t, issue["resolved_at"])
	assert.Nil(t, issue["resolved_by"])
	assert.Nil(t, issue["note"])
	assert.NotEmpty(t, issue["detail"])

	_, metrics := get(t, g.OpsURL+"/metrics", nil)
	assert.Contains(t, string(metrics), `reconciliation_issues_open{kind="click_cancel_disputed"} 1`)
	assert.Contains(t, string(metrics), `reconciliation_issues_open{kind="receipt_missing"} 0`)

	// Only admins list and resolve; a bad note or filter is 422; an
	// unknown issue 404; resolving twice 409.
	id := issue["id"].(string)
	path := "/api/admin/reconciliation/" + id + "/resolve"
	for _, role := range []string{roleCustomer, roleSeller} {
		other := g.newAccount(t, role)
		expectProblem(t, g.get(t, "/api/admin/reconciliation", other.Access), http.StatusForbidden, "forbidden")
		expectProblem(t, g.post(t, path, other.Access, map[string]any{"note": "mine"}), http.StatusForbidden, "forbidden")
	}
	expectProblem(t, g.get(t, "/api/admin/reconciliation", ""), http.StatusUnauthorized, "unauthorized")
	expectValidation(t, g.get(t, "/api/admin/reconciliation?status=closed", g.admin.Access), "status")
	expectValidation(t, g.get(t, "/api/admin/reconciliation?kind=lost&page_size=101", g.admin.Access), "kind", "page_size")
	expectValidation(t, g.post(t, path, g.admin.Access, map[string]any{"note": "  "}), "note")
	expectValidation(t, g.post(t, path, g.admin.Access, map[string]any{"note": "x", "extra": 1}), "extra")
	expectProblem(t, g.post(t, "/api/admin/reconciliation/"+uuid.NewString()+"/resolve", g.admin.Access,
		map[string]any{"note": "x"}), http.StatusNotFound, "not_found")
	expectProblem(t, g.post(t, "/api/admin/reconciliation/42/resolve", g.admin.Access, map[string]any{"note": "x"}),
		http.StatusNotFound, "not_found")

	r := g.post(t, path, g.admin.Access, map[string]any{"note": "Click support: the cancel was not theirs; shipping"})
	expectJSON(t, r, http.StatusOK)
	resolved := asMap(t, r)
	assertKeys(t, resolved, issueKeys, "reconciliation_issue")
	assert.Equal(t, "resolved", resolved["status"])
	assert.Equal(t, g.admin.ID, resolved["resolved_by"])
	assert.Equal(t, "Click support: the cancel was not theirs; shipping", resolved["note"])
	assertUTCTime(t, resolved["resolved_at"].(string), "resolved_at")
	expectProblem(t, g.post(t, path, g.admin.Access, map[string]any{"note": "again"}), http.StatusConflict, "conflict")

	assert.Empty(t, g.issues(t, "?status=open&kind=click_cancel_disputed"))
	require.Len(t, g.issues(t, "?status=resolved"), 1)
	assert.Contains(t, g.reconcile(t), "click_cancel_disputed: 0 new, 0 open", "a resolved issue is not reopened")
}

// TestReconciliation_CancelClickConfirmsIsRefunded: when Click's Merchant
// API reports the payment cancelled, the next pass refunds the order, gives
// its stock back and shows the transaction refunded; no issue opens.
func TestReconciliation_CancelClickConfirmsIsRefunded(t *testing.T) {
	t.Parallel()
	g := newReconGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	orderID, f, prepareID := g.paidByClick(t, buyer, clickmerchant.StatusCancelled)

	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))
	assert.Contains(t, g.reconcile(t), "click_cancel_disputed: 0 new, 0 open")
	assert.Equal(t, "refunded", g.clickOrderStatus(t, orderID))
	assert.EqualValues(t, 10, g.clickProductStock(t, orderID), "the refund gives the stock back")
	tx := g.clickTransactionOf(t, buyer, orderID, prepareID)
	assert.Equal(t, "refunded", tx["state"])
	assert.Equal(t, float64(-5017), tx["cancel_reason"], "the error Click sent")
	for _, kind := range []string{"click_cancel_disputed", "click_cancel_unverified", "click_paid_unconfirmed"} {
		assert.Empty(t, g.issues(t, "?kind="+kind)) // receipt_failed may open: the product has no fiscal codes
	}
	assert.Equal(t, 1, g.click.CallCount(clickmerchant.RouteStatus))
	g.reconcile(t)
	assert.Equal(t, 1, g.click.CallCount(clickmerchant.RouteStatus), "a settled claim is not asked about again")
}

// TestReconciliation_ClickUnreachableIsUnverifiedUntilALaterPass: Click
// cannot be asked → click_cancel_unverified; when a later pass hears that
// the payment stands, click_cancel_disputed opens and the unverified issue
// is resolved by the job (resolved_by null).
func TestReconciliation_ClickUnreachableIsUnverifiedUntilALaterPass(t *testing.T) {
	t.Parallel()
	g := newReconGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	orderID, f, prepareID := g.paidByClick(t, buyer, clickmerchant.StatusSuccess)
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -1).signed(clickSecret)), -9)

	g.click.Close()
	out := g.reconcile(t)
	assert.Contains(t, out, "click_cancel_unverified: 1 new, 1 open")
	assert.Contains(t, g.reconcile(t), "click_cancel_unverified: 0 new, 1 open", "opened once")
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))

	g.click.Restart()
	out = g.reconcile(t)
	assert.Contains(t, out, "click_cancel_disputed: 1 new, 1 open")
	assert.Contains(t, out, "click_cancel_unverified: 0 new, 0 open")
	unverified := g.issues(t, "?kind=click_cancel_unverified")
	require.Len(t, unverified, 1)
	assert.Equal(t, "resolved", unverified[0]["status"])
	assert.Nil(t, unverified[0]["resolved_by"], "settled by the job, not a person")
	assert.Contains(t, unverified[0]["note"], "successful")
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))
}

// TestReconciliation_PaidButNeverConfirmed: a prepared attempt older than
// an hour, which Click's status_by_mti reports paid, opens
// click_paid_unconfirmed, once; a younger one, or one Click knows nothing
// of, opens nothing.
func TestReconciliation_PaidButNeverConfirmed(t *testing.T) {
	t.Parallel()
	g := newReconGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	age := func(orderID string, d time.Duration) {
		_, err := g.DB.Exec(`UPDATE click_transactions SET prepared_at = prepared_at - make_interval(secs => $2)
			WHERE order_id = $1`, orderID, d.Seconds())
		require.NoError(t, err)
	}
	paid := g.clickTestOrder(t, buyer, clickDefaultTotal)
	fPaid, _ := g.clickPrepared(t, paid, somOf(clickDefaultTotal))
	age(paid, 2*time.Hour)
	g.click.SetPayment(clickmerchant.Payment{ID: paydocOf(fPaid), MerchantTransID: paid, Status: clickmerchant.StatusSuccess})

	young := g.clickTestOrder(t, buyer, clickDefaultTotal)
	fYoung, _ := g.clickPrepared(t, young, somOf(clickDefaultTotal))
	g.click.SetPayment(clickmerchant.Payment{ID: paydocOf(fYoung), MerchantTransID: young, Status: clickmerchant.StatusSuccess})

	unknown := g.clickTestOrder(t, buyer, clickDefaultTotal)
	g.clickPrepared(t, unknown, somOf(clickDefaultTotal))
	age(unknown, 2*time.Hour)

	assert.Contains(t, g.reconcile(t), "click_paid_unconfirmed: 1 new, 1 open")
	assert.Contains(t, g.reconcile(t), "click_paid_unconfirmed: 0 new, 1 open")
	assert.Equal(t, 2, g.click.CallCount(clickmerchant.RouteStatusByMTI), "each old order asked about once")
	issues := g.issues(t, "?kind=click_paid_unconfirmed")
	require.Len(t, issues, 1)
	assert.Equal(t, paid, issues[0]["order_id"])
	assert.Equal(t, fPaid.Get("click_trans_id"), issues[0]["provider_transaction_id"])
	assert.Equal(t, "pending_payment", g.clickOrderStatus(t, paid), "a person decides what to do with the money")
}

// TestReconciliation_InstancesTogetherOpenEachIssueOnce: passes started at
// once, as by several instances, run one at a time (the lease); each claim
// is asked about once and each issue opened once.
func TestReconciliation_InstancesTogetherOpenEachIssueOnce(t *testing.T) {
	t.Parallel()
	g := newReconGateway(t)
	buyer := g.newAccount(t, roleCustomer)
	const claims = 4
	for range claims {
		_, f, prepareID := g.paidByClick(t, buyer, clickmerchant.StatusSuccess)
		requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)
	}
	// The fake answers slowly, so the passes overlap.
	g.click.SetFault(func(http.ResponseWriter, *http.Request) bool {
		time.Sleep(100 * time.Millisecond)
		return false
	})
	var wg sync.WaitGroup
	ran := make(chan bool, 6)
	for range 6 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := app.Reconcile(context.Background(), g.Config, &bytes.Buffer{}, nil)
			if err != nil {
				assert.Contains(t, err.Error(), "another instance")
			}
			ran <- err == nil
		}()
	}
	wg.Wait()
	close(ran)
	passes := 0
	for ok := range ran {
		if ok {
			passes++
		}
	}
	assert.GreaterOrEqual(t, passes, 1)
	assert.Less(t, passes, 6, "held passes were turned away")
	assert.Equal(t, claims, g.click.CallCount(clickmerchant.RouteStatus), "each claim asked about once")
	assert.Len(t, g.issues(t, "?kind=click_cancel_disputed"), claims)
	var n int
	// Only the Click kinds: the products have no fiscal codes, so their
	// receipts fail and receipt_failed opens too, once per receipt.
	require.NoError(t, g.DB.Get(&n, `SELECT count(*) FROM reconciliation_issues WHERE kind LIKE 'click\_%'`))
	assert.Equal(t, claims, n)
}

// TestReconciliation_WithoutMerchantAPIAPersonIsAskedAtOnce: with
// CLICK_API_URL off, a cancel of a confirmed payment opens
// click_cancel_unverified in the webhook's own transaction.
func TestReconciliation_WithoutMerchantAPIAPersonIsAskedAtOnce(t *testing.T) {
	t.Parallel()
	g := newPayGateway(t)
	admin := g.newAccount(t, roleAdmin)
	buyer := g.newAccount(t, roleCustomer)
	orderID := g.clickTestOrder(t, buyer, clickDefaultTotal)
	f, prepareID := g.clickPrepared(t, orderID, somOf(clickDefaultTotal))
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, 0).signed(clickSecret)), 0)
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)

	r := g.get(t, "/api/admin/reconciliation?status=open", admin.Access)
	expectJSON(t, r, http.StatusOK)
	page := asMap(t, r)
	assert.EqualValues(t, 1, page["total"], "opened once")
	items := page["items"].([]any)
	require.Len(t, items, 1)
	issue := items[0].(map[string]any)
	assert.Equal(t, "click_cancel_unverified", issue["kind"])
	assert.Equal(t, orderID, issue["order_id"])
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))
}

// TestOpenAPI_ReconciliationResponsesMatchTheDocument checks the admin
// reconciliation routes' real answers against the OpenAPI document.
func TestOpenAPI_ReconciliationResponsesMatchTheDocument(t *testing.T) {
	t.Parallel()
	g := newReconGateway(t)
	a := g.RunningApp
	buyer := g.newAccount(t, roleCustomer)
	_, f, prepareID := g.paidByClick(t, buyer, clickmerchant.StatusSuccess)
	requireClickCode(t, g.clickSend(t, f.completing(prepareID, -5017).signed(clickSecret)), -9)
	g.reconcile(t)
	as := func(acc account) map[string]string { return map[string]string{"Authorization": "Bearer " + acc.Access} }

	oaCheck(t, a, http.MethodGet, "/api/admin/reconciliation", as(g.admin), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/admin/reconciliation?status=open&kind=click_cancel_disputed&page=1&page_size=5", as(g.admin), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/admin/reconciliation?status=nope", as(g.admin), nil, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/admin/reconciliation", as(buyer), nil, http.StatusForbidden)
	oaCheck(t, a, http.MethodGet, "/api/admin/reconciliation", nil, nil, http.StatusUnauthorized)
	id := g.issues(t, "")[0]["id"].(string)
	path := "/api/admin/reconciliation/" + id + "/resolve"
	oaCheck(t, a, http.MethodPost, path, as(g.admin), map[string]any{"note": ""}, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodPost, path, as(buyer), map[string]any{"note": "x"}, http.StatusForbidden)
	oaCheck(t, a, http.MethodPost, "/api/admin/reconciliation/"+uuid.NewString()+"/resolve", as(g.admin), map[string]any{"note": "x"}, http.StatusNotFound)
	oaCheck(t, a, http.MethodPost, path, as(g.admin), map[string]any{"note": "checked"}, http.StatusOK)
	oaCheck(t, a, http.MethodPost, path, as(g.admin), map[string]any{"note": "checked"}, http.StatusConflict)
	oaCheck(t, a, http.MethodGet, "/api/admin/reconciliation?status=resolved", as(g.admin), nil, http.StatusOK)
}

// TestReconciliation_ReceiptChecks: a Click receipt Click keeps refusing
// until CLICK_FISCAL_MAX_TRIES opens receipt_failed; with FISCAL_REQUIRED,
// an order paid (by Payme, which sent no SetFiscalData) more than an hour
// ago opens receipt_missing, while the order paid just now does not. Each
// opens once across passes.
func TestReconciliation_ReceiptChecks(t *testing.T) {
	t.Parallel()
	sid, err := strconv.ParseInt(clickServiceID, 10, 64)
	require.NoError(t, err)
	fake := clickmerchant.New(clickmerchant.Config{ServiceID: sid, MerchantUserID: "123", SecretKey: clickSecret})
	t.Cleanup(fake.Close)
	base := newGateway(t, func(c *config.Config) {
		c.ClickServiceID, c.ClickMerchantID, c.ClickSecretKey = clickServiceID, clickMerchantID, clickSecret
		c.ClickMerchantUserID = "123"
		c.PaymeMerchantID, c.PaymeKey = payPaymeMerchant, payPaymeKey
		c.ClickAPIURL = fake.URL()
		c.ClickFiscalMaxTries = 2
		c.FiscalRequired = true
		c.ReconcileInterval = time.Hour
	})
	g := &reconGateway{gateway: base, click: fake, admin: base.newAccount(t, roleAdmin)}
	const total = int64(2_000_000)

	refused := g.fiscalOrder(t, total)
	fake.FailNext(100, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Route: clickmerchant.RouteSubmitItems})
	g.payByClick(t, fake, refused, total)
	require.Eventually(t, func() bool { return g.receiptStatus(t, refused) == "failed" }, 20*time.Second, 100*time.Millisecond)

	unreceipted := g.fiscalOrder(t, total)
	paymeID := strings.ReplaceAll(uuid.NewString(), "-", "")[:24]
	g.payPaymeOK(t, "CreateTransaction", map[string]any{"id": paymeID, "time": time.Now().UnixMilli(),
		"amount": total, "account": map[string]any{"order_id": unreceipted}})
	g.payPaymeOK(t, "PerformTransaction", map[string]any{"id": paymeID})
	_, err = g.DB.Exec(`UPDATE orders SET paid_at = paid_at - interval '2 hours' WHERE id = $1`, unreceipted)
	require.NoError(t, err)

	out := g.reconcile(t)
	assert.Contains(t, out, "receipt_failed: 1 new, 1 open")
	assert.Contains(t, out, "receipt_missing: 1 new, 1 open", "the order paid just now is not due yet")
	out = g.reconcile(t)
	assert.Contains(t, out, "receipt_failed: 0 new, 1 open")
	assert.Contains(t, out, "receipt_missing: 0 new, 1 open")

	failed := g.issues(t, "?kind=receipt_failed")
	require.Len(t, failed, 1)
	assertKeys(t, failed[0], issueKeys, "reconciliation_issue")
	assert.Equal(t, refused, failed[0]["order_id"])
	assert.Equal(t, "click", failed[0]["provider"])
	assert.NotEmpty(t, failed[0]["provider_transaction_id"])
	assert.Equal(t, "open", failed[0]["status"])

	missing := g.issues(t, "?kind=receipt_missing")
	require.Len(t, missing, 1)
	assert.Equal(t, unreceipted, missing[0]["order_id"])
	assert.Equal(t, "payme", missing[0]["provider"])
	assert.Equal(t, paymeID, missing[0]["provider_transaction_id"])

	// Resolved issues are not reopened by later passes.
	for _, issue := range []map[string]any{failed[0], missing[0]} {
		expectJSON(t, g.post(t, "/api/admin/reconciliation/"+issue["id"].(string)+"/resolve", g.admin.Access,
			map[string]any{"note": "issued by hand"}), http.StatusOK)
	}
	out = g.reconcile(t)
	assert.Contains(t, out, "receipt_failed: 0 new, 0 open")
	assert.Contains(t, out, "receipt_missing: 0 new, 0 open")
}
