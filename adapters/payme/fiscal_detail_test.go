package payme_test

import (
	"encoding/json"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/payme"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
)

// FISCAL.md §3.1's order as Payme's detail (without its discount: orders have
// none), the delivery line without a unit code.
func TestFiscalDetail_WireForm(t *testing.T) {
	company := fiscal.RestoreSellerProfile("123456789", "", true)
	person := fiscal.RestoreSellerProfile("", "12345678901234", true)
	identity := func(ikpu, pkg string, unit int64) fiscal.Identity {
		d := fiscal.IdentityDraft{IKPUCode: &ikpu, PackageCode: &pkg}
		if unit != 0 {
			d.UnitCode = &unit
		}
		id, err := fiscal.NewIdentity(d)
		require.NoError(t, err)
		return id
	}
	var lines []fiscal.Line
	for _, d := range []fiscal.LineDraft{
		{Name: "Futbolka paxta", UnitPrice: money.MustTiyin(15_000_000), Quantity: 2,
			Product: identity("11111111111111111", "1111111", 1111), Seller: &company},
		{Name: "Elektr choynak", UnitPrice: money.MustTiyin(25_000_000), Quantity: 1,
			Product: identity("22222222222222222", "2222222", 1111), Seller: &person},
		{Name: "Yetkazib berish", UnitPrice: money.MustTiyin(2_000_000), Quantity: 1,
			Product: identity("33333333333333333", "3333333", 0), Seller: &company},
	} {
		l, err := fiscal.NewLine(d)
		require.NoError(t, err)
		lines = append(lines, l)
	}
	detail, ok := fiscal.PaymeDetailFor(lines)
	require.True(t, ok)

	got, err := json.Marshal(payme.NewFiscalDetail(detail))
	require.NoError(t, err)
	assert.JSONEq(t, `{"receipt_type":0,"items":[
	 {"title":"Futbolka paxta","price":15000000,"count":2,"code":"11111111111111111","units":1111,"vat_percent":12,"package_code":"1111111"},
	 {"title":"Elektr choynak","price":25000000,"count":1,"code":"22222222222222222","units":1111,"vat_percent":12,"package_code":"2222222"},
	 {"title":"Yetkazib berish","price":2000000,"count":1,"code":"33333333333333333","vat_percent":12,"package_code":"3333333"}]}`, string(got))
}
