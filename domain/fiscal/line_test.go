package fiscal_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/test/testsupport"
)

// The sellers of the test order: a company and an individual entrepreneur,
// both VAT payers (FISCAL.md §3.1's example order, without its discount).
var (
	company = fiscal.RestoreSellerProfile("123456789", "", true)
	person  = fiscal.RestoreSellerProfile("", "12345678901234", true)
)

func identity(t *testing.T, ikpu, pkg string, unit int64) fiscal.Identity {
	t.Helper()
	d := fiscal.IdentityDraft{IKPUCode: &ikpu, PackageCode: &pkg}
	if unit != 0 {
		d.UnitCode = &unit
	}
	id, err := fiscal.NewIdentity(d)
	require.NoError(t, err)
	return id
}

func line(t *testing.T, d fiscal.LineDraft) fiscal.Line {
	t.Helper()
	l, err := fiscal.NewLine(d)
	require.NoError(t, err)
	return l
}

// twoSellerOrder: two T-shirts and the delivery from the company, a kettle
// from the entrepreneur.
func twoSellerOrder(t *testing.T) []fiscal.Line {
	return []fiscal.Line{
		line(t, fiscal.LineDraft{Name: "Futbolka paxta", UnitPrice: money.MustTiyin(15_000_000), Quantity: 2,
			Product: identity(t, "11111111111111111", "1111111", 1111), Seller: &company}),
		line(t, fiscal.LineDraft{Name: "Elektr choynak", UnitPrice: money.MustTiyin(25_000_000), Quantity: 1,
			Product: identity(t, "22222222222222222", "2222222", 1111), Seller: &person}),
		line(t, fiscal.LineDraft{Name: "Yetkazib berish", UnitPrice: money.MustTiyin(2_000_000), Quantity: 1,
			Product: identity(t, "33333333333333333", "3333333", 2222), Seller: &company}),
	}
}

func TestNewLine_Snapshot(t *testing.T) {
	l := twoSellerOrder(t)[0]
	assert.Equal(t, "Futbolka paxta", l.Name())
	assert.Equal(t, int64(15_000_000), l.UnitPrice().Tiyin())
	assert.Equal(t, int64(2), l.Quantity())
	assert.Equal(t, int64(30_000_000), l.LineTotal().Tiyin())
	assert.Equal(t, "11111111111111111", l.IKPUCode())
	assert.Equal(t, "1111111", l.PackageCode())
	assert.Equal(t, 1111, l.UnitCode())
	assert.Equal(t, 12, l.VATPercent())
	assert.Equal(t, int64(3_214_286), l.VATAmount().Tiyin(), "30 000 000 × 12/112 = 3 214 285.71, per line")
	assert.Equal(t, fiscal.Principal{TIN: "123456789"}, l.Seller())
	assert.True(t, l.Complete())
}

func TestNewLine_SellerRule(t *testing.T) {
	nonPayer := fiscal.RestoreSellerProfile("", "98765432109876", false)
	price := money.MustTiyin(25_000_000)
	product := identity(t, "22222222222222222", "2222222", 0)

	l := line(t, fiscal.LineDraft{Name: "Choynak", UnitPrice: price, Quantity: 1, Product: product, Seller: &nonPayer})
	assert.Equal(t, 0, l.VATPercent())
	assert.True(t, l.VATAmount().IsZero())
	assert.Equal(t, fiscal.Principal{PINFL: "98765432109876"}, l.Seller())

	l = line(t, fiscal.LineDraft{Name: "Choynak", UnitPrice: price, Quantity: 1, Product: product})
	assert.Equal(t, 12, l.VATPercent(), "a seller without a profile: the product's rate")
	assert.Equal(t, int64(2_678_571), l.VATAmount().Tiyin())
	assert.True(t, l.Seller().IsZero())

	l = line(t, fiscal.LineDraft{Name: "Non", UnitPrice: price, Quantity: 1})
	assert.False(t, l.Complete(), "no codes")
	assert.Equal(t, 12, l.VATPercent())
}

func TestNewLine_Invalid(t *testing.T) {
	cases := []struct {
		name  string
		draft fiscal.LineDraft
		want  []string
	}{
		{"nothing", fiscal.LineDraft{}, []string{"name", "unit_price", "quantity"}},
		{"zero quantity", fiscal.LineDraft{Name: "x", UnitPrice: money.MustTiyin(1)}, []string{"quantity"}},
		{"negative quantity", fiscal.LineDraft{Name: "x", UnitPrice: money.MustTiyin(1), Quantity: -1}, []string{"quantity"}},
		{"free", fiscal.LineDraft{Name: "x", Quantity: 1}, []string{"unit_price"}},
		{"overflowing total", fiscal.LineDraft{Name: "x", UnitPrice: money.MustTiyin(math.MaxInt64 / 2), Quantity: 3}, []string{"quantity"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := fiscal.NewLine(tc.draft)
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, tc.want, testsupport.FieldsOf(t, err))
		})
	}
}

func TestRestoreLine_KeepsTheStoredValues(t *testing.T) {
	for _, l := range twoSellerOrder(t) {
		assert.Equal(t, l, fiscal.RestoreLine(l.Record()))
	}
	// A stored snapshot is not recomputed: what was agreed stays.
	rec := twoSellerOrder(t)[1].Record()
	rec.VATAmount = money.MustTiyin(1)
	assert.Equal(t, int64(1), fiscal.RestoreLine(rec).VATAmount().Tiyin())
}
