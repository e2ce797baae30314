package payments_test

import (
	"context"
	"encoding/json"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

var paymeReceipt = json.RawMessage(`{"receipt_id":121,"status_code":0,"message":"Accepted","terminal_id":"EP000000000025",` +
	`"fiscal_sign":"800031554082","qr_code_url":"https://ofd.soliq.uz/epi?t=EP000000000025&r=121&c=20220706221021&s=800031554082",` +
	`"date":"20220706221021"}`)

// saved captures what the use case stores.
func saved(t *testing.T, m *paymeMocks, in payments.PaymeFiscalInput) ports.PaymeFiscalData {
	t.Helper()
	var got ports.PaymeFiscalData
	m.fiscal.EXPECT().SaveFiscalData(paymeAny, paymeID, paymeAny).DoAndReturn(
		func(_ context.Context, _ string, d ports.PaymeFiscalData) error {
			got = d
			return nil
		})
	require.NoError(t, payments.NewPaymeSetFiscalData(m.fiscal).Handle(context.Background(), in))
	return got
}

func TestPaymeSetFiscalData_SaleThenRefund(t *testing.T) {
	for _, tc := range []struct {
		kind ports.FiscalKind
		want fiscal.Kind
	}{{ports.FiscalPerform, fiscal.KindSale}, {ports.FiscalCancel, fiscal.KindRefund}} {
		t.Run(string(tc.kind), func(t *testing.T) {
			m := newPaymeMocks(t)
			got := saved(t, m, payments.PaymeFiscalInput{PaymeID: paymeID, Kind: tc.kind, Data: paymeReceipt})
			assert.Equal(t, tc.kind, got.Kind)
			assert.JSONEq(t, string(paymeReceipt), string(got.Raw))
			assert.Equal(t, "121", got.ReceiptID, "a numeric receipt_id is kept as text")
			assert.Equal(t, 0, got.StatusCode)
			assert.Equal(t, "Accepted", got.Message)
			r := got.Receipt
			assert.Equal(t, payment.ProviderPayme, r.Provider())
			assert.Equal(t, tc.want, r.Kind())
			assert.Equal(t, fiscal.StatusIssued, r.Status())
			assert.Equal(t, "800031554082", r.FiscalSign())
			assert.Equal(t, "EP000000000025", r.TerminalID())
			assert.NotEmpty(t, r.ShownQRCodeURL())
			// 22:10:21 in Tashkent (UTC+5).
			assert.Equal(t, time.Date(2022, 7, 6, 17, 10, 21, 0, time.UTC), r.IssuedAt())
		})
	}
}

func TestPaymeSetFiscalData_NonZeroStatusCodeIsAFailedReceipt(t *testing.T) {
	for name, data := range map[string]string{
		"code 1":  `{"receipt_id":"121","status_code":1}`,
		"no code": `{"receipt_id":"121"}`,
	} {
		t.Run(name, func(t *testing.T) {
			m := newPaymeMocks(t)
			got := saved(t, m, payments.PaymeFiscalInput{PaymeID: paymeID, Kind: ports.FiscalPerform, Data: json.RawMessage(data)})
			assert.Equal(t, fiscal.StatusFailed, got.Receipt.Status())
			assert.True(t, got.Receipt.IssuedAt().IsZero())
		})
	}
}

func TestPaymeSetFiscalData_ALinkOffOFDIsStoredButNotShown(t *testing.T) {
	m := newPaymeMocks(t)
	got := saved(t, m, payments.PaymeFiscalInput{PaymeID: paymeID, Kind: ports.FiscalPerform,
		Data: json.RawMessage(`{"status_code":0,"qr_code_url":"http://ofd.soliq.uz/check?t=1"}`)})
	assert.Equal(t, "http://ofd.soliq.uz/check?t=1", got.Receipt.QRCodeURL())
	assert.Empty(t, got.Receipt.ShownQRCodeURL())
}

func TestPaymeSetFiscalData_UnknownTransactionIsReceiptNotFound(t *testing.T) {
	m := newPaymeMocks(t)
	uc := payments.NewPaymeSetFiscalData(m.fiscal)
	m.fiscal.EXPECT().SaveFiscalData(paymeAny, paymeID, paymeAny).Return(payment.ErrNotFound)

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
		"bad date":       {PaymeID: paymeID, Kind: ports.FiscalPerform, Data: json.RawMessage(`{"status_code":0,"date":"2022-07-06"}`)},
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
	m.fiscal.EXPECT().SaveFiscalData(paymeAny, paymeID, paymeAny).Return(errPaymeDB)
	err := uc.Handle(context.Background(), payments.PaymeFiscalInput{PaymeID: paymeID, Kind: ports.FiscalPerform, Data: paymeReceipt})
	assertPaymeInternal(t, err)
}
