package click_test

import (
	"bytes"
	"context"
	"crypto/md5" //nolint:gosec // G501, G401: MD5 is what Click's SHOP-API signs with (shared/payments/SPEC.md)
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/click"
	"github.com/ultramarket/gateway/adapters/webhook"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// The SPEC's example credentials (§5.4, §5.8).
const (
	testServiceID = "12345"
	testSecret    = "TEST_SECRET_KEY"
)

// fakePrepare and fakeComplete stand in for the use cases and record what
// they were asked.
type fakePrepare struct {
	mu    sync.Mutex
	calls []payments.ClickPrepareInput
	id    int64
	err   error
	panic bool
}

func (f *fakePrepare) Handle(_ context.Context, in payments.ClickPrepareInput) (*payment.ClickTransaction, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	if f.panic {
		panic("boom")
	}
	if f.err != nil {
		return nil, f.err
	}
	amount, err := money.FromTiyin(in.Amount)
	if err != nil {
		return nil, err
	}
	t, err := payment.NewClickTransaction("4b227777-d4dd-4fc6-9c6e-6a2e9d2a1f01", in.ClickTransID, in.ClickPaydocID, in.ServiceID, in.MerchantTransID, amount, in.AmountRaw, time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC))
	if err != nil {
		return nil, err
	}
	t.SetPrepareID(f.id)
	return t, nil
}

type fakeComplete struct {
	mu    sync.Mutex
	calls []payments.ClickCompleteInput
	res   payments.ClickCompleteResult
	err   error
}

func (f *fakeComplete) Handle(_ context.Context, in payments.ClickCompleteInput) (payments.ClickCompleteResult, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, in)
	return f.res, f.err
}

type fakeMetrics struct {
	mu       sync.Mutex
	outcomes []string
}

func (m *fakeMetrics) PaymentRecorded(provider, outcome string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.outcomes = append(m.outcomes, provider+"/"+outcome)
}

type fixture struct {
	prepare  *fakePrepare
	complete *fakeComplete
	metrics  *fakeMetrics
	logs     *bytes.Buffer
	e        *echo.Echo
}

func newFixture(t *testing.T, cfg click.Config) *fixture {
	t.Helper()
	f := &fixture{prepare: &fakePrepare{id: 1}, complete: &fakeComplete{}, metrics: &fakeMetrics{}, logs: &bytes.Buffer{}}
	log := slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	f.e = echo.New()
	cfg.Logger = log
	click.NewWebhook(cfg, click.UseCases{Prepare: f.prepare, Complete: f.complete}, f.metrics).Register(f.e)
	return f
}

func configured(t *testing.T) *fixture {
	return newFixture(t, click.Config{ServiceID: testServiceID, SecretKey: testSecret})
}

// md5hex signs independently of the package under test.
func md5hex(s string) string {
	sum := md5.Sum([]byte(s)) //nolint:gosec // G501, G401: MD5 is what Click's SHOP-API signs with (shared/payments/SPEC.md)
	return hex.EncodeToString(sum[:])
}

// form is one Click call: fields in order, so a test can drop, repeat or
// change any of them. sign() computes sign_string from the current fields.
type form [][2]string

func prepareForm() form {
	return form{
		{"click_trans_id", "2100000001"}, {"service_id", testServiceID}, {"click_paydoc_id", "3100000001"},
		{"merchant_trans_id", "1001"}, {"amount", "50000.00"}, {"action", "0"}, {"error", "0"},
		{"error_note", "Success"}, {"sign_time", "2025-06-01 12:00:00"},
	}
}

func completeForm() form {
	f := prepareForm().set("action", "1")
	return append(f, [2]string{"merchant_prepare_id", "1"})
}

func (f form) get(k string) string {
	for _, kv := range f {
		if kv[0] == k {
			return kv[1]
		}
	}
	return ""
}

func (f form) set(k, v string) form {
	out := append(form(nil), f...)
	for i := range out {
		if out[i][0] == k {
			out[i][1] = v
			return out
		}
	}
	return append(out, [2]string{k, v})
}

func (f form) without(k string) form {
	var out form
	for _, kv := range f {
		if kv[0] != k {
			out = append(out, kv)
		}
	}
	return out
}

func (f form) sign(secret string) form {
	s := f.get("click_trans_id") + f.get("service_id") + secret + f.get("merchant_trans_id")
	if f.get("action") == "1" || f.get("merchant_prepare_id") != "" {
		s += f.get("merchant_prepare_id")
	}
	s += f.get("amount") + f.get("action") + f.get("sign_time")
	return f.set("sign_string", md5hex(s))
}

func (f form) encode() string {
	parts := make([]string, 0, len(f))
	for _, kv := range f {
		parts = append(parts, url.QueryEscape(kv[0])+"="+url.QueryEscape(kv[1]))
	}
	return strings.Join(parts, "&")
}

// post sends body to path and checks what every answer must be: HTTP 200,
// JSON, exactly Click's fields.
func (fx *fixture) post(t *testing.T, path, body string) map[string]any {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, strings.NewReader(body))
	req.Header.Set(echo.HeaderContentType, "application/x-www-form-urlencoded")
	rec := httptest.NewRecorder()
	fx.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.True(t, strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), "application/json"))
	var out map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
	idKey := "merchant_prepare_id"
	if path == click.CompletePath {
		idKey = "merchant_confirm_id"
	}
	keys := make([]string, 0, len(out))
	for k := range out {
		keys = append(keys, k)
	}
	assert.ElementsMatch(t, []string{"click_trans_id", "merchant_trans_id", idKey, "error", "error_note"}, keys)
	return out
}

func code(t *testing.T, out map[string]any) int {
	t.Helper()
	n, ok := out["error"].(float64)
	require.True(t, ok, "error must be a number: %v", out)
	return int(n)
}

var notes = map[int]string{
	0: "Success", -1: "SIGN CHECK FAILED!", -2: "Incorrect parameter amount", -3: "Action not found",
	-4: "Already paid", -5: "User does not exist", -6: "Transaction does not exist", -7: "Failed to update user",
	-8: "Error in request from click", -9: "Transaction cancelled",
}

// expectCode checks the code, its note, and a null id on errors.
func expectCode(t *testing.T, out map[string]any, want int) {
	t.Helper()
	require.Equal(t, want, code(t, out), "%v", out)
	assert.Equal(t, notes[want], out["error_note"])
}

func TestSpecVectors_SignaturesOfSection5_4(t *testing.T) {
	// The vectors themselves, independently of the handler.
	assert.Equal(t, "32376eb058a625177008dbc4f7b5573d", md5hex("2100000001"+"12345"+testSecret+"1001"+"50000.00"+"0"+"2025-06-01 12:00:00"))
	assert.Equal(t, "27f1fe806156a96eadf4c44f8c106054", md5hex("2100000001"+"12345"+testSecret+"1001"+"50000"+"0"+"2025-06-01 12:00:00"))
	assert.Equal(t, "2e3b81a4d15b144493f7da11a7007a4e", md5hex("2100000001"+"12345"+testSecret+"1001"+"1"+"50000.00"+"1"+"2025-06-01 12:00:00"))

	cases := []struct {
		name, path, body string
	}{
		{"prepare 50000.00", click.PreparePath, prepareForm().set("sign_string", "32376eb058a625177008dbc4f7b5573d").encode()},
		{"prepare 50000", click.PreparePath, prepareForm().set("amount", "50000").set("sign_string", "27f1fe806156a96eadf4c44f8c106054").encode()},
		{"complete", click.CompletePath, completeForm().set("sign_string", "2e3b81a4d15b144493f7da11a7007a4e").encode()},
		{"uppercase hex", click.PreparePath, prepareForm().set("sign_string", "32376EB058A625177008DBC4F7B5573D").encode()},
		// SPEC §5.8's request, byte for byte (sign_time with + and %3A).
		{"spec 5.8 example", click.PreparePath, "click_trans_id=2100000001&service_id=12345&click_paydoc_id=3100000001&merchant_trans_id=1001" +
			"&amount=50000.00&action=0&error=0&error_note=Success&sign_time=2025-06-01+12%3A00%3A00" +
			"&sign_string=32376eb058a625177008dbc4f7b5573d"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := configured(t)
			out := fx.post(t, tc.path, tc.body)
			expectCode(t, out, 0)
		})
	}
}

func TestPrepare_SuccessAnswersExactlyLikeTheSpec(t *testing.T) {
	fx := configured(t)
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, click.PreparePath, strings.NewReader(prepareForm().sign(testSecret).encode()))
	rec := httptest.NewRecorder()
	fx.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"click_trans_id":2100000001,"merchant_trans_id":"1001","merchant_prepare_id":1,"error":0,"error_note":"Success"}`, rec.Body.String())

	require.Len(t, fx.prepare.calls, 1)
	assert.Equal(t, payments.ClickPrepareInput{ClickTransID: 2100000001, ClickPaydocID: 3100000001, ServiceID: 12345,
		MerchantTransID: "1001", Amount: 5_000_000, AmountRaw: "50000.00"}, fx.prepare.calls[0])
	assert.Equal(t, []string{"click/prepared"}, fx.metrics.outcomes)
}

func TestComplete_SuccessAnswersExactlyLikeTheSpec(t *testing.T) {
	fx := configured(t)
	fx.complete.res = payments.ClickCompleteResult{ConfirmID: 1}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, click.CompletePath, strings.NewReader(completeForm().sign(testSecret).encode()))
	rec := httptest.NewRecorder()
	fx.e.ServeHTTP(rec, req)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"click_trans_id":2100000001,"merchant_trans_id":"1001","merchant_confirm_id":1,"error":0,"error_note":"Success"}`, rec.Body.String())

	require.Len(t, fx.complete.calls, 1)
	assert.Equal(t, payments.ClickCompleteInput{ClickTransID: 2100000001, MerchantTransID: "1001", PrepareID: 1,
		Amount: 5_000_000, ClickError: 0}, fx.complete.calls[0])
	assert.Equal(t, []string{"click/confirmed"}, fx.metrics.outcomes)
}

func TestMalformedRequestsAreMinus8WithoutReachingTheUseCase(t *testing.T) {
	type tc struct {
		path, name string
		body       string
	}
	var cases []tc
	for _, path := range []string{click.PreparePath, click.CompletePath} {
		base := prepareForm()
		required := []string{"click_trans_id", "service_id", "click_paydoc_id", "merchant_trans_id", "amount", "action", "error", "sign_time", "sign_string"}
		if path == click.CompletePath {
			base = completeForm()
			required = append(required, "merchant_prepare_id")
		}
		signed := base.sign(testSecret)
		for _, f := range required {
			// Signed over what is left, so only the missing field is wrong.
			without, empty := base.without(f).sign(testSecret), base.set(f, "").sign(testSecret)
			if f == "sign_string" {
				without, empty = base, base.set(f, "")
			}
			cases = append(cases, tc{path, "without " + f, without.encode()}, tc{path, "empty " + f, empty.encode()})
		}
		bad := map[string][]string{
			"click_trans_id":  {"abc", "-1", "0", "+5", "1.5", "99999999999999999999", " 1"},
			"service_id":      {"abc", "-12345", "12345.0", "54321", "012346"},
			"click_paydoc_id": {"x", "-3"},
			"action":          {"x", "1.0", "+0", "99999999999"},
			"error":           {"x", "1", "+0", "-1.5"},
			"amount":          {"abc", "50 000", "50,000.00", "1e5", "50000.", ".5", "+50000", "--5", "-", "0x10", strings.Repeat("1", 65)},
		}
		if path == click.CompletePath {
			bad["merchant_prepare_id"] = []string{"x", "0", "-1"}
		}
		for field, values := range bad {
			for _, v := range values {
				cases = append(cases, tc{path, fmt.Sprintf("%s=%q", field, v), base.set(field, v).sign(testSecret).encode()})
			}
		}
		cases = append(cases,
			tc{path, "repeated field", signed.encode() + "&amount=50000.00"},
			tc{path, "repeated error_note", signed.encode() + "&error_note=x"},
			tc{path, "bad escape", signed.encode() + "&x=%zz"},
			tc{path, "semicolon", strings.Replace(signed.encode(), "&", ";", 1)},
			tc{path, "json", `{"click_trans_id":2100000001}`},
			tc{path, "empty", ""},
		)
	}
	for _, c := range cases {
		t.Run(endpoint(c.path)+" "+c.name, func(t *testing.T) {
			fx := configured(t)
			out := fx.post(t, c.path, c.body)
			expectCode(t, out, -8)
			assert.Nil(t, out[idKeyOf(c.path)])
			if want, ok := echoedClickTransID[c.name]; ok {
				assert.EqualValues(t, want, out["click_trans_id"], "click_trans_id echoed as sent")
			}
			assert.Empty(t, fx.prepare.calls)
			assert.Empty(t, fx.complete.calls)
			assert.Equal(t, []string{"click/rejected"}, fx.metrics.outcomes)
		})
	}
}

// echoedClickTransID is what the -8 answers above echo for some malformed
// click_trans_id values: the integer Click sent, or 0 for no integer.
var echoedClickTransID = map[string]int64{
	`click_trans_id="-1"`: -1, `click_trans_id="0"`: 0, `click_trans_id="abc"`: 0, `click_trans_id="1.5"`: 0,
	`without service_id`: 2100000001,
}

// endpoint names a webhook path in a subtest name by its last segment: a
// slash would split the name into levels that -run matches one by one.
func endpoint(path string) string { return path[strings.LastIndex(path, "/")+1:] }

func idKeyOf(path string) string {
	if path == click.CompletePath {
		return "merchant_confirm_id"
	}
	return "merchant_prepare_id"
}

func TestBodyOver1MiBIsMinus8(t *testing.T) {
	fx := configured(t)
	body := prepareForm().sign(testSecret).encode() + "&pad=" + strings.Repeat("a", webhook.MaxBodyBytes)
	out := fx.post(t, click.PreparePath, body)
	expectCode(t, out, -8)
	assert.Empty(t, fx.prepare.calls)

	// Exactly 1 MiB is still read.
	fx = configured(t)
	body = prepareForm().sign(testSecret).encode() + "&pad="
	body += strings.Repeat("a", webhook.MaxBodyBytes-len(body))
	require.Len(t, body, webhook.MaxBodyBytes)
	expectCode(t, fx.post(t, click.PreparePath, body), 0)
}

func TestBadSignatureIsMinus1(t *testing.T) {
	cases := map[string]string{
		"wrong secret":          prepareForm().sign("OTHER").encode(),
		"garbage":               prepareForm().set("sign_string", "x").encode(),
		"amount changed":        prepareForm().sign(testSecret).set("amount", "1.00").encode(),
		"amount reformatted":    prepareForm().sign(testSecret).set("amount", "50000").encode(),
		"order changed":         prepareForm().sign(testSecret).set("merchant_trans_id", "1002").encode(),
		"sign_time changed":     prepareForm().sign(testSecret).set("sign_time", "2025-06-01 12:00:01").encode(),
		"signature with prefix": prepareForm().sign(testSecret).set("sign_string", "0"+prepareForm().sign(testSecret).get("sign_string")).encode(),
	}
	for name, body := range cases {
		t.Run(name, func(t *testing.T) {
			fx := configured(t)
			out := fx.post(t, click.PreparePath, body)
			expectCode(t, out, -1)
			assert.Nil(t, out["merchant_prepare_id"])
			assert.Empty(t, fx.prepare.calls)
		})
	}
	t.Run("complete signs merchant_prepare_id", func(t *testing.T) {
		fx := configured(t)
		body := completeForm().sign(testSecret).set("merchant_prepare_id", "2").encode()
		expectCode(t, fx.post(t, click.CompletePath, body), -1)
		assert.Empty(t, fx.complete.calls)
	})
	t.Run("prepare has no merchant_prepare_id term", func(t *testing.T) {
		// A Prepare that happens to carry merchant_prepare_id is still signed without it.
		fx := configured(t)
		body := prepareForm().set("sign_string", "32376eb058a625177008dbc4f7b5573d").set("merchant_prepare_id", "9").encode()
		expectCode(t, fx.post(t, click.PreparePath, body), 0)
	})
}

func TestNotConfiguredRefusesEverything(t *testing.T) {
	t.Run("no service id", func(t *testing.T) {
		fx := newFixture(t, click.Config{SecretKey: testSecret})
		expectCode(t, fx.post(t, click.PreparePath, prepareForm().sign(testSecret).encode()), -8)
	})
	t.Run("no secret", func(t *testing.T) {
		fx := newFixture(t, click.Config{ServiceID: testServiceID})
		// Signed with the empty secret: must not pass.
		expectCode(t, fx.post(t, click.PreparePath, prepareForm().sign("").encode()), -1)
		assert.Empty(t, fx.prepare.calls)
	})
}

func TestWrongActionIsMinus3AfterTheSignature(t *testing.T) {
	cases := []struct {
		name, path string
		f          form
		want       int
	}{
		{"complete action on prepare", click.PreparePath, prepareForm().set("action", "1"), -3},
		{"prepare action on complete", click.CompletePath, completeForm().set("action", "0"), -3},
		{"unknown action", click.PreparePath, prepareForm().set("action", "2"), -3},
		{"negative action", click.CompletePath, completeForm().set("action", "-1"), -3},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fx := configured(t)
			expectCode(t, fx.post(t, tc.path, tc.f.sign(testSecret).encode()), tc.want)
			// Unsigned, the signature answers first.
			expectCode(t, fx.post(t, tc.path, tc.f.sign("OTHER").encode()), -1)
			assert.Empty(t, fx.prepare.calls)
			assert.Empty(t, fx.complete.calls)
		})
	}
}

func TestProtocolOrder_MalformedBeforeSignature(t *testing.T) {
	fx := configured(t)
	body := prepareForm().set("amount", "abc").sign("OTHER").encode()
	expectCode(t, fx.post(t, click.PreparePath, body), -8)
	body = prepareForm().set("service_id", "999").sign("OTHER").encode()
	expectCode(t, fx.post(t, click.PreparePath, body), -8)
}

func TestAmountsReachTheUseCaseExactly(t *testing.T) {
	cases := map[string]int64{
		"50000": 5_000_000, "50000.00": 5_000_000, "50000.5": 5_000_050, "50000.50": 5_000_050,
		"0.01": 1, "0": 0, "0.00": 0, "-50000.00": -5_000_000, "-0": 0, "50000.500": 5_000_050,
		// Numbers that are no whole tiyin or overflow int64: still numbers,
		// so -2 (API.md), passed on as an amount no order total can equal.
		"50000.001": math.MinInt64, "-0.001": math.MinInt64, "99999999999999999999": math.MinInt64,
	}
	for raw, tiyin := range cases {
		t.Run(raw, func(t *testing.T) {
			fx := configured(t)
			fx.prepare.err = payment.ErrAmountMismatch // whatever the use case says
			out := fx.post(t, click.PreparePath, prepareForm().set("amount", raw).sign(testSecret).encode())
			expectCode(t, out, -2)
			require.Len(t, fx.prepare.calls, 1)
			assert.Equal(t, tiyin, fx.prepare.calls[0].Amount)
			assert.Equal(t, raw, fx.prepare.calls[0].AmountRaw)
		})
	}
}

func TestUseCaseErrorsMapToClicksCodes(t *testing.T) {
	cases := []struct {
		err  error
		want int
	}{
		{order.ErrNotFound, -5},
		{fmt.Errorf("wrapped: %w", order.ErrNotFound), -5},
		{payment.ErrNotFound, -6},
		{payments.ErrClickAttemptMismatch, -6},
		{payment.ErrAlreadyPaid, -4},
		{payment.ErrAmountMismatch, -2},
		{payment.ErrClickCancelled, -9},
		{errors.New("connection refused"), -7},
		{context.DeadlineExceeded, -7},
	}
	for _, tc := range cases {
		t.Run(tc.err.Error(), func(t *testing.T) {
			fx := configured(t)
			fx.prepare.err, fx.complete.err = tc.err, tc.err
			out := fx.post(t, click.PreparePath, prepareForm().sign(testSecret).encode())
			expectCode(t, out, tc.want)
			assert.Nil(t, out["merchant_prepare_id"])
			assert.EqualValues(t, 2100000001, out["click_trans_id"])
			assert.Equal(t, "1001", out["merchant_trans_id"])

			out = fx.post(t, click.CompletePath, completeForm().sign(testSecret).encode())
			expectCode(t, out, tc.want)
			assert.Nil(t, out["merchant_confirm_id"])

			want := "click/rejected"
			if tc.want == -7 {
				want = "click/error"
			}
			assert.Equal(t, []string{want, want}, fx.metrics.outcomes)
		})
	}
}

func TestComplete_RepeatedSuccessGetsTheStoredConfirmID(t *testing.T) {
	fx := configured(t)
	fx.complete.res, fx.complete.err = payments.ClickCompleteResult{ConfirmID: 77}, payment.ErrAlreadyPaid
	out := fx.post(t, click.CompletePath, completeForm().sign(testSecret).encode())
	expectCode(t, out, -4)
	assert.EqualValues(t, 77, out["merchant_confirm_id"])
}

func TestComplete_ClickCancelIsMinus9AndCounted(t *testing.T) {
	fx := configured(t)
	fx.complete.err = payment.ErrClickCancelled
	out := fx.post(t, click.CompletePath, completeForm().set("error", "-5017").set("error_note", "cancelled").sign(testSecret).encode())
	expectCode(t, out, -9)
	assert.Nil(t, out["merchant_confirm_id"])
	require.Len(t, fx.complete.calls, 1)
	assert.Equal(t, -5017, fx.complete.calls[0].ClickError)
	assert.Equal(t, []string{"click/cancelled"}, fx.metrics.outcomes)
	assert.NotContains(t, fx.logs.String(), "ALERT")
}

// A cancel of a confirmed payment refunds nothing by itself (it waits for
// Click's Merchant API), but it is an alert: the order must not ship.
func TestComplete_CancelAfterConfirmRaisesAnAlert(t *testing.T) {
	fx := configured(t)
	fx.complete.res = payments.ClickCompleteResult{CancelledAfterConfirm: true, CancelUnverified: true}
	fx.complete.err = payment.ErrClickCancelled
	out := fx.post(t, click.CompletePath, completeForm().set("error", "-1").sign(testSecret).encode())
	expectCode(t, out, -9)
	assert.Equal(t, []string{"click/cancel_claimed"}, fx.metrics.outcomes)
	logs := fx.logs.String()
	assert.Contains(t, logs, `"msg":"ALERT: click cancelled a confirmed payment; the order stays paid until Click's Merchant API confirms it"`)
	assert.Contains(t, logs, `"alert":true`)
	assert.Contains(t, logs, `"unverified_issue_opened":true`)
}

// A cancel whose database write rolled back is our failure (-7): counted
// as an error and not logged as a refund, whatever the result says.
func TestComplete_CancelThatFailedIsAnErrorNotARefund(t *testing.T) {
	fx := configured(t)
	fx.complete.res = payments.ClickCompleteResult{CancelledAfterConfirm: true}
	fx.complete.err = errors.New("update click transaction: connection reset")
	out := fx.post(t, click.CompletePath, completeForm().set("error", "-5017").sign(testSecret).encode())
	expectCode(t, out, -7)
	assert.Equal(t, []string{"click/error"}, fx.metrics.outcomes)
	assert.NotContains(t, fx.logs.String(), "ALERT")
}

func TestPanicInTheUseCaseIsMinus7(t *testing.T) {
	fx := configured(t)
	fx.prepare.panic = true
	out := fx.post(t, click.PreparePath, prepareForm().sign(testSecret).encode())
	expectCode(t, out, -7)
	assert.EqualValues(t, 2100000001, out["click_trans_id"], "the ids are still echoed")
	assert.Equal(t, "1001", out["merchant_trans_id"])
	assert.Equal(t, []string{"click/error"}, fx.metrics.outcomes)
}

func TestLogsNeverCarryTheSignatureOrTheSecret(t *testing.T) {
	fx := configured(t)
	signed := prepareForm().sign(testSecret)
	fx.post(t, click.PreparePath, signed.encode())
	fx.post(t, click.PreparePath, prepareForm().sign("OTHER").encode())
	fx.prepare.err = errors.New("db down")
	fx.post(t, click.PreparePath, signed.encode())
	logs := fx.logs.String()
	require.NotEmpty(t, logs)
	assert.NotContains(t, logs, signed.get("sign_string"))
	assert.NotContains(t, logs, prepareForm().sign("OTHER").get("sign_string"))
	assert.NotContains(t, logs, testSecret)
	assert.NotContains(t, logs, "sign_string")
	assert.Contains(t, logs, `"click_trans_id":2100000001`)
}

// The logs name an attempt by our UUID, the id GET /api/payments and the
// settlements show, next to Click's integer for it.
func TestLogsNameTheAttemptByItsUUID(t *testing.T) {
	fx := configured(t)
	expectCode(t, fx.post(t, click.PreparePath, prepareForm().sign(testSecret).encode()), 0)
	fx.complete.res = payments.ClickCompleteResult{AttemptID: "6512bd43-d9ca-46e0-8c1b-b0a4c3d7e5f6", ConfirmID: 1}
	expectCode(t, fx.post(t, click.CompletePath, completeForm().sign(testSecret).encode()), 0)

	lines := strings.Split(strings.TrimSpace(fx.logs.String()), "\n")
	require.Len(t, lines, 2)
	assert.Contains(t, lines[0], `"transaction_id":"4b227777-d4dd-4fc6-9c6e-6a2e9d2a1f01"`)
	assert.Contains(t, lines[1], `"transaction_id":"6512bd43-d9ca-46e0-8c1b-b0a4c3d7e5f6"`)
}

// Register routes what production routes (the app calls it too): Click's
// format on both paths whatever the method, -8 for any but POST, without
// running a use case, even for a correctly signed query string.
func TestRegisterAnswersEveryMethodInClicksFormat(t *testing.T) {
	fx := configured(t)
	for _, path := range []string{click.PreparePath, click.CompletePath} {
		t.Run(endpoint(path), func(t *testing.T) {
			form := prepareForm()
			if path == click.CompletePath {
				form = completeForm()
			}
			signed := form.sign(testSecret).encode()
			for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodPatch, http.MethodDelete} {
				t.Run(m, func(t *testing.T) {
					req := httptest.NewRequestWithContext(context.Background(), m, path+"?"+signed, strings.NewReader(signed))
					req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
					rec := httptest.NewRecorder()
					fx.e.ServeHTTP(rec, req)
					require.Equal(t, http.StatusOK, rec.Code, "%s %s", m, path)
					assert.True(t, strings.HasPrefix(rec.Header().Get(echo.HeaderContentType), "application/json"))
					var out map[string]any
					require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &out), rec.Body.String())
					expectCode(t, out, -8)
				})
			}
			req := httptest.NewRequestWithContext(context.Background(), http.MethodHead, path, nil)
			rec := httptest.NewRecorder()
			fx.e.ServeHTTP(rec, req)
			assert.Equal(t, http.StatusOK, rec.Code, "HEAD %s", path)
			expectCode(t, fx.post(t, path, "x=1"), -8)
		})
	}
	assert.Empty(t, fx.prepare.calls)
	assert.Empty(t, fx.complete.calls)
}
