package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain"
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
// been registered with the tax authority.
type PaymeSetFiscalData struct {
	fiscal ports.FiscalStore
}

// NewPaymeSetFiscalData wires the use case.
func NewPaymeSetFiscalData(fiscal ports.FiscalStore) *PaymeSetFiscalData {
	return &PaymeSetFiscalData{fiscal: fiscal}
}

// Handle stores the receipt (a repeat replaces it). An unknown Payme id is
// ErrPaymeReceiptNotFound; a kind other than PERFORM/CANCEL or data that is
// not a JSON object is a validation error.
func (uc *PaymeSetFiscalData) Handle(ctx context.Context, in PaymeFiscalInput) error {
	verr := &domain.ValidationError{}
	if in.PaymeID == "" {
		verr.Add("id", domain.MsgNotEmpty)
	}
	if in.Kind != ports.FiscalPerform && in.Kind != ports.FiscalCancel {
		verr.Add("type", domain.MsgEither, domain.Args{"Values": "PERFORM", "Last": "CANCEL"})
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(in.Data, &obj); err != nil || obj == nil {
		verr.Add("fiscal_data", domain.MsgObject)
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	err := uc.fiscal.SaveFiscalData(ctx, in.PaymeID, in.Kind, in.Data)
	if errors.Is(err, payment.ErrNotFound) {
		return fmt.Errorf("%w (%w)", ErrPaymeReceiptNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("payme fiscal data %s %s: %w", in.Kind, in.PaymeID, err)
	}
	return nil
}
