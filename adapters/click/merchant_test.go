package click_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/fakes/clickmerchant"
)

// newFakeMerchantAPI starts the fake with SPEC §7's example merchant (service
// 12345, user 123, secret TEST_SECRET_KEY), which newMerchantClient signs for.
func newFakeMerchantAPI(t *testing.T) *clickmerchant.Server {
	t.Helper()
	f := clickmerchant.New(clickmerchant.Config{})
	t.Cleanup(f.Close)
	return f
}

func newMerchantClient(t *testing.T, base string, timeout time.Duration) *click.MerchantClient {
	t.Helper()
	c, err := click.NewMerchantClient(click.MerchantConfig{
		BaseURL: base, ServiceID: strconv.Itoa(clickmerchant.SpecServiceID), MerchantUserID: clickmerchant.SpecMerchantUserID,
		SecretKey: clickmerchant.SpecSecretKey, Timeout: timeout,
		Now: func() time.Time { return time.Unix(1519051543, 0) }, // SPEC §7's example timestamp
	})
	require.NoError(t, err)
	return c
}

// paths lists the calls the fake received as "METHOD escaped-path".
func paths(f *clickmerchant.Server) []string {
	var out []string
	for _, c := range f.Calls() {
		out = append(out, c.Method+" "+c.Path)
	}
	return out
}

func TestMerchantClient_PaymentStatus(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 2100000001, Status: clickmerchant.StatusSuccess})
	c := newMerchantClient(t, f.URL(), 0)

	got, err := c.PaymentStatus(context.Background(), 2100000001)
	require.NoError(t, err)
	assert.Equal(t, ports.ClickPaymentStatus{PaymentID: 2100000001, Status: 2}, got)
	assert.Equal(t, []string{"GET /v2/merchant/payment/status/12345/2100000001"}, paths(f))
}

func TestMerchantClient_PaymentStatusByMerchantTransIDFollowsUpByPaymentID(t *testing.T) {
	f := newFakeMerchantAPI(t)
	mti := "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01/x"
	f.SetPayment(clickmerchant.Payment{ID: 2100000009, MerchantTransID: mti, Day: "2025-06-01", Status: clickmerchant.StatusCancelled})
	c := newMerchantClient(t, strings.TrimSuffix(f.URL(), "/"), 0) // no trailing slash: still below it

	got, err := c.PaymentStatusByMerchantTransID(context.Background(), mti, time.Date(2025, 6, 1, 23, 30, 0, 0, time.UTC))
	require.NoError(t, err)
	assert.Equal(t, ports.ClickPaymentStatus{PaymentID: 2100000009, Status: -1}, got)
	assert.Equal(t, []string{
		"GET /v2/merchant/payment/status_by_mti/12345/8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01%2Fx/2025-06-01",
		"GET /v2/merchant/payment/status/12345/2100000009",
	}, paths(f), "an id cannot add path levels")
}

// Click refusing status_by_mti (no such payment that day) is "not found",
// which reconciliation reads as "nothing was paid"; Click unreachable is not.
func TestMerchantClient_PaymentStatusByMerchantTransIDUnknownIsNotFound(t *testing.T) {
	f := newFakeMerchantAPI(t)
	c := newMerchantClient(t, f.URL(), 0)
	_, err := c.PaymentStatusByMerchantTransID(context.Background(), "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01", time.Now())
	require.ErrorIs(t, err, domain.ErrNotFound)

	f.FailNext(1, clickmerchant.Fault{Route: clickmerchant.RouteStatusByMTI})
	_, err = c.PaymentStatusByMerchantTransID(context.Background(), "8f14e45f-ceea-467e-9f7b-3c1d2a6b7e01", time.Now())
	require.ErrorIs(t, err, domain.ErrUnavailable)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestMerchantClient_Reverse(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 2100000001, Status: clickmerchant.StatusSuccess})
	c := newMerchantClient(t, f.URL(), 0)

	require.NoError(t, c.Reverse(context.Background(), 2100000001))
	assert.Equal(t, []string{"DELETE /v2/merchant/payment/reversal/12345/2100000001"}, paths(f))
	p, _ := f.Payment(2100000001)
	assert.True(t, p.Reversed)

	var apiErr *click.APIError
	require.ErrorAs(t, c.Reverse(context.Background(), 2100000001), &apiErr, "a second reversal is refused")
	assert.Equal(t, clickmerchant.CodeNotAllowed, apiErr.Code)
	assert.NotEmpty(t, apiErr.Note)
}

func TestMerchantClient_Refusals(t *testing.T) {
	answer := func(status int, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return true
		}
	}
	cases := []struct {
		name        string
		setup       func(f *clickmerchant.Server)
		status      int
		code        int
		unavailable bool
	}{
		{"error_code in a 200", func(f *clickmerchant.Server) {
			f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Code: -5014, Note: "Payment not found"})
		}, 200, -5014, false},
		{"http 404", func(f *clickmerchant.Server) { f.SetFault(answer(404, `{"error_code":-404,"error_note":"not found"}`)) }, 404, -404, false},
		{"http 401 without body", func(f *clickmerchant.Server) { f.SetFault(answer(401, ``)) }, 401, 0, false},
		{"http 502", func(f *clickmerchant.Server) { f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx}) }, 502, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMerchantAPI(t)
			f.SetPayment(clickmerchant.Payment{ID: 1, Status: clickmerchant.StatusSuccess})
			tc.setup(f)
			err := newMerchantClient(t, f.URL(), 0).Reverse(context.Background(), 1)
			var apiErr *click.APIError
			require.ErrorAs(t, err, &apiErr)
			assert.Equal(t, tc.status, apiErr.Status)
			assert.Equal(t, tc.code, apiErr.Code)
			assert.Equal(t, tc.unavailable, errors.Is(err, domain.ErrUnavailable))
			// Only Click's business answer (a 200 with an error_code) is a
			// refusal the refund shows the admin; an HTTP error is not an answer.
			var refusal *payment.RefusalError
			if assert.Equal(t, tc.status == 200, errors.As(err, &refusal)) && refusal != nil {
				assert.Equal(t, tc.code, refusal.Code)
				assert.Equal(t, "Payment not found", refusal.Note)
			}
			p, _ := f.Payment(1)
			assert.False(t, p.Reversed)
		})
	}
}

func TestMerchantClient_WrongAuthIsRefused(t *testing.T) {
	// The fake checks the header; a client with another secret is refused.
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 1, Status: clickmerchant.StatusSuccess})
	c, err := click.NewMerchantClient(click.MerchantConfig{BaseURL: f.URL(), ServiceID: "12345", MerchantUserID: "123",
		SecretKey: "OTHER", Now: func() time.Time { return time.Unix(1519051543, 0) }})
	require.NoError(t, err)
	var apiErr *click.APIError
	require.ErrorAs(t, c.Reverse(context.Background(), 1), &apiErr)
	assert.Equal(t, http.StatusUnauthorized, apiErr.Status)
	p, _ := f.Payment(1)
	assert.False(t, p.Reversed)
}

func TestMerchantClient_PerCallTimeout(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailTimeout})
	c := newMerchantClient(t, f.URL(), 50*time.Millisecond)
	start := time.Now()
	_, err := c.PaymentStatus(context.Background(), 1)
	require.Error(t, err)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
	assert.Less(t, time.Since(start), 2*time.Second)
}

func TestMerchantClient_Config(t *testing.T) {
	_, err := click.NewMerchantClient(click.MerchantConfig{BaseURL: "not a url"})
	assert.Error(t, err)
	_, err = click.NewMerchantClient(click.MerchantConfig{BaseURL: "ftp://api.click.uz/"})
	assert.Error(t, err)
	c, err := click.NewMerchantClient(click.MerchantConfig{})
	require.NoError(t, err, "the default base URL")
	assert.NotNil(t, c)
	assert.Equal(t, "https://api.click.uz/v2/merchant/", click.DefaultMerchantAPIURL)
}

// exampleSubmission is FISCAL.md §3.1's order without its discount (orders
// have none): two T-shirts from a company, a kettle from an individual
// entrepreneur, and the marketplace's own delivery with no unit code.
func exampleSubmission(t *testing.T) fiscal.ClickSubmission {
	t.Helper()
	company := fiscal.RestoreSellerProfile("123456789", "", true)
	person := fiscal.RestoreSellerProfile("", "12345678901234", true)
	identity := func(ikpu, pkg string, unit int64) fiscal.Identity {
		d := fiscal.IdentityDraft{IKPUCode: &ikpu, PackageCode: &pkg}
		if unit != 0 {
			d.UnitCode = &unit
		}
		id, err := fiscal.NewIdentity(d)
		require.NoError(t, err)
		return id
	}
	var lines []fiscal.Line
	for _, d := range []fiscal.LineDraft{
		{Name: "Futbolka paxta, dona", UnitPrice: money.MustTiyin(15_000_000), Quantity: 2,
			Product: identity("11111111111111111", "1111111", 1111), Seller: &company},
		{Name: "Elektr choynak, dona", UnitPrice: money.MustTiyin(25_000_000), Quantity: 1,
			Product: identity("22222222222222222", "2222222", 1111), Seller: &person},
		{Name: "Yetkazib berish xizmati", UnitPrice: money.MustTiyin(2_000_000), Quantity: 1,
			Product: identity("33333333333333333", "3333333", 0)},
	} {
		l, err := fiscal.NewLine(d)
		require.NoError(t, err)
		lines = append(lines, l)
	}
	sub, err := fiscal.ClickSubmissionFor(lines, fiscal.Principal{TIN: "987654321"})
	require.NoError(t, err)
	return sub
}

func TestMerchantClient_SubmitFiscalItems(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 4710103925, Status: clickmerchant.StatusSuccess, Amount: 57_000_000})
	c := newMerchantClient(t, f.URL(), 0)

	require.NoError(t, c.SubmitFiscalItems(context.Background(), 4710103925, exampleSubmission(t)))

	require.Len(t, f.Submissions(4710103925), 1, "accepted once")
	calls := f.Calls()
	require.Len(t, calls, 1)
	assert.Equal(t, "POST /v2/merchant/payment/ofd_data/submit_items", calls[0].Method+" "+calls[0].Path)
	assert.JSONEq(t, `{"service_id": 12345, "payment_id": 4710103925,
	 "items": [
	  {"Name": "Futbolka paxta, dona", "SPIC": "11111111111111111", "PackageCode": "1111111",
	   "Units": 1111, "GoodPrice": 15000000, "Price": 30000000, "Amount": 2,
	   "VAT": 3214286, "VATPercent": 12, "CommissionInfo": {"TIN": "123456789"}},
	  {"Name": "Elektr choynak, dona", "SPIC": "22222222222222222", "PackageCode": "2222222",
	   "Units": 1111, "GoodPrice": 25000000, "Price": 25000000, "Amount": 1,
	   "VAT": 2678571, "VATPercent": 12, "CommissionInfo": {"PINFL": "12345678901234"}},
	  {"Name": "Yetkazib berish xizmati", "SPIC": "33333333333333333",
	   "PackageCode": "3333333", "GoodPrice": 2000000, "Price": 2000000,
	   "Amount": 1, "VAT": 214286, "VATPercent": 12, "CommissionInfo": {"TIN": "987654321"}}],
	 "received_ecash": 0, "received_cash": 0, "received_card": 57000000}`, string(calls[0].Body))
}

func TestMerchantClient_SubmitFiscalItemsFailures(t *testing.T) {
	cases := []struct {
		name        string
		setup       func(f *clickmerchant.Server)
		paymentID   int64
		code        int
		unavailable bool
	}{
		{"Click refuses", func(f *clickmerchant.Server) {
			f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Route: clickmerchant.RouteSubmitItems, Code: -31, Note: "OFD is not available"})
		}, 4710103925, -31, false},
		{"unknown payment", func(*clickmerchant.Server) {}, 99, clickmerchant.CodePaymentNotFound, false},
		{"5xx", func(f *clickmerchant.Server) { f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx}) }, 4710103925, 0, true},
		{"timeout", func(f *clickmerchant.Server) { f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailTimeout}) }, 4710103925, 0, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMerchantAPI(t)
			f.SetPayment(clickmerchant.Payment{ID: 4710103925, Status: clickmerchant.StatusSuccess})
			tc.setup(f)
			err := newMerchantClient(t, f.URL(), 200*time.Millisecond).SubmitFiscalItems(context.Background(), tc.paymentID, exampleSubmission(t))
			require.Error(t, err)
			assert.Equal(t, tc.unavailable, errors.Is(err, domain.ErrUnavailable), "%v", err)
			if !tc.unavailable {
				var apiErr *click.APIError
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.code, apiErr.Code)
				assert.NotEmpty(t, apiErr.Note)
			}
			assert.Empty(t, f.Submissions(4710103925))
		})
	}

	t.Run("refused before calling", func(t *testing.T) {
		f := newFakeMerchantAPI(t)
		c := newMerchantClient(t, f.URL(), 0)
		assert.ErrorIs(t, c.SubmitFiscalItems(context.Background(), 0, exampleSubmission(t)), domain.ErrValidation)
		assert.ErrorIs(t, c.SubmitFiscalItems(context.Background(), 1, fiscal.ClickSubmission{}), domain.ErrValidation)
		bad, err := click.NewMerchantClient(click.MerchantConfig{BaseURL: f.URL(), ServiceID: "svc"})
		require.NoError(t, err)
		assert.Error(t, bad.SubmitFiscalItems(context.Background(), 1, exampleSubmission(t)))
		assert.Empty(t, f.Calls())
	})
}

// FiscalData tells "no receipt yet" (either of the forms Click might use)
// from a receipt and from Click being unreachable.
func TestMerchantClient_FiscalData(t *testing.T) {
	f := newFakeMerchantAPI(t)
	f.SetPayment(clickmerchant.Payment{ID: 4710103925, Status: clickmerchant.StatusSuccess})
	f.SetReceiptDelay(1)
	c := newMerchantClient(t, f.URL(), 0)
	ctx := context.Background()

	got, err := c.FiscalData(ctx, 4710103925)
	require.NoError(t, err, "an error_code answer is no receipt yet, not an error")
	assert.Equal(t, ports.ClickFiscalData{PaymentID: 4710103925, Note: "Receipt not found"}, got)

	require.NoError(t, c.SubmitFiscalItems(ctx, 4710103925, exampleSubmission(t)))
	f.SetNoReceiptAnswer(clickmerchant.NoReceiptEmptyLink)
	got, err = c.FiscalData(ctx, 4710103925)
	require.NoError(t, err, "accepted, but the link is not there yet")
	assert.Equal(t, ports.ClickFiscalData{PaymentID: 4710103925}, got)

	got, err = c.FiscalData(ctx, 4710103925)
	require.NoError(t, err)
	assert.Equal(t, int64(4710103925), got.PaymentID)
	assert.Regexp(t, `^https://ofd\.soliq\.uz/epi\?t=\w+&r=\d+&c=\d{14}&s=\d+$`, got.QRCodeURL)
	assert.Empty(t, got.Note)
	assert.Equal(t, []string{
		"GET /v2/merchant/payment/ofd_data/12345/4710103925",
		"POST /v2/merchant/payment/ofd_data/submit_items",
		"GET /v2/merchant/payment/ofd_data/12345/4710103925",
		"GET /v2/merchant/payment/ofd_data/12345/4710103925",
	}, paths(f))

	// Any link is passed on as sent; whether it is shown is the domain's rule.
	f.SetQRCodeURL(4710103925, "http://example.com/r")
	got, err = c.FiscalData(ctx, 4710103925)
	require.NoError(t, err)
	assert.Equal(t, "http://example.com/r", got.QRCodeURL)
}

func TestMerchantClient_FiscalDataFailures(t *testing.T) {
	answer := func(status int, body string) func(w http.ResponseWriter, r *http.Request) bool {
		return func(w http.ResponseWriter, _ *http.Request) bool {
			w.WriteHeader(status)
			_, _ = io.WriteString(w, body)
			return true
		}
	}
	cases := []struct {
		name        string
		setup       func(f *clickmerchant.Server)
		apiStatus   int // 0: not an *APIError
		unavailable bool
	}{
		{"5xx", func(f *clickmerchant.Server) { f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx}) }, 502, true},
		{"timeout", func(f *clickmerchant.Server) { f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailTimeout}) }, 0, true},
		{"refused connection", func(f *clickmerchant.Server) { f.Close() }, 0, true},
		{"http 401", func(f *clickmerchant.Server) { f.SetFault(answer(401, `{"error_code":-401,"error_note":"bad auth"}`)) }, 401, false},
		{"not JSON", func(f *clickmerchant.Server) { f.SetFault(answer(200, `<html>`)) }, 0, false},
		{"another payment's receipt", func(f *clickmerchant.Server) {
			f.SetFault(answer(200, `{"paymentId":1,"qrCodeURL":"https://ofd.soliq.uz/epi?t=1"}`))
		}, 0, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newFakeMerchantAPI(t)
			f.SetQRCodeURL(4710103925, "https://ofd.soliq.uz/epi?t=EZ1&r=1&c=20260101120000&s=1")
			tc.setup(f)
			got, err := newMerchantClient(t, f.URL(), 200*time.Millisecond).FiscalData(context.Background(), 4710103925)
			require.Error(t, err)
			assert.Equal(t, ports.ClickFiscalData{}, got)
			assert.Equal(t, tc.unavailable, errors.Is(err, domain.ErrUnavailable), "%v", err)
			var apiErr *click.APIError
			if tc.apiStatus != 0 {
				require.ErrorAs(t, err, &apiErr)
				assert.Equal(t, tc.apiStatus, apiErr.Status)
			} else {
				assert.False(t, errors.As(err, &apiErr), "%v", err)
			}
		})
	}
}
