package clickmerchant_test

import (
	"context"
	"crypto/sha1" //nolint:gosec // Click's Auth header is defined with SHA-1
	"encoding/hex"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/test/fakes/clickmerchant"
)

// SPEC §7's example header: secret TEST_SECRET_KEY, timestamp 1519051543, user 123.
const specAuth = "123:8ab6f3a10ab8603a6194d91eff532c95be8ee626:1519051543"

func newFake(t *testing.T, opts ...clickmerchant.Option) *clickmerchant.Server {
	t.Helper()
	f := clickmerchant.New(clickmerchant.Config{}, opts...)
	t.Cleanup(f.Close)
	return f
}

type reply struct {
	status int
	body   map[string]any
	raw    string
}

func call(t *testing.T, f *clickmerchant.Server, method, path, body, auth string) reply {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, f.URL()+path, strings.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Auth", auth)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	r := reply{status: resp.StatusCode, raw: string(raw)}
	_ = json.Unmarshal(raw, &r.body)
	return r
}

func signed(t *testing.T, f *clickmerchant.Server, method, path, body string) reply {
	t.Helper()
	return call(t, f, method, path, body, specAuth)
}

func TestAuth(t *testing.T) {
	f := newFake(t)
	f.SetPayment(clickmerchant.Payment{ID: 7, Status: clickmerchant.StatusSuccess})

	assert.Equal(t, http.StatusOK, signed(t, f, "GET", "payment/status/12345/7", "").status)

	ts := strconv.FormatInt(time.Now().Unix(), 10)
	sum := sha1.Sum([]byte(ts + "TEST_SECRET_KEY")) //nolint:gosec // the protocol's hash
	fresh := "123:" + hex.EncodeToString(sum[:]) + ":" + ts
	assert.Equal(t, http.StatusOK, call(t, f, "GET", "payment/status/12345/7", "", fresh).status, "any timestamp signed with the secret")

	for name, auth := range map[string]string{
		"missing":          "",
		"other user":       "124:8ab6f3a10ab8603a6194d91eff532c95be8ee626:1519051543",
		"other timestamp":  "123:8ab6f3a10ab8603a6194d91eff532c95be8ee626:1519051544",
		"other secret":     "123:" + strings.Repeat("0", 40) + ":1519051543",
		"uppercase digest": "123:8AB6F3A10AB8603A6194D91EFF532C95BE8EE626:1519051543",
		"extra part":       specAuth + ":1",
	} {
		t.Run(name, func(t *testing.T) {
			r := call(t, f, "GET", "payment/status/12345/7", "", auth)
			assert.Equal(t, http.StatusUnauthorized, r.status, name)
		})
	}

	req, err := http.NewRequestWithContext(context.Background(), "GET", f.URL()+"payment/status/12345/7", nil)
	require.NoError(t, err)
	req.Header.Set("Auth", specAuth) // no Accept / Content-Type
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	assert.Equal(t, http.StatusNotAcceptable, resp.StatusCode)

	assert.Equal(t, http.StatusForbidden, signed(t, f, "GET", "payment/status/99999/7", "").status, "another merchant's service")
}

func TestStatusAndReversal(t *testing.T) {
	f := newFake(t)
	f.SetPayment(clickmerchant.Payment{ID: 2100000001, MerchantTransID: "order-1", Day: "2025-06-01", Status: clickmerchant.StatusSuccess})

	r := signed(t, f, "GET", "payment/status/12345/2100000001", "")
	assert.Equal(t, map[string]any{"error_code": 0.0, "error_note": "Success", "payment_id": 2100000001.0, "payment_status": 2.0}, r.body)
	r = signed(t, f, "GET", "payment/status/12345/5", "")
	assert.Equal(t, float64(clickmerchant.CodePaymentNotFound), r.body["error_code"])

	// Both URL forms of status_by_mti; a dated one must match the payment's day.
	for _, path := range []string{"payment/status_by_mti/12345/order-1/2025-06-01", "payment/status_by_mti/12345/order-1"} {
		r = signed(t, f, "GET", path, "")
		assert.Equal(t, map[string]any{"error_code": 0.0, "error_note": "Success", "payment_id": 2100000001.0, "merchant_trans_id": "order-1"}, r.body, path)
	}
	r = signed(t, f, "GET", "payment/status_by_mti/12345/order-1/2025-06-02", "")
	assert.Equal(t, float64(clickmerchant.CodePaymentNotFound), r.body["error_code"])
	r = signed(t, f, "GET", "payment/status_by_mti/12345/order-1/01.06.2025", "")
	assert.Equal(t, http.StatusBadRequest, r.status)

	r = signed(t, f, "DELETE", "payment/reversal/12345/2100000001", "")
	assert.Equal(t, 0.0, r.body["error_code"])
	p, _ := f.Payment(2100000001)
	assert.True(t, p.Reversed)
	assert.Equal(t, clickmerchant.StatusCancelled, p.Status)
	r = signed(t, f, "DELETE", "payment/reversal/12345/2100000001", "")
	assert.Equal(t, float64(clickmerchant.CodeNotAllowed), r.body["error_code"], "only once")

	assert.Equal(t, 2, f.CallCount(clickmerchant.RouteStatus))
	assert.Equal(t, 4, f.CallCount(clickmerchant.RouteStatusByMTI))
	assert.Equal(t, 2, f.CallCount(clickmerchant.RouteReversal))
}

const submission = `{"service_id":12345,"payment_id":4710103925,"items":[
 {"Name":"Futbolka paxta, dona","SPIC":"11111111111111111","PackageCode":"1111111","Units":1111,"GoodPrice":15000000,
  "Price":30000000,"Amount":2,"Discount":2000000,"VAT":3000000,"VATPercent":12,"CommissionInfo":{"TIN":"123456789"}},
 {"Name":"Elektr choynak, dona","SPIC":"22222222222222222","PackageCode":"2222222","Units":1111,"GoodPrice":25000000,
  "Price":25000000,"Amount":1,"VAT":2678571,"VATPercent":12,"CommissionInfo":{"PINFL":"12345678901234"}},
 {"Name":"Yetkazib berish xizmati, xizmat","SPIC":"33333333333333333","PackageCode":"3333333","Units":2222,
  "GoodPrice":2000000,"Price":2000000,"Amount":1,"VAT":214286,"VATPercent":12,"CommissionInfo":{"TIN":"987654321"}}],
 "received_ecash":0,"received_cash":0,"received_card":55000000}`

// FISCAL.md §3.1's example goes through: accepted, recorded once, and the
// receipt link appears after the configured number of reads.
func TestSubmitItemsThenFiscalData(t *testing.T) {
	at := time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC)
	f := newFake(t, clickmerchant.WithClock(func() time.Time { return at }))
	f.SetPayment(clickmerchant.Payment{ID: 4710103925, Status: clickmerchant.StatusSuccess, Amount: 55_000_000})
	f.SetReceiptDelay(2)

	r := signed(t, f, "GET", "payment/ofd_data/12345/4710103925", "")
	assert.Equal(t, float64(clickmerchant.CodeNoReceipt), r.body["error_code"], "nothing submitted yet")

	r = signed(t, f, "POST", "payment/ofd_data/submit_items", submission)
	require.Equal(t, http.StatusOK, r.status, r.raw)
	assert.Equal(t, map[string]any{"error_code": 0.0, "error_note": "Success"}, r.body)
	subs := f.Submissions(4710103925)
	require.Len(t, subs, 1)
	assert.Equal(t, int64(55_000_000), subs[0].ReceivedCard)
	require.Len(t, subs[0].Items, 3)
	assert.Equal(t, "12345678901234", subs[0].Items[1].CommissionInfo.PINFL)

	f.SetNoReceiptAnswer(clickmerchant.NoReceiptEmptyLink)
	for range 2 {
		r = signed(t, f, "GET", "payment/ofd_data/12345/4710103925", "")
		assert.Equal(t, map[string]any{"paymentId": 4710103925.0, "qrCodeURL": ""}, r.body, "held back")
	}
	r = signed(t, f, "GET", "payment/ofd_data/12345/4710103925", "")
	assert.Equal(t, 4710103925.0, r.body["paymentId"])
	assert.Regexp(t, `^https://ofd\.soliq\.uz/epi\?t=EZ\d+&r=1&c=20260101120000&s=\d{12}$`, r.body["qrCodeURL"])
	assert.Equal(t, 4, f.CallCount(clickmerchant.RouteFiscalData))
	assert.Equal(t, 1, f.CallCount(clickmerchant.RouteSubmitItems))

	f.SetQRCodeURL(4710103925, "https://example.com/receipt")
	r = signed(t, f, "GET", "payment/ofd_data/12345/4710103925", "")
	assert.Equal(t, "https://example.com/receipt", r.body["qrCodeURL"])
}

func TestSubmitItemsRefusals(t *testing.T) {
	f := newFake(t)
	f.SetPayment(clickmerchant.Payment{ID: 4710103925, Status: clickmerchant.StatusSuccess, Amount: 55_000_000})
	f.SetPayment(clickmerchant.Payment{ID: 4710103926, Status: clickmerchant.StatusProcessing})

	edit := func(from, to string) string {
		require.Contains(t, submission, from)
		return strings.Replace(submission, from, to, 1)
	}
	cases := []struct {
		name   string
		body   string
		status int
		code   int
	}{
		{"not JSON", `{"service_id":`, 400, clickmerchant.CodeBadRequest},
		{"unknown field", edit(`"received_cash":0`, `"received_cash":0,"receivedCard":1`), 400, clickmerchant.CodeBadRequest},
		{"another service", edit(`"service_id":12345`, `"service_id":12346`), 403, -403},
		{"unknown payment", edit(`"payment_id":4710103925`, `"payment_id":1`), 200, clickmerchant.CodePaymentNotFound},
		{"payment not successful", edit(`"payment_id":4710103925`, `"payment_id":4710103926`), 200, clickmerchant.CodeNotAllowed},
		{"no items", `{"service_id":12345,"payment_id":4710103925,"items":[],"received_card":0}`, 200, clickmerchant.CodeBadRequest},
		{"short SPIC", edit(`"SPIC":"22222222222222222"`, `"SPIC":"2222222222222222"`), 200, clickmerchant.CodeBadRequest},
		{"no PackageCode", edit(`"PackageCode":"3333333",`, ``), 200, clickmerchant.CodeBadRequest},
		{"no VAT", edit(`"VAT":214286,`, ``), 200, clickmerchant.CodeBadRequest},
		{"both TIN and PINFL", edit(`{"TIN":"987654321"}`, `{"TIN":"987654321","PINFL":"12345678901234"}`), 200, clickmerchant.CodeBadRequest},
		{"Price is not GoodPrice × Amount", edit(`"Price":25000000`, `"Price":25000001`), 200, clickmerchant.CodeBadRequest},
		{"received ≠ items", edit(`"received_card":55000000`, `"received_card":54999999`), 200, clickmerchant.CodeBadRequest},
		{"received ≠ payment", strings.NewReplacer(`"Price":2000000`, `"Price":2000001`, `"GoodPrice":2000000`, `"GoodPrice":2000001`,
			`"received_card":55000000`, `"received_card":55000001`).Replace(submission), 200, clickmerchant.CodeBadRequest},
		{"name over 63 characters", edit(`"Elektr choynak, dona"`, `"`+strings.Repeat("й", 64)+`"`), 200, clickmerchant.CodeBadRequest},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := signed(t, f, "POST", "payment/ofd_data/submit_items", tc.body)
			assert.Equal(t, tc.status, r.status, r.raw)
			assert.Equal(t, float64(tc.code), r.body["error_code"], r.raw)
			assert.NotEmpty(t, r.body["error_note"])
		})
	}
	assert.Empty(t, f.Submissions(4710103925))
	assert.Empty(t, f.Submissions(4710103926))
}

func TestInjectedFailures(t *testing.T) {
	f := newFake(t)
	f.SetPayment(clickmerchant.Payment{ID: 7, Status: clickmerchant.StatusSuccess})

	// Scoped to a route: other routes are served normally meanwhile.
	f.FailNext(2, clickmerchant.Fault{Mode: clickmerchant.Fail5xx, Route: clickmerchant.RouteFiscalData})
	assert.Equal(t, http.StatusOK, signed(t, f, "GET", "payment/status/12345/7", "").status)
	for range 2 {
		r := signed(t, f, "GET", "payment/ofd_data/12345/7", "")
		assert.Equal(t, http.StatusBadGateway, r.status)
		assert.Nil(t, r.body, "not JSON")
	}
	assert.Equal(t, http.StatusOK, signed(t, f, "GET", "payment/ofd_data/12345/7", "").status)

	f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailRefuse, Code: -31, Note: "Service is temporarily unavailable"})
	r := signed(t, f, "DELETE", "payment/reversal/12345/7", "")
	assert.Equal(t, map[string]any{"error_code": -31.0, "error_note": "Service is temporarily unavailable"}, r.body)
	p, _ := f.Payment(7)
	assert.False(t, p.Reversed, "a refused call changes nothing")

	f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.Fail5xx, Code: http.StatusServiceUnavailable})
	assert.Equal(t, http.StatusServiceUnavailable, signed(t, f, "GET", "payment/status/12345/7", "").status)

	f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailTimeout})
	ctx, cancel := context.WithTimeout(context.Background(), 100*time.Millisecond)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", f.URL()+"payment/status/12345/7", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err, "held until the client gives up")
	assert.True(t, errors.Is(err, context.DeadlineExceeded), "%v", err)

	assert.Equal(t, http.StatusOK, signed(t, f, "GET", "payment/status/12345/7", "").status, "served normally again")
	calls := f.Calls()
	require.NotEmpty(t, calls)
	assert.Equal(t, clickmerchant.Call{Method: "GET", Path: "/v2/merchant/payment/status/12345/7", Route: clickmerchant.RouteStatus, Body: []byte{}},
		calls[len(calls)-1])
}

func TestCloseRefusesConnectionsUntilRestart(t *testing.T) {
	f := newFake(t)
	f.SetPayment(clickmerchant.Payment{ID: 7, Status: clickmerchant.StatusSuccess})
	f.FailNext(1, clickmerchant.Fault{Mode: clickmerchant.FailTimeout})
	held := make(chan error, 1)
	go func() {
		req, _ := http.NewRequestWithContext(context.Background(), "GET", f.URL()+"payment/status/12345/7", nil)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		held <- err
	}()
	require.Eventually(t, func() bool { return f.CallCount(clickmerchant.RouteStatus) == 1 }, 5*time.Second, 10*time.Millisecond)

	f.Close() // must not wait for the held request
	select {
	case err := <-held:
		assert.Error(t, err, "the held request's connection is closed")
	case <-time.After(5 * time.Second):
		t.Fatal("Close left a held request hanging")
	}
	req, err := http.NewRequestWithContext(context.Background(), "GET", f.URL()+"payment/status/12345/7", nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	if err == nil {
		_ = resp.Body.Close()
	}
	require.Error(t, err, "connection refused while closed")

	f.Restart()
	assert.Equal(t, http.StatusOK, signed(t, f, "GET", "payment/status/12345/7", "").status)
	p, ok := f.Payment(7)
	assert.True(t, ok, "state survives a restart")
	assert.Equal(t, clickmerchant.StatusSuccess, p.Status)
}
