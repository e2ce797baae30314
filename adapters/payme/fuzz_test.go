package payme

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
)

// FuzzDecodeRequest feeds arbitrary bodies to the decoder (envelope, then the
// method's params) and to the whole handler with working use cases, and
// checks the one promise the protocol makes: whatever arrives, no panic and
// an HTTP 200 carrying a valid JSON-RPC envelope — jsonrpc "2.0", an id,
// exactly one of result and error, an error with a known code and a message
// in three languages. The seed corpus is in testdata/fuzz/FuzzDecodeRequest.
func FuzzDecodeRequest(f *testing.F) {
	for _, seed := range []string{
		`{"method":"CheckPerformTransaction","params":{"amount":5000000,"account":{"order_id":"5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"}},"id":1}`,
		`{"method":"CreateTransaction","params":{"id":"5305e3bab097f420a62ced0b","time":1399114284039,"amount":5000000,"account":{"order_id":"1001"}},"id":2}`,
		`{"method":"CancelTransaction","params":{"id":"5305e3bab097f420a62ced0b","reason":5},"id":"x"}`,
		`{"method":"GetStatement","params":{"from":0,"to":9223372036854775807},"id":null}`,
		`{"method":"SetFiscalData","params":{"id":"a","type":"PERFORM","fiscal_data":{"k":"\u0000"}},"id":[1]}`,
		`[]`, `{}`, `null`, ``, `{"id":{}}`, `{"method":"x","params":{}}`,
	} {
		f.Add([]byte(seed))
	}
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	e := echo.New()
	NewWebhook(Config{Login: "Paycom", Key: "k", Logger: log}, fuzzUseCases(), nil).Register(e)
	table := methods(fuzzUseCases(), log)
	f.Fuzz(func(t *testing.T, body []byte) {
		// The decoder alone.
		env, rerr := decodeEnvelope(body)
		var resp response
		if rerr == nil {
			m, known := table[env.method]
			if !known {
				rerr = newError(CodeMethodNotFound, env.method)
			} else if c, e := m.decode(env.params); e != nil {
				rerr = e
			} else if c.run == nil {
				t.Fatalf("no use case to run for %q", body)
			}
		}
		if rerr != nil {
			resp = errorResponse(env.id, rerr)
		} else {
			resp = resultResponse(env.id, successResult{Success: true})
		}
		checkEnvelope(t, body, encode(resp))

		// The whole handler.
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, Route, strings.NewReader(string(body)))
		req.SetBasicAuth("Paycom", "k")
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d for %q", rec.Code, body)
		}
		checkEnvelope(t, body, rec.Body.Bytes())
	})
}

func checkEnvelope(t *testing.T, in, out []byte) {
	t.Helper()
	var m map[string]json.RawMessage
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("answer to %q is not JSON: %v: %s", in, err, out)
	}
	if string(m["jsonrpc"]) != `"2.0"` {
		t.Fatalf("jsonrpc: %s", out)
	}
	if _, ok := m["id"]; !ok {
		t.Fatalf("no id: %s", out)
	}
	_, hasResult := m["result"]
	rawErr, hasError := m["error"]
	if hasResult == hasError {
		t.Fatalf("need exactly one of result and error: %s", out)
	}
	if hasError {
		var e struct {
			Code    int               `json:"code"`
			Message map[string]string `json:"message"`
		}
		if err := json.Unmarshal(rawErr, &e); err != nil {
			t.Fatalf("error: %v: %s", err, out)
		}
		if _, known := messages[e.Code]; !known {
			t.Fatalf("unknown code %d: %s", e.Code, out)
		}
		for _, lang := range []string{"ru", "uz", "en"} {
			if e.Message[lang] == "" {
				t.Fatalf("message.%s missing: %s", lang, out)
			}
		}
	}
}

// fuzzUseCases succeed with values shaped by their input, so the encoder
// meets whatever the decoder let through.
func fuzzUseCases() UseCases {
	tx := func(pid string, account map[string]string, state payment.PaymeState) *payment.PaymeTransaction {
		var perform, cancel int64
		var reason *payment.Reason
		if state == payment.PaymeCancelledAfterPerform {
			r := payment.ReasonRefund
			perform, cancel, reason = 2, 3, &r
		}
		return payment.RestorePaymeTransaction("t", pid, "o", 1, money.MustTiyin(1), account, state, reason, 1, perform, cancel)
	}
	return UseCases{
		CheckPerformTransaction: fuzzCheckPerform{},
		CreateTransaction: fuzzCreate(func(in payments.PaymeCreateInput) *payment.PaymeTransaction {
			return tx(in.PaymeID, in.Account, payment.PaymeCreated)
		}),
		PerformTransaction: fuzzByID(func(id string) *payment.PaymeTransaction { return tx(id, nil, payment.PaymePerformed) }),
		CancelTransaction: fuzzCancel(func(id string) *payment.PaymeTransaction {
			return tx(id, nil, payment.PaymeCancelledAfterPerform)
		}),
		CheckTransaction: fuzzCheck(func(id string) *payment.PaymeTransaction { return tx(id, nil, payment.PaymeCreated) }),
		GetStatement:     fuzzStatement{},
		SetFiscalData:    fuzzFiscal{},
	}
}

type (
	fuzzCheckPerform struct{}
	fuzzCreate       func(payments.PaymeCreateInput) *payment.PaymeTransaction
	fuzzByID         func(string) *payment.PaymeTransaction
	fuzzCancel       func(string) *payment.PaymeTransaction
	fuzzCheck        func(string) *payment.PaymeTransaction
	fuzzStatement    struct{}
	fuzzFiscal       struct{}
)

func (fuzzCheckPerform) Handle(context.Context, payments.PaymeCheckPerformInput) (payments.PaymeCheckPerformResult, error) {
	return payments.PaymeCheckPerformResult{}, nil
}
func (f fuzzCreate) Handle(_ context.Context, in payments.PaymeCreateInput) (payments.PaymeResult, error) {
	return payments.PaymeResult{Tx: f(in), Changed: true}, nil
}
func (f fuzzByID) Handle(_ context.Context, id string) (payments.PaymeResult, error) {
	return payments.PaymeResult{Tx: f(id)}, nil
}
func (f fuzzCancel) Handle(_ context.Context, id string, _ payment.Reason) (payments.PaymeCancelResult, error) {
	return payments.PaymeCancelResult{PaymeResult: payments.PaymeResult{Tx: f(id)}}, nil
}
func (f fuzzCheck) Handle(_ context.Context, id string) (*payment.PaymeTransaction, error) {
	return f(id), nil
}
func (fuzzStatement) Handle(_ context.Context, from, to int64) ([]*payment.PaymeTransaction, error) {
	return []*payment.PaymeTransaction{
		payment.RestorePaymeTransaction("t", "p", "o", from+1, money.MustTiyin(1), map[string]string{"order_id": "o"},
			payment.PaymeCreated, nil, to, 0, 0),
	}, nil
}
func (fuzzFiscal) Handle(context.Context, payments.PaymeFiscalInput) error { return nil }
