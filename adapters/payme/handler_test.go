package payme_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/payme"
	"github.com/ultramarket/gateway/adapters/webhook"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/test/testsupport"
)

const (
	login   = "Paycom"
	key     = "3c0d4e5f6a7b8c9d0e1f2a3b4c5d6e7f8a9b" // 36 characters, like a cashbox key
	orderID = "5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"
	txID    = "8d4e5f6a-7b8c-4d9e-9f0a-2b3c4d5e6f7a"
	pid     = "5305e3bab097f420a62ced0b"
)

var (
	goodAuth  = basic(login, key)
	total     = money.MustTiyin(5_000_000)
	reasonRef = payment.ReasonRefund
)

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// fixture is the webhook registered on an Echo, as the app registers it, that
// derives the client IP from the peer address only, as the app does without
// TRUSTED_PROXIES.
type fixture struct {
	e       *echo.Echo
	metrics *recordedMetrics
	logs    *bytes.Buffer
}

func newFixture(t *testing.T, cfg payme.Config, uc payme.UseCases) *fixture {
	t.Helper()
	f := &fixture{e: echo.New(), metrics: newRecordedMetrics(), logs: &bytes.Buffer{}}
	f.e.IPExtractor = echo.ExtractIPDirect()
	if cfg.Login == "" && cfg.Key == "" {
		cfg.Login, cfg.Key = login, key
	}
	cfg.Logger = slog.New(slog.NewJSONHandler(f.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	payme.NewWebhook(cfg, uc, f.metrics).Register(f.e)
	return f
}

// call is one request: body as sent, Basic credentials (goodAuth unless set),
// client address.
type call struct {
	method, body, auth, remote string
	noAuth                     bool
	reader                     io.Reader // the body, instead of body
}

func (f *fixture) do(t *testing.T, c call) (int, []byte) {
	t.Helper()
	if c.method == "" {
		c.method = http.MethodPost
	}
	var body io.Reader = strings.NewReader(c.body)
	if c.reader != nil {
		body = c.reader
	}
	req := httptest.NewRequestWithContext(t.Context(), c.method, payme.Route, body)
	req.Header.Set("Content-Type", "text/json; charset=UTF-8") // as Payme's docs send it
	switch {
	case c.noAuth:
	case c.auth != "":
		req.Header.Set("Authorization", c.auth)
	default:
		req.Header.Set("Authorization", goodAuth)
	}
	if c.remote != "" {
		req.RemoteAddr = c.remote
	}
	rec := httptest.NewRecorder()
	f.e.ServeHTTP(rec, req)
	return rec.Code, rec.Body.Bytes()
}

func (f *fixture) post(t *testing.T, body string) envelope {
	t.Helper()
	return f.send(t, call{body: body})
}

func (f *fixture) send(t *testing.T, c call) envelope {
	t.Helper()
	status, body := f.do(t, c)
	require.Equal(t, http.StatusOK, status, "Payme always gets HTTP 200")
	return parseEnvelope(t, body)
}

// envelope is a parsed answer, checked against the JSON-RPC shape.
type envelope struct {
	raw    []byte
	ID     json.RawMessage
	Result json.RawMessage
	Error  *struct {
		Code    int               `json:"code"`
		Message map[string]string `json:"message"`
		Data    json.RawMessage   `json:"data"`
	}
}

func parseEnvelope(t *testing.T, body []byte) envelope {
	t.Helper()
	var keys map[string]json.RawMessage
	require.NoError(t, json.Unmarshal(body, &keys), string(body))
	assert.Equal(t, `"2.0"`, string(keys["jsonrpc"]), string(body))
	_, hasID := keys["id"]
	assert.True(t, hasID, "every answer carries an id: %s", body)
	_, hasResult := keys["result"]
	_, hasError := keys["error"]
	assert.True(t, hasResult != hasError, "exactly one of result and error: %s", body)
	env := envelope{raw: body, ID: keys["id"], Result: keys["result"]}
	if hasError {
		require.NoError(t, json.Unmarshal(keys["error"], &env.Error))
		for _, lang := range []string{"ru", "uz", "en"} {
			assert.NotEmpty(t, env.Error.Message[lang], "message.%s: %s", lang, body)
		}
		assert.Len(t, env.Error.Message, 3)
	}
	return env
}

func (e envelope) code(t *testing.T) int {
	t.Helper()
	require.NotNil(t, e.Error, "expected an error: %s", e.raw)
	return e.Error.Code
}

func (e envelope) data() string {
	if e.Error == nil || e.Error.Data == nil {
		return ""
	}
	return string(e.Error.Data)
}

func expectError(t *testing.T, e envelope, code int, data string) {
	t.Helper()
	assert.Equal(t, code, e.code(t), string(e.raw))
	assert.Equal(t, data, e.data(), "error.data: %s", e.raw)
}

// rpc builds a request body.
func rpc(id any, method string, params any) string {
	b, err := json.Marshal(map[string]any{"id": id, "method": method, "params": params})
	if err != nil {
		panic(err)
	}
	return string(b)
}

func account() map[string]any { return map[string]any{"order_id": orderID} }

func storedTx(state payment.PaymeState) *payment.PaymeTransaction {
	var perform, cancel int64
	var reason *payment.Reason
	switch state {
	case payment.PaymePerformed:
		perform = 1399114285002
	case payment.PaymeCancelled:
		cancel, reason = 1399114286003, &reasonRef
	case payment.PaymeCancelledAfterPerform:
		perform, cancel, reason = 1399114285002, 1399114286003, &reasonRef
	}
	return payment.RestorePaymeTransaction(txID, pid, orderID, 1399114284039, total,
		map[string]string{"order_id": orderID}, state, reason, 1399114284040, perform, cancel)
}

// allUseCases answers every method successfully with fixed values.
func allUseCases() payme.UseCases {
	return payme.UseCases{
		CheckPerformTransaction: checkPerformFunc(func(context.Context, payments.PaymeCheckPerformInput) error { return nil }),
		CreateTransaction: createFunc(func(context.Context, payments.PaymeCreateInput) (payments.PaymeResult, error) {
			return payments.PaymeResult{Tx: storedTx(payment.PaymeCreated), Changed: true}, nil
		}),
		PerformTransaction: performFunc(func(context.Context, string) (payments.PaymeResult, error) {
			return payments.PaymeResult{Tx: storedTx(payment.PaymePerformed), Changed: true}, nil
		}),
		CancelTransaction: cancelFunc(func(context.Context, string, payment.Reason) (payments.PaymeCancelResult, error) {
			return payments.PaymeCancelResult{PaymeResult: payments.PaymeResult{Tx: storedTx(payment.PaymeCancelledAfterPerform), Changed: true}}, nil
		}),
		CheckTransaction: checkFunc(func(context.Context, string) (*payment.PaymeTransaction, error) {
			return storedTx(payment.PaymePerformed), nil
		}),
		GetStatement: statementFunc(func(context.Context, int64, int64) ([]*payment.PaymeTransaction, error) {
			return []*payment.PaymeTransaction{}, nil
		}),
		SetFiscalData: fiscalFunc(func(context.Context, payments.PaymeFiscalInput) error { return nil }),
	}
}

// validCalls is one well-formed request per method.
var validCalls = map[string]string{
	"CheckPerformTransaction": rpc(1, "CheckPerformTransaction", map[string]any{"amount": 5000000, "account": account()}),
	"CreateTransaction": rpc(2, "CreateTransaction", map[string]any{"id": pid, "time": 1399114284039,
		"amount": 5000000, "account": account()}),
	"PerformTransaction": rpc(3, "PerformTransaction", map[string]any{"id": pid}),
	"CancelTransaction":  rpc(4, "CancelTransaction", map[string]any{"id": pid, "reason": 5}),
	"CheckTransaction":   rpc(5, "CheckTransaction", map[string]any{"id": pid}),
	"GetStatement":       rpc(6, "GetStatement", map[string]any{"from": 1399114284039, "to": 1399120284000}),
	"SetFiscalData": rpc(7, "SetFiscalData", map[string]any{"id": pid, "type": "PERFORM",
		"fiscal_data": map[string]any{"receipt_id": 121, "status_code": 0}}),
}

func TestResultShapesAreExactlyPaymes(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	want := map[string]string{
		"CheckPerformTransaction": `{"jsonrpc":"2.0","id":1,"result":{"allow":true}}`,
		"CreateTransaction":       `{"jsonrpc":"2.0","id":2,"result":{"create_time":1399114284040,"transaction":"` + txID + `","state":1}}`,
		"PerformTransaction":      `{"jsonrpc":"2.0","id":3,"result":{"transaction":"` + txID + `","perform_time":1399114285002,"state":2}}`,
		"CancelTransaction":       `{"jsonrpc":"2.0","id":4,"result":{"transaction":"` + txID + `","cancel_time":1399114286003,"state":-2}}`,
		"CheckTransaction": `{"jsonrpc":"2.0","id":5,"result":{"create_time":1399114284040,"perform_time":1399114285002,` +
			`"cancel_time":0,"transaction":"` + txID + `","state":2,"reason":null}}`,
		"GetStatement":  `{"jsonrpc":"2.0","id":6,"result":{"transactions":[]}}`,
		"SetFiscalData": `{"jsonrpc":"2.0","id":7,"result":{"success":true}}`,
	}
	for method, body := range validCalls {
		t.Run(method, func(t *testing.T) {
			status, got := f.do(t, call{body: body})
			assert.Equal(t, http.StatusOK, status)
			assert.Equal(t, want[method], string(got))
		})
	}
}

func TestCheckTransactionReportsUnsetTimesAsZeroAndTheReason(t *testing.T) {
	uc := allUseCases()
	state := payment.PaymeCreated
	uc.CheckTransaction = checkFunc(func(context.Context, string) (*payment.PaymeTransaction, error) { return storedTx(state), nil })
	f := newFixture(t, payme.Config{}, uc)

	body := validCalls["CheckTransaction"]
	assert.JSONEq(t, `{"create_time":1399114284040,"perform_time":0,"cancel_time":0,"transaction":"`+txID+`","state":1,"reason":null}`,
		string(f.post(t, body).Result))
	state = payment.PaymeCancelled
	assert.JSONEq(t, `{"create_time":1399114284040,"perform_time":0,"cancel_time":1399114286003,"transaction":"`+txID+`","state":-1,"reason":5}`,
		string(f.post(t, body).Result))
}

func TestGetStatementListsTransactionsAsPaymeSentThem(t *testing.T) {
	uc := allUseCases()
	var gotFrom, gotTo int64
	uc.GetStatement = statementFunc(func(_ context.Context, from, to int64) ([]*payment.PaymeTransaction, error) {
		gotFrom, gotTo = from, to
		other := payment.RestorePaymeTransaction(txID, pid, orderID, 1399114284039, total,
			map[string]string{"order_id": orderID, "phone": "998901234567"}, payment.PaymeCreated, nil, 1399114284040, 0, 0)
		return []*payment.PaymeTransaction{other, storedTx(payment.PaymeCancelledAfterPerform)}, nil
	})
	f := newFixture(t, payme.Config{}, uc)

	status, body := f.do(t, call{body: validCalls["GetStatement"]})
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, int64(1399114284039), gotFrom)
	assert.Equal(t, int64(1399120284000), gotTo)
	assert.Equal(t, `{"jsonrpc":"2.0","id":6,"result":{"transactions":[`+
		`{"id":"`+pid+`","time":1399114284039,"amount":5000000,"account":{"order_id":"`+orderID+`","phone":"998901234567"},`+
		`"create_time":1399114284040,"perform_time":0,"cancel_time":0,"transaction":"`+txID+`","state":1,"reason":null,"receivers":null},`+
		`{"id":"`+pid+`","time":1399114284039,"amount":5000000,"account":{"order_id":"`+orderID+`"},`+
		`"create_time":1399114284040,"perform_time":1399114285002,"cancel_time":1399114286003,"transaction":"`+txID+`","state":-2,"reason":5,"receivers":null}`+
		`]}}`, string(body))

	_, again := f.do(t, call{body: validCalls["GetStatement"]})
	assert.Equal(t, body, again, "the same data gives the same bytes")
}

func TestParamsReachTheUseCasesDecoded(t *testing.T) {
	uc := allUseCases()
	var check payments.PaymeCheckPerformInput
	var create payments.PaymeCreateInput
	var performID, cancelID, checkID string
	var reason payment.Reason
	var fiscal payments.PaymeFiscalInput
	uc.CheckPerformTransaction = checkPerformFunc(func(_ context.Context, in payments.PaymeCheckPerformInput) error {
		check = in
		return nil
	})
	uc.CreateTransaction = createFunc(func(_ context.Context, in payments.PaymeCreateInput) (payments.PaymeResult, error) {
		create = in
		return payments.PaymeResult{Tx: storedTx(payment.PaymeCreated)}, nil
	})
	uc.PerformTransaction = performFunc(func(_ context.Context, id string) (payments.PaymeResult, error) {
		performID = id
		return payments.PaymeResult{Tx: storedTx(payment.PaymePerformed)}, nil
	})
	uc.CancelTransaction = cancelFunc(func(_ context.Context, id string, r payment.Reason) (payments.PaymeCancelResult, error) {
		cancelID, reason = id, r
		return payments.PaymeCancelResult{PaymeResult: payments.PaymeResult{Tx: storedTx(payment.PaymeCancelled)}}, nil
	})
	uc.CheckTransaction = checkFunc(func(_ context.Context, id string) (*payment.PaymeTransaction, error) {
		checkID = id
		return storedTx(payment.PaymeCreated), nil
	})
	uc.SetFiscalData = fiscalFunc(func(_ context.Context, in payments.PaymeFiscalInput) error {
		fiscal = in
		return nil
	})
	f := newFixture(t, payme.Config{}, uc)

	f.post(t, `{"method":"CheckPerformTransaction","params":{"amount":5000000,"account":{"order_id":"`+orderID+`","extra":"x"}},"id":1}`)
	assert.Equal(t, payments.PaymeCheckPerformInput{Amount: total, Account: map[string]string{"order_id": orderID, "extra": "x"}}, check)

	f.post(t, `{"method":"CreateTransaction","params":{"id":"`+pid+`","time":1399114284039,"amount":5000000,"account":{"order_id":"`+orderID+`"},"future":[1]},"id":2}`)
	assert.Equal(t, payments.PaymeCreateInput{PaymeID: pid, Time: 1399114284039, Amount: total,
		Account: map[string]string{"order_id": orderID}}, create)

	f.post(t, validCalls["PerformTransaction"])
	f.post(t, validCalls["CancelTransaction"])
	f.post(t, validCalls["CheckTransaction"])
	assert.Equal(t, pid, performID)
	assert.Equal(t, pid, cancelID)
	assert.Equal(t, payment.ReasonRefund, reason)
	assert.Equal(t, pid, checkID)

	f.post(t, `{"method":"SetFiscalData","params":{"id":"`+pid+`","type":"CANCEL","fiscal_data":{ "receipt_id" : 121 , "qr_code_url":"https://ofd.soliq.uz/check?t=1&r=2"}},"id":7}`)
	assert.Equal(t, pid, fiscal.PaymeID)
	assert.Equal(t, "CANCEL", string(fiscal.Kind))
	assert.JSONEq(t, `{"receipt_id":121,"qr_code_url":"https://ofd.soliq.uz/check?t=1&r=2"}`, string(fiscal.Data))
}

func TestEveryAnswerIsHTTP200EvenForOtherHTTPMethods(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	for _, m := range []string{http.MethodGet, http.MethodPut, http.MethodDelete, http.MethodPatch} {
		t.Run(m, func(t *testing.T) {
			e := f.send(t, call{method: m, body: validCalls["CheckTransaction"]})
			expectError(t, e, payme.CodeMethodNotPost, "")
			assert.Equal(t, "null", string(e.ID))
		})
	}
}

func TestBodiesThatAreNotJSONOrTooLarge(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	for name, body := range map[string]string{
		"empty":          "",
		"garbage":        "hello",
		"truncated":      `{"method":"CheckTransaction","params":{"id":"x"},"id":1`,
		"trailing junk":  `{"method":"CheckTransaction","params":{"id":"x"},"id":1} x`,
		"two objects":    `{"id":1}{"id":2}`,
		"single quotes":  `{'method':'CheckTransaction'}`,
		"over 1 MiB":     `{"method":"CheckTransaction","params":{"id":"x"},"id":1,"pad":"` + strings.Repeat("x", webhook.MaxBodyBytes) + `"}`,
		"form post":      "method=CheckTransaction&id=1",
		"trailing comma": `{"method":"CheckTransaction","params":{"id":"x"},}`,
	} {
		t.Run(name, func(t *testing.T) {
			e := f.post(t, body)
			expectError(t, e, payme.CodeParseError, "")
			assert.Equal(t, "null", string(e.ID))
		})
	}
}

func TestBodyOfExactlyOneMiBIsRead(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	prefix := `{"method":"CheckTransaction","params":{"id":"` + pid + `"},"id":1,"pad":"`
	body := prefix + strings.Repeat("x", webhook.MaxBodyBytes-len(prefix)-2) + `"}`
	require.Len(t, body, webhook.MaxBodyBytes)
	e := f.post(t, body)
	assert.Nil(t, e.Error, string(e.raw))
}

func TestJSONThatIsNotARequestObject(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	for name, c := range map[string]struct{ body, data, id string }{
		"array":               {`[{"method":"CheckTransaction","params":{"id":"x"},"id":1}]`, "", "null"},
		"number":              {`42`, "", "null"},
		"string":              {`"CheckTransaction"`, "", "null"},
		"null":                {`null`, "", "null"},
		"no method":           {`{"params":{"id":"x"},"id":9}`, `"method"`, "9"},
		"method null":         {`{"method":null,"params":{"id":"x"},"id":9}`, `"method"`, "9"},
		"method not a string": {`{"method":7,"params":{"id":"x"},"id":9}`, `"method"`, "9"},
		"no params":           {`{"method":"CheckTransaction","id":"a"}`, `"params"`, `"a"`},
		"params array":        {`{"method":"CheckTransaction","params":[],"id":"a"}`, `"params"`, `"a"`},
		"params string":       {`{"method":"CheckTransaction","params":"{}","id":"a"}`, `"params"`, `"a"`},
		"params null":         {`{"method":"CheckTransaction","params":null,"id":"a"}`, `"params"`, `"a"`},
	} {
		t.Run(name, func(t *testing.T) {
			e := f.post(t, c.body)
			expectError(t, e, payme.CodeInvalidRequest, c.data)
			assert.Equal(t, c.id, string(e.ID))
		})
	}
}

func TestTheRequestIDIsEchoedWhateverItsType(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	for sent, echoed := range map[string]string{
		`2032`:                  `2032`,
		`-1`:                    `-1`,
		`1.5e3`:                 `1.5e3`,
		`123456789012345678901`: `123456789012345678901`,
		`"abc"`:                 `"abc"`,
		`null`:                  `null`,
		`{ "a" : [ 1 , 2 ] }`:   `{"a":[1,2]}`,
		`true`:                  `true`,
	} {
		t.Run(sent, func(t *testing.T) {
			body := `{"method":"CheckTransaction","params":{"id":"` + pid + `"},"id":` + sent + `}`
			e := f.post(t, body)
			assert.Nil(t, e.Error)
			assert.Equal(t, echoed, string(e.ID), "id %s", sent)

			// On errors too.
			bad := `{"method":"NoSuchMethod","params":{},"id":` + sent + `}`
			assert.Equal(t, echoed, string(f.post(t, bad).ID))
			// But an unauthenticated call is refused before its body, and so
			// its id, is read.
			assert.Equal(t, "null", string(f.send(t, call{body: body, noAuth: true}).ID))
		})
	}
	e := f.post(t, `{"method":"CheckTransaction","params":{"id":"`+pid+`"}}`)
	assert.Equal(t, "null", string(e.ID), "no id: null")
}

func TestCredentialsAreCheckedForEveryMethod(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	wrong := map[string]call{
		"no header":          {noAuth: true},
		"wrong key":          {auth: basic(login, key+"x")},
		"key prefix":         {auth: basic(login, key[:35])},
		"wrong login":        {auth: basic("paycom", key)},
		"empty key":          {auth: basic(login, "")},
		"swapped":            {auth: basic(key, login)},
		"bearer":             {auth: "Bearer " + base64.StdEncoding.EncodeToString([]byte(login+":"+key))},
		"not base64":         {auth: "Basic !!!"},
		"no colon":           {auth: "Basic " + base64.StdEncoding.EncodeToString([]byte(login+key))},
		"raw, not base64":    {auth: "Basic " + login + ":" + key},
		"test key elsewhere": {auth: basic(login, strings.ToUpper(key))},
	}
	methods := append([]string{"ChangePassword", "NoSuchMethod"}, keysOf(validCalls)...)
	for name, c := range wrong {
		t.Run(name, func(t *testing.T) {
			for _, method := range methods {
				t.Run(method, func(t *testing.T) {
					body, ok := validCalls[method]
					if !ok {
						body = rpc(8, method, map[string]any{})
					}
					c.body = body
					e := f.send(t, c)
					assert.Equal(t, payme.CodeInsufficientPrivs, e.code(t), "%s, %s", name, method)
				})
			}
		})
	}
	// Also before the params are looked at.
	c := call{body: rpc(1, "CreateTransaction", map[string]any{"amount": 1.5}), noAuth: true}
	expectError(t, f.send(t, c), payme.CodeInsufficientPrivs, "")
	// The scheme is case-insensitive (RFC 9110).
	c = call{body: validCalls["CheckTransaction"], auth: "basic " + strings.TrimPrefix(goodAuth, "Basic ")}
	assert.Nil(t, f.send(t, c).Error)
}

func TestAnEmptyConfiguredKeyLetsNobodyIn(t *testing.T) {
	f := newFixture(t, payme.Config{Login: login, Key: ""}, allUseCases())
	e := f.send(t, call{body: validCalls["CheckTransaction"], auth: basic(login, "")})
	expectError(t, e, payme.CodeInsufficientPrivs, "")
}

func TestTheAllowListIsCheckedOnTheClientIP(t *testing.T) {
	_, paymeNet, err := net.ParseCIDR("185.234.113.0/28")
	require.NoError(t, err)
	single := &net.IPNet{IP: net.ParseIP("10.0.0.7").To4(), Mask: net.CIDRMask(32, 32)}
	f := newFixture(t, payme.Config{Login: login, Key: key, AllowedIPs: []*net.IPNet{paymeNet, single}}, allUseCases())
	body := validCalls["CheckTransaction"]

	for _, ok := range []string{"185.234.113.1:40000", "185.234.113.15:1", "10.0.0.7:5"} {
		t.Run("allowed "+ok, func(t *testing.T) {
			assert.Nil(t, f.send(t, call{body: body, remote: ok}).Error, ok)
		})
	}
	for _, bad := range []string{"185.234.113.16:40000", "10.0.0.8:5", "127.0.0.1:1", "[::1]:1"} {
		t.Run("refused "+bad, func(t *testing.T) {
			expectError(t, f.send(t, call{body: body, remote: bad}), payme.CodeInsufficientPrivs, "")
		})
	}
	// Right address, wrong key: still refused.
	expectError(t, f.send(t, call{body: body, remote: "185.234.113.1:1", auth: basic(login, "nope")}), payme.CodeInsufficientPrivs, "")
}

// Who calls is decided before the body is read (API.md), so a caller from
// elsewhere or without the key cannot make the service buffer a megabyte.
func TestRefusedCallersAreAnsweredWithoutReadingTheBody(t *testing.T) {
	_, paymeNet, err := net.ParseCIDR("185.234.113.0/28")
	require.NoError(t, err)
	f := newFixture(t, payme.Config{Login: login, Key: key, AllowedIPs: []*net.IPNet{paymeNet}}, allUseCases())
	for name, c := range map[string]call{
		"from elsewhere, right key":  {remote: "203.0.113.9:1"},
		"allowed address, wrong key": {remote: "185.234.113.1:1", auth: basic(login, key+"x")},
		"allowed address, no key":    {remote: "185.234.113.1:1", noAuth: true},
	} {
		t.Run(name, func(t *testing.T) {
			body := &testsupport.RecordingBody{Size: 2 << 20} // over 1 MiB
			c.reader = body
			e := f.send(t, c)
			expectError(t, e, payme.CodeInsufficientPrivs, "")
			assert.Equal(t, "null", string(e.ID), name)
			assert.False(t, body.WasRead(), "%s: the body was read", name)
		})
	}
	// The same body from Payme is read, and refused for its size.
	body := &testsupport.RecordingBody{Size: 2 << 20}
	expectError(t, f.send(t, call{remote: "185.234.113.1:1", reader: body}), payme.CodeParseError, "")
	assert.True(t, body.WasRead())
}

func TestUnknownMethods(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	for _, method := range []string{"ChangePassword", "checkTransaction", "", "receipts.create", "CheckTransaction "} {
		t.Run(fmt.Sprintf("%q", method), func(t *testing.T) {
			e := f.post(t, rpc(3, method, map[string]any{"password": "new"}))
			data, _ := json.Marshal(method)
			expectError(t, e, payme.CodeMethodNotFound, string(data))
		})
	}
}

func TestAMethodWithoutItsUseCaseIsUnknown(t *testing.T) {
	uc := allUseCases()
	uc.SetFiscalData = nil
	f := newFixture(t, payme.Config{}, uc)
	expectError(t, f.post(t, validCalls["SetFiscalData"]), payme.CodeMethodNotFound, `"SetFiscalData"`)
}

func TestParamsAreDecodedStrictly(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	acct := `{"order_id":"` + orderID + `"}`
	type bad struct {
		params string
		code   int
		data   string
	}
	cases := map[string][]bad{
		"CheckPerformTransaction": {
			{`{"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":null,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":1.5,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":100.0,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":1e2,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":"100","account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":0,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":-1,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":-0,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":true,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":9223372036854775808,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"amount":100}`, payme.CodeInvalidRequest, `"account"`},
			{`{"amount":100,"account":null}`, payme.CodeInvalidRequest, `"account"`},
			{`{"amount":100,"account":[]}`, payme.CodeInvalidRequest, `"account"`},
			{`{"amount":100,"account":"` + orderID + `"}`, payme.CodeInvalidRequest, `"account"`},
			{`{"amount":100,"account":{"order_id":"` + orderID + `","n":1}}`, payme.CodeInvalidRequest, `"account"`},
			{`{"amount":100,"account":{"order_id":"` + orderID + `","n":"a\u0000b"}}`, payme.CodeInvalidRequest, `"account"`},
			{`{"amount":100,"account":{}}`, payme.CodeAccountNotFound, `"order_id"`},
			{`{"amount":100,"account":{"phone":"998901234567"}}`, payme.CodeAccountNotFound, `"order_id"`},
			{`{"amount":100,"account":{"order_id":1001}}`, payme.CodeAccountNotFound, `"order_id"`},
			{`{"amount":100,"account":{"order_id":null}}`, payme.CodeAccountNotFound, `"order_id"`},
			{`{"amount":100,"account":{"order_id":"a\u0000"}}`, payme.CodeAccountNotFound, `"order_id"`},
			// Protocol errors come before the account's.
			{`{"amount":1.5,"account":{}}`, payme.CodeInvalidRequest, `"amount"`},
		},
		"CreateTransaction": {
			{`{"time":1399114284039,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":"","time":1399114284039,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":5305,"time":1399114284039,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":"` + strings.Repeat("a", 65) + `","time":1399114284039,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":"a\u0000b","time":1399114284039,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":"` + pid + `","amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"time"`},
			{`{"id":"` + pid + `","time":"1399114284039","amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"time"`},
			{`{"id":"` + pid + `","time":0,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"time"`},
			{`{"id":"` + pid + `","time":-5,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"time"`},
			{`{"id":"` + pid + `","time":1399114284039.5,"amount":100,"account":` + acct + `}`, payme.CodeInvalidRequest, `"time"`},
			{`{"id":"` + pid + `","time":1399114284039,"amount":1.5,"account":` + acct + `}`, payme.CodeInvalidRequest, `"amount"`},
			{`{"id":"` + pid + `","time":1399114284039,"amount":100,"account":{}}`, payme.CodeAccountNotFound, `"order_id"`},
		},
		"PerformTransaction": {
			{`{}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":null}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":["` + pid + `"]}`, payme.CodeInvalidRequest, `"id"`},
		},
		"CancelTransaction": {
			{`{"reason":5}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":"` + pid + `"}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":0}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":6}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":11}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":-4}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":"5"}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":5.0}`, payme.CodeInvalidRequest, `"reason"`},
			{`{"id":"` + pid + `","reason":99999999999999999999}`, payme.CodeInvalidRequest, `"reason"`},
		},
		"CheckTransaction": {
			{`{}`, payme.CodeInvalidRequest, `"id"`},
			{`{"id":""}`, payme.CodeInvalidRequest, `"id"`},
		},
		"GetStatement": {
			{`{"to":2}`, payme.CodeInvalidRequest, `"from"`},
			{`{"from":1}`, payme.CodeInvalidRequest, `"to"`},
			{`{"from":-1,"to":2}`, payme.CodeInvalidRequest, `"from"`},
			{`{"from":1,"to":2.5}`, payme.CodeInvalidRequest, `"to"`},
			{`{"from":"1","to":2}`, payme.CodeInvalidRequest, `"from"`},
		},
		"SetFiscalData": {
			{`{"type":"PERFORM","fiscal_data":{}}`, payme.CodeInvalidParams, `"id"`},
			{`{"id":"` + pid + `","fiscal_data":{}}`, payme.CodeInvalidParams, `"type"`},
			{`{"id":"` + pid + `","type":"REFUND","fiscal_data":{}}`, payme.CodeInvalidParams, `"type"`},
			{`{"id":"` + pid + `","type":"perform","fiscal_data":{}}`, payme.CodeInvalidParams, `"type"`},
			{`{"id":"` + pid + `","type":"PERFORM"}`, payme.CodeInvalidParams, `"fiscal_data"`},
			{`{"id":"` + pid + `","type":"PERFORM","fiscal_data":[]}`, payme.CodeInvalidParams, `"fiscal_data"`},
			{`{"id":"` + pid + `","type":"PERFORM","fiscal_data":{"a":"\u0000"}}`, payme.CodeInvalidParams, `"fiscal_data"`},
		},
	}
	for method, bads := range cases {
		t.Run(method, func(t *testing.T) {
			for _, b := range bads {
				t.Run(b.params, func(t *testing.T) {
					e := f.post(t, `{"method":"`+method+`","params":`+b.params+`,"id":1}`)
					assert.Equal(t, b.code, e.code(t), "%s %s: %s", method, b.params, e.raw)
					assert.Equal(t, b.data, e.data(), "%s %s", method, b.params)
				})
			}
		})
	}
}

func TestParamsAtTheirLimitsAreAccepted(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	for _, body := range []string{
		`{"method":"CheckPerformTransaction","params":{"amount":1,"account":{"order_id":"x"}},"id":1}`,
		`{"method":"CheckPerformTransaction","params":{"amount":9223372036854775807,"account":{"order_id":"x"}},"id":1}`,
		`{"method":"CheckTransaction","params":{"id":"` + strings.Repeat("я", 64) + `"},"id":1}`,
		`{"method":"GetStatement","params":{"from":0,"to":0},"id":1}`,
		`{"method":"CancelTransaction","params":{"id":"a","reason":1},"id":1}`,
		`{"method":"CancelTransaction","params":{"id":"a","reason":10},"id":1}`,
		`{"method":"CheckTransaction","params":{"id":"a","unknown":{"x":[1,2]}},"id":1,"jsonrpc":"2.0"}`,
		` {"method":"CheckTransaction","params":{"id":"a"},"id":1} `,
	} {
		t.Run(body, func(t *testing.T) {
			e := f.post(t, body)
			assert.Nil(t, e.Error, "%s: %s", body, e.raw)
		})
	}
}

func TestUseCaseErrorsMapToPaymesCodes(t *testing.T) {
	cases := []struct {
		err  error
		code int
		data string
	}{
		{payments.ErrPaymeOrderNotFound, payme.CodeAccountNotFound, `"order_id"`},
		{payment.ErrAmountMismatch, payme.CodeWrongAmount, ""},
		{payment.ErrNotFound, payme.CodeTxNotFound, ""},
		{payment.ErrCannotCancel, payme.CodeCannotCancel, ""},
		{order.ErrNotPayable, payme.CodeCannotPerform, ""},
		{payment.ErrOrderHeld, payme.CodeCannotPerform, ""},
		{payment.ErrBadState, payme.CodeCannotPerform, ""},
		{payment.ErrTimedOut, payme.CodeCannotPerform, ""},
		{payment.ErrAlreadyPaid, payme.CodeCannotPerform, ""},
		{payment.ErrDuplicate, payme.CodeCannotPerform, ""},
		{errors.New("connection refused"), payme.CodeSystemError, ""},
		{fmt.Errorf("db: %w", domain.ErrUnavailable), payme.CodeSystemError, ""},
		{context.DeadlineExceeded, payme.CodeSystemError, ""},
		{order.ErrNotFound, payme.CodeSystemError, ""}, // only the account's order is -31050
		{order.ErrIllegalTransition, payme.CodeSystemError, ""},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			wrapped := fmt.Errorf("use case: %w", c.err)
			uc := payme.UseCases{
				CheckPerformTransaction: checkPerformFunc(func(context.Context, payments.PaymeCheckPerformInput) error { return wrapped }),
				CreateTransaction: createFunc(func(context.Context, payments.PaymeCreateInput) (payments.PaymeResult, error) {
					return payments.PaymeResult{}, wrapped
				}),
				PerformTransaction: performFunc(func(context.Context, string) (payments.PaymeResult, error) {
					return payments.PaymeResult{}, wrapped
				}),
				CancelTransaction: cancelFunc(func(context.Context, string, payment.Reason) (payments.PaymeCancelResult, error) {
					return payments.PaymeCancelResult{}, wrapped
				}),
				CheckTransaction: checkFunc(func(context.Context, string) (*payment.PaymeTransaction, error) { return nil, wrapped }),
				GetStatement: statementFunc(func(context.Context, int64, int64) ([]*payment.PaymeTransaction, error) {
					return nil, wrapped
				}),
			}
			f := newFixture(t, payme.Config{}, uc)
			for method, body := range validCalls {
				if method == "SetFiscalData" {
					continue
				}
				t.Run(method, func(t *testing.T) {
					e := f.post(t, body)
					assert.Equal(t, c.code, e.code(t), "%v from %s", c.err, method)
					assert.Equal(t, c.data, e.data(), "%v from %s", c.err, method)
				})
			}
		})
	}
}

func TestSetFiscalDataErrors(t *testing.T) {
	for _, c := range []struct {
		err  error
		code int
	}{
		{payments.ErrPaymeReceiptNotFound, payme.CodeReceiptNotFound},
		{domain.Invalid("type", "must be PERFORM or CANCEL"), payme.CodeInvalidParams},
		{errors.New("disk full"), payme.CodeSystemError},
	} {
		t.Run(c.err.Error(), func(t *testing.T) {
			uc := allUseCases()
			uc.SetFiscalData = fiscalFunc(func(context.Context, payments.PaymeFiscalInput) error { return c.err })
			f := newFixture(t, payme.Config{}, uc)
			assert.Equal(t, c.code, f.post(t, validCalls["SetFiscalData"]).code(t), "%v", c.err)
		})
	}
}

func TestErrorMessagesAreThePaymeOnes(t *testing.T) {
	uc := allUseCases()
	uc.PerformTransaction = performFunc(func(context.Context, string) (payments.PaymeResult, error) {
		return payments.PaymeResult{}, payment.ErrBadState
	})
	f := newFixture(t, payme.Config{}, uc)
	status, body := f.do(t, call{body: validCalls["PerformTransaction"]})
	assert.Equal(t, http.StatusOK, status)
	assert.Equal(t, `{"jsonrpc":"2.0","id":3,"error":{"code":-31008,"message":{"ru":"Невозможно выполнить операцию",`+
		`"uz":"Amalni bajarib bo'lmaydi","en":"Unable to perform operation"}}}`, string(body))

	e := f.send(t, call{body: validCalls["CheckTransaction"], noAuth: true})
	assert.Equal(t, map[string]string{"ru": "Недостаточно привилегий для выполнения метода",
		"uz": "Metodni bajarish uchun huquq yetarli emas", "en": "Insufficient privilege to perform this method"}, e.Error.Message)
}

func TestAPanicIsASystemErrorWithHTTP200(t *testing.T) {
	uc := allUseCases()
	uc.CheckTransaction = checkFunc(func(context.Context, string) (*payment.PaymeTransaction, error) { panic("boom") })
	f := newFixture(t, payme.Config{}, uc)
	e := f.post(t, validCalls["CheckTransaction"])
	expectError(t, e, payme.CodeSystemError, "")
	assert.Equal(t, "5", string(e.ID))
	assert.Contains(t, f.logs.String(), "boom")
}

func TestOutcomesAreCounted(t *testing.T) {
	uc := allUseCases()
	changed := true
	uc.CreateTransaction = createFunc(func(context.Context, payments.PaymeCreateInput) (payments.PaymeResult, error) {
		return payments.PaymeResult{Tx: storedTx(payment.PaymeCreated), Changed: changed}, nil
	})
	uc.PerformTransaction = performFunc(func(context.Context, string) (payments.PaymeResult, error) {
		return payments.PaymeResult{}, fmt.Errorf("perform: %w", payment.ErrTimedOut)
	})
	f := newFixture(t, payme.Config{}, uc)

	f.post(t, validCalls["CheckPerformTransaction"])
	f.post(t, validCalls["CreateTransaction"])
	changed = false
	f.post(t, validCalls["CreateTransaction"])
	f.post(t, validCalls["PerformTransaction"])
	f.post(t, validCalls["CancelTransaction"])
	f.post(t, validCalls["CheckTransaction"])
	f.post(t, validCalls["GetStatement"])
	f.post(t, validCalls["SetFiscalData"])
	f.post(t, "not json")
	f.send(t, call{body: validCalls["CheckTransaction"], noAuth: true})

	for outcome, n := range map[string]int{
		payme.OutcomeAllowed: 1, payme.OutcomeCreated: 1, payme.OutcomeReplayed: 1, payme.OutcomeTimedOut: 1,
		payme.OutcomeRefunded: 1, payme.OutcomeChecked: 1, payme.OutcomeStatement: 1, payme.OutcomeFiscal: 1,
		payme.OutcomeInvalid: 1, payme.OutcomeUnauthorized: 1,
	} {
		assert.Equal(t, n, f.metrics.count(outcome), outcome)
	}
	assert.Equal(t, 10, f.metrics.provider["payme"])
}

func TestCredentialsNeverReachTheLog(t *testing.T) {
	uc := allUseCases()
	uc.CheckTransaction = checkFunc(func(context.Context, string) (*payment.PaymeTransaction, error) {
		return nil, errors.New("db down")
	})
	f := newFixture(t, payme.Config{}, uc)
	for _, c := range []call{
		{body: validCalls["CheckTransaction"]},
		{body: validCalls["CheckTransaction"], auth: basic(login, key+"-wrong")},
		{body: "not json"},
		{body: validCalls["CreateTransaction"]},
	} {
		f.send(t, c)
	}
	logs := f.logs.String()
	require.NotEmpty(t, logs)
	for _, secret := range []string{key, base64.StdEncoding.EncodeToString([]byte(login + ":" + key)), "Authorization", "Basic "} {
		assert.NotContains(t, logs, secret)
	}
	assert.Contains(t, logs, "db down", "internal failures are logged with their cause")
}

func TestStockReleaseFailureIsLoggedAndTheRefundAnswered(t *testing.T) {
	uc := allUseCases()
	uc.CancelTransaction = cancelFunc(func(context.Context, string, payment.Reason) (payments.PaymeCancelResult, error) {
		return payments.PaymeCancelResult{
			PaymeResult:     payments.PaymeResult{Tx: storedTx(payment.PaymeCancelledAfterPerform), Changed: true},
			StockReleaseErr: errors.New("catalog unavailable"),
		}, nil
	})
	f := newFixture(t, payme.Config{}, uc)
	e := f.post(t, validCalls["CancelTransaction"])
	assert.Nil(t, e.Error)
	assert.Contains(t, f.logs.String(), "catalog unavailable")
}

// Register routes what production routes (the app calls it too): POST to the
// methods, every other method a client may send to Payme's -32300 with HTTP
// 200, and the rest to Echo's 405.
func TestRegisterRoutesEveryMethodPaymesProtocolAnswers(t *testing.T) {
	f := newFixture(t, payme.Config{}, allUseCases())
	serve := func(method string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), method, payme.Route, strings.NewReader(validCalls["CheckTransaction"]))
		req.Header.Set("Authorization", goodAuth)
		rec := httptest.NewRecorder()
		f.e.ServeHTTP(rec, req)
		return rec
	}

	rec := serve(http.MethodPost)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Nil(t, parseEnvelope(t, rec.Body.Bytes()).Error)

	for _, m := range []string{http.MethodGet, http.MethodHead, http.MethodPut, http.MethodPatch, http.MethodDelete} {
		t.Run(m, func(t *testing.T) {
			rec := serve(m)
			require.Equal(t, http.StatusOK, rec.Code, m)
			assert.Equal(t, "application/json", rec.Header().Get("Content-Type"), m)
			e := parseEnvelope(t, rec.Body.Bytes())
			expectError(t, e, payme.CodeMethodNotPost, "")
			assert.Equal(t, "null", string(e.ID), m)
		})
	}
	for _, m := range []string{http.MethodTrace, http.MethodConnect, "PROPFIND"} {
		t.Run(m, func(t *testing.T) {
			assert.Equal(t, http.StatusMethodNotAllowed, serve(m).Code, m)
		})
	}
}

func keysOf(m map[string]string) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	return out
}

// CheckPerformTransaction sends the order's fiscal detail next to allow, in
// Payme's shape: units only when the line has a unit code.
func TestCheckPerformTransactionSendsTheFiscalDetail(t *testing.T) {
	uc := allUseCases()
	uc.CheckPerformTransaction = checkPerformResult{HasDetail: true, Detail: fiscal.PaymeDetail{
		ReceiptType: fiscal.PaymeReceiptSale,
		Items: []fiscal.PaymeItem{
			{Title: "Futbolka paxta", Price: money.MustTiyin(15_000_000), Count: 2, Code: "11111111111111111",
				PackageCode: "1111111", VATPercent: 12, Units: 1111},
			{Title: "Elektr choynak", Price: money.MustTiyin(25_000_000), Count: 1, Code: "22222222222222222",
				PackageCode: "2222222", VATPercent: 0},
		},
	}}
	f := newFixture(t, payme.Config{}, uc)
	status, got := f.do(t, call{body: validCalls["CheckPerformTransaction"]})
	assert.Equal(t, http.StatusOK, status)
	assert.JSONEq(t, `{"jsonrpc":"2.0","id":1,"result":{"allow":true,"detail":{"receipt_type":0,"items":[
		{"title":"Futbolka paxta","price":15000000,"count":2,"code":"11111111111111111","package_code":"1111111",
		 "vat_percent":12,"units":1111},
		{"title":"Elektr choynak","price":25000000,"count":1,"code":"22222222222222222","package_code":"2222222",
		 "vat_percent":0}]}}}`, string(got))
}
