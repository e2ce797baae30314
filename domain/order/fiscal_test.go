package order_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
)

var fiscalAddr = order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}

// Two lines of one product merge into one, whose snapshot is of the merged
// quantity: the VAT of the whole line total, not a sum of two roundings.
func TestNew_MergedLinesSnapshotTheirTotal(t *testing.T) {
	seller, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: ptr("123456789"), VATPayer: true})
	require.NoError(t, err)
	line := func(q int64) fiscal.Line {
		l, err := fiscal.NewLine(fiscal.LineDraft{Name: "Choy", UnitPrice: money.MustTiyin(1_000_001), Quantity: q, Seller: &seller})
		require.NoError(t, err)
		return l
	}
	o, err := order.New("o1", "u1", []order.Item{
		{ProductID: "p1", Name: "Choy", UnitPrice: money.MustTiyin(1_000_001), Quantity: 1, Fiscal: line(1)},
		{ProductID: "p1", Name: "Choy", UnitPrice: money.MustTiyin(1_000_001), Quantity: 2, Fiscal: line(2)},
	}, fiscalAddr, "", time.Now())
	require.NoError(t, err)
	items := o.Items()
	require.Len(t, items, 1)
	assert.Equal(t, int64(3), items[0].Fiscal.Quantity())
	assert.Equal(t, money.MustTiyin(3_000_003), items[0].Fiscal.LineTotal())
	assert.Equal(t, money.MustTiyin(321_429), items[0].VATAmount(), "3 000 003 × 12/112 = 321 428.89")
	assert.Equal(t, fiscal.Principal{TIN: "123456789"}, items[0].Fiscal.Seller())
}

// A line given without a snapshot (and one restored without) gets that of a
// product without codes at 12 %.
func TestNewAndRestore_DefaultSnapshot(t *testing.T) {
	items := []order.Item{{ProductID: "p1", Name: "Non", UnitPrice: money.MustTiyin(112), Quantity: 1}}
	o, err := order.New("o1", "u1", items, fiscalAddr, "", time.Now())
	require.NoError(t, err)
	assert.Equal(t, 12, o.Items()[0].VATPercent())
	assert.Equal(t, money.MustTiyin(12), o.Items()[0].VATAmount())
	assert.False(t, o.Items()[0].Fiscal.Complete())

	r := order.Restore("o1", "u1", order.StatusPaid, items, money.MustTiyin(112), fiscalAddr, "",
		time.Now(), time.Now(), time.Now(), time.Time{}, time.Time{}, time.Time{}, time.Time{})
	assert.Equal(t, money.MustTiyin(12), r.Items()[0].VATAmount())
	_, ok := fiscal.PaymeDetailFor(r.FiscalLines())
	assert.False(t, ok, "no codes, no Payme detail")
}

func ptr(s string) *string { return &s }
