package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/fakes/clickmerchant"
)

// receiptGateway is a Click gateway whose Merchant API is the fake, with
// maxTries submissions per receipt.
func receiptGateway(t *testing.T, maxTries int) (*gateway, *clickmerchant.Server) {
	t.Helper()
	sid, err := strconv.ParseInt(clickServiceID, 10, 64)
	require.NoError(t, err)
	fake := clickmerchant.New(clickmerchant.Config{ServiceID: sid, MerchantUserID: "123", SecretKey: clickSecret})
	t.Cleanup(fake.Close)
	g := newGateway(t, func(c *config.Config) {
		c.ClickServiceID, c.ClickMerchantID, c.ClickSecretKey = clickServiceID, clickMerchantID, clickSecret
		c.ClickMerchantUserID = "123"
		c.PaymeMerchantID, c.PaymeKey = payPaymeMerchant, payPaymeKey
		c.ClickAPIURL = fake.URL()
		c.ClickFiscalMaxTries = maxTries
	})
	return g, fake
}

// fiscalOrder has a seller with a profile list a coded product and a buyer
// order it; it returns the order id.
func (g *gateway) fiscalOrder(t *testing.T, total int64) string {
	t.Helper()
	admin, seller, buyer := g.newAccount(t, roleAdmin), g.newAccount(t, roleSeller), g.newAccount(t, roleCustomer)
	expectJSON(t, g.do(t, req{Method: http.MethodPut, Path: "/api/admin/users/" + seller.ID + "/seller-profile",
		Token: admin.Access, Body: map[string]any{"tin": "123456789", "vat_payer": true}}), http.StatusOK)
	r := g.post(t, "/api/products", seller.Access, map[string]any{
		"name": "Rishton lagan", "description": "", "category": "ceramics", "price": total, "stock": 10,
		"ikpu_code": "06912001001000000", "package_code": "1500447", "unit_code": 796,
	})
	expectJSON(t, r, http.StatusCreated)
	productID := decode[struct {
		ID string `json:"id"`
	}](t, r).ID
	r = g.post(t, "/api/orders", buyer.Access, map[string]any{
		"items":            []map[string]any{{"product_id": productID, "quantity": 1}},
		"shipping_address": map[string]any{"region": "Toshkent", "city": "Toshkent", "street": "Amir Temur 1", "phone": "+998901234567"},
	})
	expectJSON(t, r, http.StatusCreated)
	return decode[struct {
		ID string `json:"id"`
	}](t, r).ID
}

// payByClick runs Prepare and Complete for the order and returns Click's
// payment id (click_paydoc_id).
func (g *gateway) payByClick(t *testing.T, fake *clickmerchant.Server, orderID string, total int64) int64 {
	t.Helper()
	form := newClickForm(nextClickTransID(), orderID, somOf(total))
	paydoc, err := strconv.ParseInt(form.Get("click_paydoc_id"), 10, 64)
	require.NoError(t, err)
	fake.SetPayment(clickmerchant.Payment{ID: paydoc, MerchantTransID: orderID, Status: clickmerchant.StatusSuccess, Amount: total})
	prep := g.clickSend(t, form.signed(clickSecret))
	requireClickCode(t, prep, 0)
	start := time.Now()
	requireClickCode(t, g.clickSend(t, form.completing(*prep.MerchantPrepareID, 0).signed(clickSecret)), 0)
	assert.Less(t, time.Since(start), 2*time.Second, "the webhook does not wait for the Merchant API")
	return paydoc
}

type receiptDTO struct {
	Provider  string  `json:"provider"`
	Kind      string  `json:"kind"`
	Status    string  `json:"status"`
	QRCodeURL *string `json:"qr_code_url"`
	IssuedAt  *string `json:"issued_at"`
}

// receiptsOf reads the order's receipts through the API, as an admin.
func (g *gateway) receiptsOf(t *testing.T, orderID string) []receiptDTO {
	t.Helper()
	admin := g.newAccount(t, roleAdmin)
	r := g.get(t, "/api/orders/"+orderID, admin.Access)
	expectJSON(t, r, http.StatusOK)
	return decode[struct {
		Receipts []receiptDTO `json:"receipts"`
	}](t, r).Receipts
}

func (g *gateway) receiptStatus(t *testing.T, orderID string) string {
	t.Helper()
	var s string
	require.NoError(t, g.DB.Get(&s, `SELECT status FROM fiscal_receipts WHERE order_id = $1 AND provider = 'click'`, orderID))
	return s
}

// After a failed submission the receipt is submitted again, once accepted
// never again, and the order shows the issued receipt with its link.
func TestClickReceipt_SubmittedOnceAfterAFailure(t *testing.T) {
	t.Parallel()
	g, fake := receiptGateway(t, 5)
	const total = int64(5_000_050)
	orderID := g.fiscalOrder(t, total)
	fake.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx, Route: clickmerchant.RouteSubmitItems})
	paydoc := g.payByClick(t, fake, orderID, total)

	require.Eventually(t, func() bool { return g.receiptStatus(t, orderID) == "issued" }, 20*time.Second, 100*time.Millisecond)
	subs := fake.Submissions(paydoc)
	require.Len(t, subs, 1, "accepted once")
	assert.Equal(t, 2, fake.CallCount(clickmerchant.RouteSubmitItems), "one failure, one success")
	require.Len(t, subs[0].Items, 1)
	assert.Equal(t, "06912001001000000", *subs[0].Items[0].SPIC)
	assert.Equal(t, "123456789", subs[0].Items[0].CommissionInfo.TIN)
	assert.Equal(t, total, subs[0].ReceivedCard)

	rs := g.receiptsOf(t, orderID)
	require.Len(t, rs, 1)
	assert.Equal(t, "click", rs[0].Provider)
	assert.Equal(t, "sale", rs[0].Kind)
	assert.Equal(t, "issued", rs[0].Status)
	require.NotNil(t, rs[0].QRCodeURL)
	assert.Contains(t, *rs[0].QRCodeURL, "https://ofd.soliq.uz/")

	// Nothing more is sent later.
	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, 2, fake.CallCount(clickmerchant.RouteSubmitItems))
}

// The webhook answers while the Merchant API is down; the receipt is pending
// until Click is back, and then issued.
func TestClickReceipt_NeverInsideTheWebhook(t *testing.T) {
	t.Parallel()
	g, fake := receiptGateway(t, 20)
	const total = int64(3_000_000)
	orderID := g.fiscalOrder(t, total)
	fake.Close()
	g.payByClick(t, fake, orderID, total)
	assert.Equal(t, "paid", g.clickOrderStatus(t, orderID))
	rs := g.receiptsOf(t, orderID)
	require.Len(t, rs, 1)
	assert.Equal(t, "pending", rs[0].Status, "the order shows the receipt pending")
	assert.Nil(t, rs[0].QRCodeURL)

	time.Sleep(1500 * time.Millisecond)
	assert.Equal(t, "pending", g.receiptStatus(t, orderID))
	fake.Restart()
	require.Eventually(t, func() bool { return g.receiptStatus(t, orderID) == "issued" }, 30*time.Second, 100*time.Millisecond)
}

// A receipt Click keeps refusing is failed after CLICK_FISCAL_MAX_TRIES.
func TestClickReceipt_FailedAfterMaxTries(t *testing.T) {
	t.Parallel()
	g, fake := receiptGateway(t, 2)
	const total = int64(2_000_000)
	orderID := g.fiscalOrder(t, total)
	fake.FailNext(100, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Route: clickmerchant.RouteSubmitItems})
	g.payByClick(t, fake, orderID, total)

	require.Eventually(t, func() bool { return g.receiptStatus(t, orderID) == "failed" }, 20*time.Second, 100*time.Millisecond)
	assert.Equal(t, 2, fake.CallCount(clickmerchant.RouteSubmitItems))
	time.Sleep(2500 * time.Millisecond)
	assert.Equal(t, 2, fake.CallCount(clickmerchant.RouteSubmitItems), "given up")
}
