package fiscal_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
)

func TestPaymeDetailFor_TwoSellerOrder(t *testing.T) {
	detail, ok := fiscal.PaymeDetailFor(twoSellerOrder(t))
	require.True(t, ok)
	assert.Equal(t, fiscal.PaymeDetail{ReceiptType: 0, Items: []fiscal.PaymeItem{
		{Title: "Futbolka paxta", Price: money.MustTiyin(15_000_000), Count: 2, Code: "11111111111111111",
			PackageCode: "1111111", VATPercent: 12, Units: 1111},
		{Title: "Elektr choynak", Price: money.MustTiyin(25_000_000), Count: 1, Code: "22222222222222222",
			PackageCode: "2222222", VATPercent: 12, Units: 1111},
		{Title: "Yetkazib berish", Price: money.MustTiyin(2_000_000), Count: 1, Code: "33333333333333333",
			PackageCode: "3333333", VATPercent: 12, Units: 2222},
	}}, detail)
}

func TestPaymeDetailFor_NonVATPayerAndNoUnit(t *testing.T) {
	nonPayer := fiscal.RestoreSellerProfile("555555555", "", false)
	l := line(t, fiscal.LineDraft{Name: "Non", UnitPrice: money.MustTiyin(500_000), Quantity: 3,
		Product: identity(t, "10202001001000000", "1", 0), Seller: &nonPayer})
	detail, ok := fiscal.PaymeDetailFor([]fiscal.Line{l})
	require.True(t, ok)
	assert.Equal(t, []fiscal.PaymeItem{{Title: "Non", Price: money.MustTiyin(500_000), Count: 3,
		Code: "10202001001000000", PackageCode: "1", VATPercent: 0, Units: 0}}, detail.Items)
}

func TestPaymeDetailFor_NoDetailWithoutFullFiscalData(t *testing.T) {
	order := twoSellerOrder(t)
	noPackage := line(t, fiscal.LineDraft{Name: "Choynak", UnitPrice: money.MustTiyin(1), Quantity: 1,
		Product: identity(t, "22222222222222222", "2222222", 0)}).Record()
	noPackage.PackageCode = ""
	noIKPU := order[0].Record()
	noIKPU.IKPUCode = ""

	for name, lines := range map[string][]fiscal.Line{
		"no lines":                  nil,
		"one line without codes":    append(order[:2:2], line(t, fiscal.LineDraft{Name: "Non", UnitPrice: money.MustTiyin(1), Quantity: 1})),
		"one line without package":  append(order[:1:1], fiscal.RestoreLine(noPackage)),
		"one line without the IKPU": {fiscal.RestoreLine(noIKPU), order[1]},
	} {
		t.Run(name, func(t *testing.T) {
			detail, ok := fiscal.PaymeDetailFor(lines)
			assert.False(t, ok)
			assert.Equal(t, fiscal.PaymeDetail{}, detail)
		})
	}
}
