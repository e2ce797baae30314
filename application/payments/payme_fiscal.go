package payments

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymeFiscalInput is SetFiscalData's params: the receipt of the perform or
// of the cancel, kept as the JSON object Payme sent.
type PaymeFiscalInput struct {
	PaymeID string
	Kind    ports.FiscalKind
	Data    json.RawMessage
}

// PaymeSetFiscalData stores the fiscal receipt Payme sends once a receipt has
// been registered with the tax authority, as the order's sale (PERFORM) or
// refund (CANCEL) receipt.
type PaymeSetFiscalData struct {
	fiscal ports.FiscalStore
}

// NewPaymeSetFiscalData wires the use case.
func NewPaymeSetFiscalData(fiscal ports.FiscalStore) *PaymeSetFiscalData {
	return &PaymeSetFiscalData{fiscal: fiscal}
}

// Handle stores the receipt (a repeat replaces it; the same data again
// changes nothing). An unknown Payme id is ErrPaymeReceiptNotFound; a kind
// other than PERFORM/CANCEL, data that is not a JSON object or a date that
// is not YYYYMMDDhhmmss is a validation error.
func (uc *PaymeSetFiscalData) Handle(ctx context.Context, in PaymeFiscalInput) error {
	verr := &domain.ValidationError{}
	if in.PaymeID == "" {
		verr.Add("id", domain.MsgNotEmpty)
	}
	kind, kerr := fiscal.KindForPaymeType(string(in.Kind))
	if kerr != nil {
		verr.Add("type", domain.MsgEither, domain.Args{"Values": "PERFORM", "Last": "CANCEL"})
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(in.Data, &obj); err != nil || obj == nil {
		verr.Add("fiscal_data", domain.MsgObject)
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	d, err := readPaymeFiscalData(obj, kind)
	if err != nil {
		return err
	}
	d.Kind, d.Raw = in.Kind, in.Data
	err = uc.fiscal.SaveFiscalData(ctx, in.PaymeID, d)
	if errors.Is(err, payment.ErrNotFound) {
		return fmt.Errorf("%w (%w)", ErrPaymeReceiptNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("payme fiscal data %s %s: %w", in.Kind, in.PaymeID, err)
	}
	return nil
}

// readPaymeFiscalData reads fiscal_data's fields (FISCAL.md §2.2). Payme's
// pages disagree on whether receipt_id is a number or a string, so every
// field is read as text from either; a missing status_code cannot say the
// receipt was accepted, so the receipt is then failed.
func readPaymeFiscalData(obj map[string]json.RawMessage, kind fiscal.Kind) (ports.PaymeFiscalData, error) {
	text := func(k string) string { return jsonText(obj[k]) }
	d := ports.PaymeFiscalData{ReceiptID: text("receipt_id"), Message: text("message"), StatusCode: -1}
	if code, err := strconv.Atoi(text("status_code")); err == nil {
		d.StatusCode = code
	}
	data := fiscal.ReceiptData{QRCodeURL: text("qr_code_url"), FiscalSign: text("fiscal_sign"), TerminalID: text("terminal_id")}
	if date := text("date"); date != "" {
		t, err := fiscal.ParsePaymeDate(date)
		if err != nil {
			return ports.PaymeFiscalData{}, err
		}
		data.IssuedAt = t
	}
	r, err := fiscal.NewReceipt(payment.ProviderPayme, kind, fiscal.StatusForPaymeCode(d.StatusCode), data)
	if err != nil {
		return ports.PaymeFiscalData{}, fmt.Errorf("payme fiscal data: %w", err)
	}
	d.Receipt = r
	return d, nil
}

// jsonText is a JSON string's value or a number's literal; "" for anything
// else (absent, null, objects).
func jsonText(raw json.RawMessage) string {
	raw = bytes.TrimSpace(raw)
	if len(raw) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		return strings.TrimSpace(s)
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	return ""
}
