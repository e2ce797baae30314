package cart_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func prod(id string, price, stock int64, active bool) *product.Product {
	return product.Restore(id, "Product "+id, "", "misc", "seller-1", money.MustTiyin(price), stock, active, t0, t0)
}

func TestCheckQuantity(t *testing.T) {
	for _, q := range []int64{0, 1, 50, 100} {
		assert.NoError(t, cart.CheckQuantity(q), q)
	}
	for _, q := range []int64{-1, 101, 1 << 40} {
		err := cart.CheckQuantity(q)
		assert.ErrorIs(t, err, domain.ErrValidation, q)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, "quantity", verr.Fields[0].Field)
	}
}

func TestCheckAddable(t *testing.T) {
	assert.NoError(t, cart.CheckAddable("p1", prod("p1", 100, 0, true)), "out of stock may still be added")

	err := cart.CheckAddable("p404", nil)
	assert.ErrorIs(t, err, product.ErrNotFound)
	assert.ErrorIs(t, err, domain.ErrNotFound)
	assert.Contains(t, err.Error(), "p404")

	err = cart.CheckAddable("p2", prod("p2", 100, 5, false))
	assert.ErrorIs(t, err, product.ErrInactive)
	assert.ErrorIs(t, err, domain.ErrValidation)
}

func TestAvailable(t *testing.T) {
	tests := []struct {
		name string
		p    *product.Product
		qty  int64
		want bool
	}{
		{"missing", nil, 1, false},
		{"inactive", prod("p", 100, 10, false), 1, false},
		{"stock equals quantity", prod("p", 100, 3, true), 3, true},
		{"stock below quantity", prod("p", 100, 2, true), 3, false},
		{"out of stock", prod("p", 100, 0, true), 1, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			assert.Equal(t, tt.want, cart.Available(tt.p, tt.qty))
		})
	}
}

func TestPrice_TotalCountsAvailableLinesOnly(t *testing.T) {
	entries := []cart.Entry{
		{ProductID: "a", Quantity: 2},    // 2 × 150.00
		{ProductID: "gone", Quantity: 1}, // vanished from the catalog
		{ProductID: "b", Quantity: 5},    // over stock
		{ProductID: "c", Quantity: 1},    // inactive
		{ProductID: "d", Quantity: 3},    // 3 × 0.50
	}
	products := []*product.Product{
		prod("d", 50, 3, true), prod("c", 700, 9, false), prod("b", 1000, 4, true), prod("a", 15000, 10, true),
	}
	got, err := cart.Price(entries, products)
	require.NoError(t, err)

	assert.Equal(t, []cart.Line{
		{ProductID: "a", Name: "Product a", UnitPrice: money.MustTiyin(15000), Quantity: 2, LineTotal: money.MustTiyin(30000), Available: true},
		{ProductID: "gone", Quantity: 1},
		{ProductID: "b", Name: "Product b", UnitPrice: money.MustTiyin(1000), Quantity: 5, LineTotal: money.MustTiyin(5000)},
		{ProductID: "c", Name: "Product c", UnitPrice: money.MustTiyin(700), Quantity: 1, LineTotal: money.MustTiyin(700)},
		{ProductID: "d", Name: "Product d", UnitPrice: money.MustTiyin(50), Quantity: 3, LineTotal: money.MustTiyin(150), Available: true},
	}, got.Lines)
	assert.Equal(t, money.MustTiyin(30150), got.Total)
}

func TestPrice_EmptyCart(t *testing.T) {
	got, err := cart.Price(nil, nil)
	require.NoError(t, err)
	assert.Empty(t, got.Lines)
	assert.NotNil(t, got.Lines, "an empty cart has an empty, not a null, list")
	assert.True(t, got.Total.IsZero())
}

func TestPrice_RefusesOverflow(t *testing.T) {
	// Only a catalog breaking product limits can get here.
	huge := product.Restore("x", "X", "", "misc", "s", money.MustTiyin(1<<62), 100, true, t0, t0)
	_, err := cart.Price([]cart.Entry{{ProductID: "x", Quantity: 4}}, []*product.Product{huge})
	assert.ErrorIs(t, err, money.ErrOverflow)

	_, err = cart.Price([]cart.Entry{{ProductID: "x", Quantity: 1}, {ProductID: "y", Quantity: 1}},
		[]*product.Product{huge, product.Restore("y", "Y", "", "misc", "s", money.MustTiyin(1<<62), 100, true, t0, t0)})
	assert.ErrorIs(t, err, money.ErrOverflow)
}
