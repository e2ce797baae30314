package click

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
)

// acceptAll are use cases that say yes to whatever passes the protocol checks.
type acceptAll struct{}

func (acceptAll) Handle(_ context.Context, in payments.ClickPrepareInput) (*payment.ClickTransaction, error) {
	if in.Amount <= 0 {
		return nil, payment.ErrAmountMismatch
	}
	t, err := payment.NewClickTransaction("4b227777-d4dd-4fc6-9c6e-6a2e9d2a1f01", in.ClickTransID, in.ClickPaydocID, in.ServiceID, in.MerchantTransID,
		money.MustTiyin(in.Amount), in.AmountRaw, time.Unix(0, 0))
	if err != nil {
		return nil, err
	}
	t.SetPrepareID(1)
	return t, nil
}

type confirmAll struct{}

func (confirmAll) Handle(context.Context, payments.ClickCompleteInput) (payments.ClickCompleteResult, error) {
	return payments.ClickCompleteResult{ConfirmID: 1}, nil
}

// FuzzParseForm feeds arbitrary bodies to the form parser and to the whole
// webhook: nothing panics, and every answer is HTTP 200 with Click's JSON.
// The seed corpus (testdata/fuzz/FuzzParseForm) holds correctly signed
// calls, so the fuzzer also mutates requests that get past the signature.
func FuzzParseForm(f *testing.F) {
	f.Add([]byte("click_trans_id=2100000001&service_id=12345&click_paydoc_id=3100000001&merchant_trans_id=1001"+
		"&amount=50000.00&action=0&error=0&error_note=Success&sign_time=2025-06-01+12%3A00%3A00"+
		"&sign_string=32376eb058a625177008dbc4f7b5573d"), false)
	f.Add([]byte("click_trans_id=2100000001&service_id=12345&click_paydoc_id=3100000001&merchant_trans_id=1001"+
		"&merchant_prepare_id=1&amount=50000.00&action=1&error=0&error_note=Success&sign_time=2025-06-01+12%3A00%3A00"+
		"&sign_string=2e3b81a4d15b144493f7da11a7007a4e"), true)
	f.Add([]byte(""), false)
	f.Add([]byte("%zz"), true)

	e := echo.New()
	NewWebhook(Config{ServiceID: "12345", SecretKey: "TEST_SECRET_KEY", Logger: slog.New(slog.NewJSONHandler(io.Discard, nil))},
		UseCases{Prepare: acceptAll{}, Complete: confirmAll{}}, nil).Register(e)

	f.Fuzz(func(t *testing.T, body []byte, complete bool) {
		r, code := parseForm(body, complete)
		switch code {
		case codeOK:
			if r.clickTransID <= 0 || r.serviceID <= 0 || r.clickPaydocID < 0 || r.clickError > 0 || r.merchantTransID == "" {
				t.Fatalf("accepted a malformed request: %+v", r)
			}
			if complete && r.merchantPrepareID <= 0 {
				t.Fatalf("accepted a Complete without merchant_prepare_id: %+v", r)
			}
			if tiyin, ok := parseAmount(r.raw.Get(fAmount)); !ok || tiyin != r.amount {
				t.Fatalf("amount %q read as %d", r.raw.Get(fAmount), r.amount)
			}
		case codeBadRequest:
		default:
			t.Fatalf("parseForm answered %d", code)
		}

		path, idKey := PreparePath, "merchant_prepare_id"
		if complete {
			path, idKey = CompletePath, "merchant_confirm_id"
		}
		rec := httptest.NewRecorder()
		e.ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, bytes.NewReader(body)))
		if rec.Code != http.StatusOK {
			t.Fatalf("HTTP %d", rec.Code)
		}
		var out map[string]json.RawMessage
		if err := json.Unmarshal(rec.Body.Bytes(), &out); err != nil {
			t.Fatalf("not JSON: %q", rec.Body.String())
		}
		if len(out) != 5 {
			t.Fatalf("fields: %q", rec.Body.String())
		}
		for _, k := range []string{"click_trans_id", "merchant_trans_id", idKey, "error", "error_note"} {
			if _, ok := out[k]; !ok {
				t.Fatalf("no %s in %q", k, rec.Body.String())
			}
		}
		var got struct {
			ClickTransID    int64  `json:"click_trans_id"`
			MerchantTransID string `json:"merchant_trans_id"`
			Error           int    `json:"error"`
			ErrorNote       string `json:"error_note"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
			t.Fatalf("wrong types: %q: %v", rec.Body.String(), err)
		}
		note, known := errorNotes[got.Error]
		if !known || note != got.ErrorNote {
			t.Fatalf("error %d %q", got.Error, got.ErrorNote)
		}
		if got.Error == codeUpdateFailed {
			t.Fatalf("internal failure on %q", body)
		}
		if code == codeBadRequest && got.Error != codeBadRequest {
			t.Fatalf("parser said -8, handler %d", got.Error)
		}
	})
}
