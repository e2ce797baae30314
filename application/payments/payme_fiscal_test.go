package payments_test

import (
	"context"
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

var paymeReceipt = json.RawMessage(`{"receipt_id":121,"status_code":0,"fiscal_sign":"800031554082"}`)

func TestPaymeSetFiscalData_StoresEachKind(t *testing.T) {
	for _, kind := range []ports.FiscalKind{ports.FiscalPerform, ports.FiscalCancel} {
		m := newPaymeMocks(t)
		uc := payments.NewPaymeSetFiscalData(m.fiscal)
		m.fiscal.EXPECT().SaveFiscalData(paymeAny, paymeID, kind, []byte(paymeReceipt)).Return(nil)
		require.NoError(t, uc.Handle(context.Background(), payments.PaymeFiscalInput{PaymeID: paymeID, Kind: kind, Data: paymeReceipt}))
	}
}

func TestPaymeSetFiscalData_UnknownTransactionIsReceiptNotFound(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSetFiscalData(m.fiscal)
	m.fiscal.EXPECT().SaveFiscalData(paymeAny, paymeID, ports.FiscalPerform, paymeAny).Return(payment.ErrNotFound)

	err := uc.Handle(context.Background(), payments.PaymeFiscalInput{PaymeID: paymeID, Kind: ports.FiscalPerform, Data: paymeReceipt})
	assert.ErrorIs(t, err, payments.ErrPaymeReceiptNotFound)
}

func TestPaymeSetFiscalData_InvalidInputIsAValidationError(t *testing.T) {
	for name, in := range map[string]payments.PaymeFiscalInput{
		"no id":          {Kind: ports.FiscalPerform, Data: paymeReceipt},
		"unknown kind":   {PaymeID: paymeID, Kind: "REFUND", Data: paymeReceipt},
		"array data":     {PaymeID: paymeID, Kind: ports.FiscalCancel, Data: json.RawMessage(`[1]`)},
		"null data":      {PaymeID: paymeID, Kind: ports.FiscalCancel, Data: json.RawMessage(`null`)},
		"not json":       {PaymeID: paymeID, Kind: ports.FiscalCancel, Data: json.RawMessage(`{`)},
		"missing data":   {PaymeID: paymeID, Kind: ports.FiscalCancel},
		"lower-case one": {PaymeID: paymeID, Kind: "perform", Data: paymeReceipt},
	} {
		t.Run(name, func(t *testing.T) {
			m := newPaymeMocks(t) // nothing stored
			uc := payments.NewPaymeSetFiscalData(m.fiscal)
			assert.ErrorIs(t, uc.Handle(context.Background(), in), domain.ErrValidation)
		})
	}
}

func TestPaymeSetFiscalData_Failure(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSetFiscalData(m.fiscal)
	m.fiscal.EXPECT().SaveFiscalData(paymeAny, paymeID, ports.FiscalPerform, paymeAny).Return(errPaymeDB)
	err := uc.Handle(context.Background(), payments.PaymeFiscalInput{PaymeID: paymeID, Kind: ports.FiscalPerform, Data: paymeReceipt})
	assertPaymeInternal(t, err)
}
