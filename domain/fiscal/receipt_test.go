package fiscal_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestShowableQRCodeURL(t *testing.T) {
	cases := []struct {
		url  string
		want bool
	}{
		{"https://ofd.soliq.uz/check?t=EP000000000025&r=121&c=20220706221021&s=800031554082", true},
		{"https://ofd.soliq.uz/epi?t=EZ000000000030&r=1234&c=20260101120000&s=123456789012", true},
		{"https://OFD.soliq.UZ/check?t=1", true},
		{"https://ofd.soliq.uz", true},
		{"http://ofd.soliq.uz/check?t=1", false},
		{"HTTPS://ofd.soliq.uz/check", true}, // url.Parse lowercases the scheme
		{"https://ofd.soliq.uz.evil.example/check", false},
		{"https://evil.example/ofd.soliq.uz", false},
		{"https://soliq.uz/check", false},
		{"https://my.ofd.soliq.uz/check", false},
		{"https://ofd.soliq.uz:8443/check", false},
		{"https://ofd.soliq.uz@evil.example/check", false},
		{"https://user@ofd.soliq.uz/check", false},
		{"https:ofd.soliq.uz/check", false},
		{"//ofd.soliq.uz/check", false},
		{"javascript:alert(1)//ofd.soliq.uz", false},
		{"ofd.soliq.uz/check", false},
		{"https://ofd.soliq.uz/check\n", false},
		{"", false},
	}
	for _, tc := range cases {
		t.Run(fmt.Sprintf("%q", tc.url), func(t *testing.T) {
			assert.Equal(t, tc.want, fiscal.ShowableQRCodeURL(tc.url), "%q", tc.url)
		})
	}
}

func TestReceipt_StoresEveryLinkButShowsOnlyTheTaxSite(t *testing.T) {
	at := time.Date(2022, 7, 6, 22, 10, 21, 0, fiscal.Tashkent)
	good := fiscal.ReceiptData{QRCodeURL: "https://ofd.soliq.uz/check?t=EP1&r=121&c=20220706221021&s=8",
		FiscalSign: "800031554082", TerminalID: "EP000000000025", IssuedAt: at}
	r, err := fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindSale, fiscal.StatusIssued, good)
	require.NoError(t, err)
	assert.Equal(t, payment.ProviderPayme, r.Provider())
	assert.Equal(t, fiscal.KindSale, r.Kind())
	assert.Equal(t, fiscal.StatusIssued, r.Status())
	assert.Equal(t, good.QRCodeURL, r.QRCodeURL())
	assert.Equal(t, good.QRCodeURL, r.ShownQRCodeURL())
	assert.Equal(t, "800031554082", r.FiscalSign())
	assert.Equal(t, "EP000000000025", r.TerminalID())
	assert.Equal(t, time.Date(2022, 7, 6, 17, 10, 21, 0, time.UTC), r.IssuedAt())
	assert.Equal(t, time.UTC, r.IssuedAt().Location())

	bad := good
	bad.QRCodeURL = "http://phishing.example/check"
	r, err = fiscal.NewReceipt(payment.ProviderClick, fiscal.KindRefund, fiscal.StatusFailed, bad)
	require.NoError(t, err)
	assert.Equal(t, bad.QRCodeURL, r.QRCodeURL(), "stored")
	assert.Empty(t, r.ShownQRCodeURL(), "not shown")

	r, err = fiscal.NewReceipt(payment.ProviderClick, fiscal.KindSale, fiscal.StatusPending, fiscal.ReceiptData{})
	require.NoError(t, err)
	assert.Empty(t, r.ShownQRCodeURL())
	assert.True(t, r.IssuedAt().IsZero())
}

func TestNewReceipt_RefusesUnknownValues(t *testing.T) {
	_, err := fiscal.NewReceipt("uzum", fiscal.KindSale, fiscal.StatusIssued, fiscal.ReceiptData{})
	assert.ErrorIs(t, err, domain.ErrValidation)
	_, err = fiscal.NewReceipt(payment.ProviderPayme, "PERFORM", fiscal.StatusIssued, fiscal.ReceiptData{})
	assert.Equal(t, []string{"kind"}, testsupport.FieldsOf(t, err))
	_, err = fiscal.NewReceipt(payment.ProviderPayme, fiscal.KindSale, "done", fiscal.ReceiptData{})
	assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, err))
}

func TestParseKindAndStatus(t *testing.T) {
	for _, k := range []fiscal.Kind{fiscal.KindSale, fiscal.KindRefund} {
		got, err := fiscal.ParseKind(string(k))
		require.NoError(t, err)
		assert.Equal(t, k, got)
	}
	for _, s := range []fiscal.Status{fiscal.StatusPending, fiscal.StatusIssued, fiscal.StatusFailed} {
		got, err := fiscal.ParseStatus(string(s))
		require.NoError(t, err)
		assert.Equal(t, s, got)
	}
	for _, bad := range []string{"", "Sale", "PERFORM"} {
		_, err := fiscal.ParseKind(bad)
		assert.Equal(t, []string{"kind"}, testsupport.FieldsOf(t, err), "%q", bad)
	}
	for _, bad := range []string{"", "Issued", "done"} {
		_, err := fiscal.ParseStatus(bad)
		assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, err), "%q", bad)
	}
}

func TestIssuedAtFromQRCodeURL(t *testing.T) {
	got, ok := fiscal.IssuedAtFromQRCodeURL("https://ofd.soliq.uz/epi?t=EZ000000000030&r=1234&c=20260101120000&s=123456789012")
	require.True(t, ok)
	assert.Equal(t, time.Date(2026, 1, 1, 7, 0, 0, 0, time.UTC), got)

	for _, bad := range []string{"", "https://ofd.soliq.uz/epi?t=1", "https://ofd.soliq.uz/epi?c=2026", "https://ofd.soliq.uz/epi?c=20261301120000", "%zz"} {
		_, ok := fiscal.IssuedAtFromQRCodeURL(bad)
		assert.False(t, ok, "%q", bad)
	}
}

func TestParsePaymeDate(t *testing.T) {
	got, err := fiscal.ParsePaymeDate("20220706221021")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2022, 7, 6, 17, 10, 21, 0, time.UTC), got, "22:10:21 in Tashkent is 17:10:21 UTC")
	assert.Equal(t, time.UTC, got.Location())

	// No daylight saving time: summer and winter are both UTC+5.
	got, err = fiscal.ParsePaymeDate("20260101000000")
	require.NoError(t, err)
	assert.Equal(t, time.Date(2025, 12, 31, 19, 0, 0, 0, time.UTC), got, "midnight crosses the day back")

	for _, bad := range []string{
		"", "2022070622102", "202207062210211", "2022-07-06 22:10:21", "20221306221021", "20220230120000",
		"20220706241021", "20220706226021", " 0220706221021", "+2022070622102", "2022070622102١",
	} {
		_, err := fiscal.ParsePaymeDate(bad)
		assert.ErrorIs(t, err, domain.ErrValidation, "%q", bad)
		assert.Equal(t, []string{"fiscal_data.date"}, testsupport.FieldsOf(t, err), "%q", bad)
	}
}

func TestPaymeTypesAndCodes(t *testing.T) {
	k, err := fiscal.KindForPaymeType("PERFORM")
	require.NoError(t, err)
	assert.Equal(t, fiscal.KindSale, k)
	k, err = fiscal.KindForPaymeType("CANCEL")
	require.NoError(t, err)
	assert.Equal(t, fiscal.KindRefund, k)
	for _, bad := range []string{"", "perform", "REFUND", "SALE"} {
		_, err := fiscal.KindForPaymeType(bad)
		assert.Equal(t, []string{"type"}, testsupport.FieldsOf(t, err), "%q", bad)
	}

	assert.Equal(t, fiscal.StatusIssued, fiscal.StatusForPaymeCode(0))
	assert.Equal(t, fiscal.StatusFailed, fiscal.StatusForPaymeCode(1))
	assert.Equal(t, fiscal.StatusFailed, fiscal.StatusForPaymeCode(-1))
}
