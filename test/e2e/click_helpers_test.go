package e2e

// Helpers of the Click and payment-route end-to-end tests: a gateway with
// Click and Payme credentials, orders placed through the API, and Click's
// signed form posts. Names carry "click" or "pay": the Payme tests
// share this package.

import (
	"context"
	"crypto/md5" //nolint:gosec // G501, G401: MD5 is what Click's SHOP-API signs with (shared/payments/SPEC.md)
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// Credentials of the test gateway; the secret and service id are SPEC §5.4's.
const (
	clickServiceID    = "12345"
	clickMerchantID   = "678"
	clickSecret       = "TEST_SECRET_KEY"
	payPaymeMerchant  = "587f72c72cac0d162c722ae2"
	payPaymeKey       = "payme-test-key"
	clickSignTime     = "2025-06-01 12:00:00"
	clickDefaultTotal = int64(5_000_050) // 50 000.50 so'm, so the amount has both parts
)

var clickTransSeq atomic.Int64

// nextClickTransID is a fresh click_trans_id.
func nextClickTransID() int64 {
	return 2_100_000_000 + clickTransSeq.Add(1)
}

// newPayGateway boots a gateway with Click and Payme configured and the rate
// limits off.
func newPayGateway(t *testing.T) *gateway {
	t.Helper()
	return newGateway(t, func(c *config.Config) {
		c.ClickServiceID, c.ClickMerchantID, c.ClickSecretKey = clickServiceID, clickMerchantID, clickSecret
		c.ClickMerchantUserID = "123"
		c.PaymeMerchantID, c.PaymeKey = payPaymeMerchant, payPaymeKey
		c.PaymentReturnHosts = []string{"shop.example.uz"}
	})
}

// clickTestOrder has buyer place an order of one product priced total tiyin
// through the API (an admin lists the product first, with stock 10), and
// returns the order's id. Its stock is reserved, so a refund can be seen
// giving it back (clickProductStock).
func (g *gateway) clickTestOrder(t *testing.T, buyer account, total int64) string {
	t.Helper()
	productID := g.clickTestProduct(t, total)
	r := g.post(t, "/api/orders", buyer.Access, map[string]any{
		"items":            []map[string]any{{"product_id": productID, "quantity": 1}},
		"shipping_address": map[string]any{"region": "Toshkent", "city": "Toshkent", "street": "Amir Temur 1", "phone": "+998901234567"},
	})
	expectJSON(t, r, http.StatusCreated)
	o := decode[struct {
		ID     string `json:"id"`
		Status string `json:"status"`
		Total  int64  `json:"total"`
	}](t, r)
	require.Equal(t, "pending_payment", o.Status)
	require.Equal(t, total, o.Total)
	return o.ID
}

// clickTestProduct lists a product priced total tiyin with stock 10.
func (g *gateway) clickTestProduct(t *testing.T, total int64) string {
	t.Helper()
	admin := g.newAccount(t, roleAdmin)
	r := g.post(t, "/api/products", admin.Access, map[string]any{
		"name": "Rishton lagan", "description": "Blue glaze", "category": "ceramics", "price": total, "stock": 10,
	})
	expectJSON(t, r, http.StatusCreated)
	return decode[struct {
		ID string `json:"id"`
	}](t, r).ID
}

// clickProductStock is the stock the catalog reports for the only product of
// orderID.
func (g *gateway) clickProductStock(t *testing.T, orderID string) int64 {
	t.Helper()
	var productID string
	require.NoError(t, g.DB.Get(&productID, `SELECT product_id FROM order_items WHERE order_id = $1`, orderID))
	r := g.get(t, "/api/products/"+productID, "")
	expectJSON(t, r, http.StatusOK)
	return decode[struct {
		Stock int64 `json:"stock"`
	}](t, r).Stock
}

// clickOrderStatus reads an order's status from the database.
func (g *gateway) clickOrderStatus(t *testing.T, id string) string {
	t.Helper()
	var s string
	require.NoError(t, g.DB.Get(&s, `SELECT status FROM orders WHERE id = $1`, id))
	return s
}

// clickAttemptState reads an attempt's state from the database.
func (g *gateway) clickAttemptState(t *testing.T, clickTransID int64) int {
	t.Helper()
	var s int
	require.NoError(t, g.DB.Get(&s, `SELECT state FROM click_transactions WHERE click_trans_id = $1`, clickTransID))
	return s
}

// clickAttemptID is our id (the UUID the API shows) of the attempt Click
// knows as merchant_prepare_id prepareID.
func (g *gateway) clickAttemptID(t *testing.T, prepareID int64) string {
	t.Helper()
	var id string
	require.NoError(t, g.DB.Get(&id, `SELECT id FROM click_transactions WHERE prepare_id = $1`, prepareID))
	return id
}

// clickMetric reads payments_total{provider="click",outcome=...} from the
// ops listener; 0 while the series does not exist yet.
func (g *gateway) clickMetric(t *testing.T, outcome string) float64 {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, g.OpsURL+"/metrics", nil)
	require.NoError(t, err)
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	series := `payments_total{outcome="` + outcome + `",provider="click"} `
	for _, line := range strings.Split(string(body), "\n") {
		if v, ok := strings.CutPrefix(line, series); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(t, err, line)
			return n
		}
	}
	return 0
}

// payPaymeOK makes one Payme Merchant API call on the gateway of
// newPayGateway and returns its result, failing on a JSON-RPC error.
func (g *gateway) payPaymeOK(t *testing.T, method string, params map[string]any) map[string]any {
	t.Helper()
	code, result := g.payPaymeCode(t, method, params)
	require.Zero(t, code, "%s answered JSON-RPC error %d", method, code)
	return result
}

// payAssertUUID checks that v is a UUID string in its canonical form.
func payAssertUUID(t *testing.T, v any, what string) {
	t.Helper()
	s, ok := v.(string)
	require.True(t, ok, "%s must be a string: %#v", what, v)
	require.NoError(t, uuid.Validate(s), "%s must be a UUID: %q", what, s)
	require.Len(t, s, 36, "%s in canonical form", what)
}

// clickForm is one Click call. Sign computes sign_string the way SPEC §5.2
// and §5.3 say, independently of the gateway's code.
type clickForm struct {
	url.Values
	complete bool
}

func newClickForm(clickTransID int64, orderID, amount string) clickForm {
	return clickForm{Values: url.Values{
		"click_trans_id":    {strconv.FormatInt(clickTransID, 10)},
		"service_id":        {clickServiceID},
		"click_paydoc_id":   {strconv.FormatInt(clickTransID+1_000_000_000, 10)},
		"merchant_trans_id": {orderID},
		"amount":            {amount},
		"action":            {"0"},
		"error":             {"0"},
		"error_note":        {"Success"},
		"sign_time":         {clickSignTime},
	}}
}

// completing turns a Prepare form into a Complete of prepareID with Click's error.
func (f clickForm) completing(prepareID int64, clickError int) clickForm {
	v := url.Values{}
	for k, vs := range f.Values {
		v[k] = append([]string(nil), vs...)
	}
	v.Set("action", "1")
	v.Set("merchant_prepare_id", strconv.FormatInt(prepareID, 10))
	v.Set("error", strconv.Itoa(clickError))
	if clickError < 0 {
		v.Set("error_note", "Payment cancelled")
	}
	return clickForm{Values: v, complete: true}
}

// ClickTransID is the form's click_trans_id.
func (f clickForm) ClickTransID() int64 {
	n, _ := strconv.ParseInt(f.Get("click_trans_id"), 10, 64)
	return n
}

func (f clickForm) with(k, v string) clickForm {
	c := url.Values{}
	for key, vs := range f.Values {
		c[key] = append([]string(nil), vs...)
	}
	c.Set(k, v)
	return clickForm{Values: c, complete: f.complete}
}

func (f clickForm) signed(secret string) clickForm {
	s := f.Get("click_trans_id") + f.Get("service_id") + secret + f.Get("merchant_trans_id")
	if f.complete {
		s += f.Get("merchant_prepare_id")
	}
	s += f.Get("amount") + f.Get("action") + f.Get("sign_time")
	sum := md5.Sum([]byte(s)) //nolint:gosec // G501, G401: MD5 is what Click's SHOP-API signs with (shared/payments/SPEC.md)
	return f.with("sign_string", hex.EncodeToString(sum[:]))
}

// clickAnswer is Click's JSON answer; the ids are null on errors.
type clickAnswer struct {
	ClickTransID      int64  `json:"click_trans_id"`
	MerchantTransID   string `json:"merchant_trans_id"`
	MerchantPrepareID *int64 `json:"merchant_prepare_id"`
	MerchantConfirmID *int64 `json:"merchant_confirm_id"`
	Error             int    `json:"error"`
	ErrorNote         string `json:"error_note"`
}

func (a clickAnswer) String() string {
	b, _ := json.Marshal(a)
	return string(b)
}

// clickPost sends body to Click's route and checks what every answer is:
// HTTP 200, JSON, Click's five fields with the id that route names.
func (g *gateway) clickPost(t *testing.T, path, body string) clickAnswer {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, g.BaseURL+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	resp, err := httpClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, "Click always gets HTTP 200: %s", raw)
	require.True(t, strings.HasPrefix(resp.Header.Get("Content-Type"), "application/json"), resp.Header.Get("Content-Type"))
	var fields map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(raw, &fields), string(raw))
	idKey := "merchant_prepare_id"
	if strings.HasSuffix(path, "/complete") {
		idKey = "merchant_confirm_id"
	}
	keys := make([]string, 0, len(fields))
	for k := range fields {
		keys = append(keys, k)
	}
	require.ElementsMatch(t, []string{"click_trans_id", "merchant_trans_id", idKey, "error", "error_note"}, keys, string(raw))
	var a clickAnswer
	require.NoError(t, json.Unmarshal(raw, &a))
	return a
}

// clickSend posts a form to the route its action belongs to.
func (g *gateway) clickSend(t *testing.T, f clickForm) clickAnswer {
	t.Helper()
	path := "/api/payments/click/prepare"
	if f.complete {
		path = "/api/payments/click/complete"
	}
	return g.clickPost(t, path, f.Encode())
}

// clickNotes are Click's texts (SPEC §5.5).
var clickNotes = map[int]string{
	0: "Success", -1: "SIGN CHECK FAILED!", -2: "Incorrect parameter amount", -3: "Action not found",
	-4: "Already paid", -5: "User does not exist", -6: "Transaction does not exist", -7: "Failed to update user",
	-8: "Error in request from click", -9: "Transaction cancelled",
}

// requireClickCode checks the code and its note.
func requireClickCode(t *testing.T, a clickAnswer, want int) {
	t.Helper()
	require.Equal(t, want, a.Error, "%s", a)
	require.Equal(t, clickNotes[want], a.ErrorNote, "%s", a)
}

// clickPrepared runs a successful Prepare of orderID for amount and returns
// the form (for the Complete) and merchant_prepare_id.
func (g *gateway) clickPrepared(t *testing.T, orderID, amount string) (clickForm, int64) {
	t.Helper()
	f := newClickForm(nextClickTransID(), orderID, amount)
	a := g.clickSend(t, f.signed(clickSecret))
	requireClickCode(t, a, 0)
	require.NotNil(t, a.MerchantPrepareID, "%s", a)
	return f, *a.MerchantPrepareID
}

// somOf writes tiyin as Click's pay link does: "N.NN".
func somOf(tiyin int64) string {
	return fmt.Sprintf("%d.%02d", tiyin/100, tiyin%100)
}
