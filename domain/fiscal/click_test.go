package fiscal_test

import (
	"math"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/test/testsupport"
)

var marketplace = fiscal.Principal{TIN: "987654321"}

func TestClickSubmissionFor_TwoSellerOrder(t *testing.T) {
	sub, err := fiscal.ClickSubmissionFor(twoSellerOrder(t), marketplace)
	require.NoError(t, err)
	assert.Equal(t, fiscal.ClickSubmission{
		Items: []fiscal.ClickItem{
			{Name: "Futbolka paxta", SPIC: "11111111111111111", PackageCode: "1111111", Units: 1111,
				GoodPrice: money.MustTiyin(15_000_000), Price: money.MustTiyin(30_000_000), Amount: 2,
				VAT: money.MustTiyin(3_214_286), VATPercent: 12, Commission: fiscal.Principal{TIN: "123456789"}},
			{Name: "Elektr choynak", SPIC: "22222222222222222", PackageCode: "2222222", Units: 1111,
				GoodPrice: money.MustTiyin(25_000_000), Price: money.MustTiyin(25_000_000), Amount: 1,
				VAT: money.MustTiyin(2_678_571), VATPercent: 12, Commission: fiscal.Principal{PINFL: "12345678901234"}},
			{Name: "Yetkazib berish", SPIC: "33333333333333333", PackageCode: "3333333", Units: 2222,
				GoodPrice: money.MustTiyin(2_000_000), Price: money.MustTiyin(2_000_000), Amount: 1,
				VAT: money.MustTiyin(214_286), VATPercent: 12, Commission: fiscal.Principal{TIN: "123456789"}},
		},
		// The whole 57 000 000 as a card payment (fiscal.ClickPaidWith).
		ReceivedCard: money.MustTiyin(57_000_000),
	}, sub)
	assert.Equal(t, fiscal.TenderCard, fiscal.ClickPaidWith)
}

func TestClickSubmissionFor_SellerWithoutProfile(t *testing.T) {
	noProfile := line(t, fiscal.LineDraft{Name: "Non", UnitPrice: money.MustTiyin(500_000), Quantity: 1,
		Product: identity(t, "10202001001000000", "1", 0)})
	lines := append(twoSellerOrder(t), noProfile)

	sub, err := fiscal.ClickSubmissionFor(lines, marketplace)
	require.NoError(t, err)
	assert.Equal(t, marketplace, sub.Items[3].Commission, "the marketplace sells what no profiled seller does")
	assert.Equal(t, fiscal.Principal{TIN: "123456789"}, sub.Items[0].Commission, "others keep their seller")

	_, err = fiscal.ClickSubmissionFor(lines, fiscal.Principal{})
	var missing *fiscal.MissingError
	require.ErrorAs(t, err, &missing)
	assert.Equal(t, fiscal.MissingError{Line: 3, Field: "seller"}, *missing)
	assert.ErrorIs(t, err, fiscal.ErrFiscalDataMissing)
	assert.ErrorIs(t, err, domain.ErrValidation)
}

func TestClickSubmissionFor_MissingData(t *testing.T) {
	order := twoSellerOrder(t)
	without := func(i int, edit func(*fiscal.LineRecord)) []fiscal.Line {
		out := append([]fiscal.Line(nil), order...)
		r := out[i].Record()
		edit(&r)
		out[i] = fiscal.RestoreLine(r)
		return out
	}
	cases := []struct {
		name  string
		lines []fiscal.Line
		want  fiscal.MissingError
	}{
		{"no ikpu", without(1, func(r *fiscal.LineRecord) { r.IKPUCode = "" }), fiscal.MissingError{Line: 1, Field: "ikpu_code"}},
		{"no package code", without(2, func(r *fiscal.LineRecord) { r.PackageCode = "" }), fiscal.MissingError{Line: 2, Field: "package_code"}},
		{"blank name", without(0, func(r *fiscal.LineRecord) { r.Name = "  " }), fiscal.MissingError{Line: 0, Field: "name"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			sub, err := fiscal.ClickSubmissionFor(tc.lines, marketplace)
			var missing *fiscal.MissingError
			require.ErrorAs(t, err, &missing)
			assert.Equal(t, tc.want, *missing)
			assert.Equal(t, fiscal.ClickSubmission{}, sub)
		})
	}

	_, err := fiscal.ClickSubmissionFor(nil, marketplace)
	assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, err))
}

func TestClickSubmissionFor_TotalOverflowIsRefused(t *testing.T) {
	big := fiscal.RestoreLine(fiscal.LineRecord{Name: "x", UnitPrice: money.MustTiyin(math.MaxInt64), Quantity: 1,
		LineTotal: money.MustTiyin(math.MaxInt64), IKPUCode: "11111111111111111", PackageCode: "1", VATPercent: 12, Seller: marketplace})
	_, err := fiscal.ClickSubmissionFor([]fiscal.Line{big, big}, marketplace)
	assert.ErrorIs(t, err, money.ErrOverflow)
}

func TestClickSubmissionFor_LongNamesAreCutToClicksLimit(t *testing.T) {
	long := strings.Repeat("Ё", 70) // two bytes each: a byte cut would split one
	l := line(t, fiscal.LineDraft{Name: long, UnitPrice: money.MustTiyin(1), Quantity: 1,
		Product: identity(t, "11111111111111111", "1", 0), Seller: &company})
	exact := line(t, fiscal.LineDraft{Name: strings.Repeat("a", 63), UnitPrice: money.MustTiyin(1), Quantity: 1,
		Product: identity(t, "11111111111111111", "1", 0), Seller: &company})
	sub, err := fiscal.ClickSubmissionFor([]fiscal.Line{l, exact}, marketplace)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("Ё", 63), sub.Items[0].Name)
	assert.True(t, utf8.ValidString(sub.Items[0].Name))
	assert.Equal(t, strings.Repeat("a", 63), sub.Items[1].Name)
}
