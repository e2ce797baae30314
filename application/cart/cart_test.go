package cart_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	appcart "github.com/ultramarket/gateway/application/cart"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/cart"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

var now = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

const userID = "44444444-0000-4000-8000-000000000004"

var actor = user.Actor{ID: userID, Role: user.RoleCustomer}

func prod(id string, price, stock int64, active bool) *product.Product {
	return product.Restore(id, "Product "+id, "", "misc", "seller-1", money.MustTiyin(price), stock, active, now, now)
}

func line(id string, qty int64) ports.CartLine {
	return ports.CartLine{ProductID: id, Quantity: qty, AddedAt: now}
}

type fixture struct {
	carts   *mocks.MockCartRepository
	catalog *mocks.MockCatalog
}

func newFixture(t *testing.T) fixture {
	ctrl := gomock.NewController(t)
	return fixture{carts: mocks.NewMockCartRepository(ctrl), catalog: mocks.NewMockCatalog(ctrl)}
}

// --- GetCart ---

func TestGetCart_PricesEveryLineWithOneLookup(t *testing.T) {
	f := newFixture(t)
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("a", 2), line("gone", 1), line("b", 5), line("c", 1)}, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a", "gone", "b", "c"}, actor).Return([]*product.Product{
		prod("c", 300, 10, false), prod("a", 1000, 10, true), prod("b", 500, 4, true),
	}, nil).Times(1)

	got, err := appcart.NewGetCart(f.carts, f.catalog).Handle(context.Background(), appcart.GetCartInput{Actor: actor})
	require.NoError(t, err)
	assert.Equal(t, []cart.Line{
		{ProductID: "a", Name: "Product a", UnitPrice: money.MustTiyin(1000), Quantity: 2, LineTotal: money.MustTiyin(2000), Available: true},
		{ProductID: "gone", Quantity: 1}, // vanished: no name, no price, unavailable
		{ProductID: "b", Name: "Product b", UnitPrice: money.MustTiyin(500), Quantity: 5, LineTotal: money.MustTiyin(2500)}, // over stock
		{ProductID: "c", Name: "Product c", UnitPrice: money.MustTiyin(300), Quantity: 1, LineTotal: money.MustTiyin(300)},  // inactive
	}, got.Lines)
	assert.Equal(t, money.MustTiyin(2000), got.Total, "only available lines count")
}

func TestGetCart_EmptyCartAsksNoCatalog(t *testing.T) {
	f := newFixture(t) // no Lookup
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return(nil, nil)
	got, err := appcart.NewGetCart(f.carts, f.catalog).Handle(context.Background(), appcart.GetCartInput{Actor: actor})
	require.NoError(t, err)
	assert.Empty(t, got.Lines)
	assert.True(t, got.Total.IsZero())
}

func TestGetCart_CatalogDown(t *testing.T) {
	f := newFixture(t)
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("a", 1)}, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), gomock.Any(), gomock.Any()).Return(nil, fmt.Errorf("lookup: %w", domain.ErrUpstreamUnavailable))
	_, err := appcart.NewGetCart(f.carts, f.catalog).Handle(context.Background(), appcart.GetCartInput{Actor: actor})
	assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
}

// --- SetItem ---

func newSetItem(f fixture) *appcart.SetItem {
	return appcart.NewSetItem(f.carts, f.catalog, testsupport.FixedClock(now))
}

func TestSetItem_AddsAProductAndPricesWithTheSameLookup(t *testing.T) {
	f := newFixture(t)
	gomock.InOrder(
		f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("a", 1)}, nil),
		f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a", "b"}, actor).
			Return([]*product.Product{prod("a", 1000, 5, true), prod("b", 250, 5, true)}, nil).Times(1),
		f.carts.EXPECT().Set(gomock.Any(), userID, "b", int64(3), now).Return(nil),
	)
	got, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "b", Quantity: 3})
	require.NoError(t, err)
	require.Len(t, got.Lines, 2)
	assert.Equal(t, "b", got.Lines[1].ProductID)
	assert.Equal(t, int64(3), got.Lines[1].Quantity)
	assert.Equal(t, money.MustTiyin(1000+750), got.Total)
}

func TestSetItem_ChangesTheQuantityOfALine(t *testing.T) {
	f := newFixture(t)
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("a", 1), line("b", 1)}, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a", "b"}, actor).
		Return([]*product.Product{prod("a", 1000, 5, true), prod("b", 250, 5, true)}, nil)
	f.carts.EXPECT().Set(gomock.Any(), userID, "a", int64(100), now).Return(nil)

	got, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "a", Quantity: 100})
	require.NoError(t, err)
	assert.Equal(t, int64(100), got.Lines[0].Quantity)
	assert.False(t, got.Lines[0].Available, "over stock")
	assert.Equal(t, money.MustTiyin(250), got.Total)
}

func TestSetItem_OverStockIsStoredAndShownUnavailable(t *testing.T) {
	f := newFixture(t)
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return(nil, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a"}, actor).Return([]*product.Product{prod("a", 1000, 2, true)}, nil)
	f.carts.EXPECT().Set(gomock.Any(), userID, "a", int64(3), now).Return(nil)

	got, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "a", Quantity: 3})
	require.NoError(t, err)
	assert.Equal(t, []cart.Line{{ProductID: "a", Name: "Product a", UnitPrice: money.MustTiyin(1000), Quantity: 3, LineTotal: money.MustTiyin(3000)}}, got.Lines)
	assert.True(t, got.Total.IsZero())
}

func TestSetItem_BadQuantity(t *testing.T) {
	for _, q := range []int64{-1, 101} {
		f := newFixture(t) // nothing is called
		_, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "a", Quantity: q})
		assert.Equal(t, []string{"quantity"}, testsupport.FieldsOf(t, err), q)
	}
}

func TestSetItem_ZeroRemoves(t *testing.T) {
	f := newFixture(t)
	gomock.InOrder(
		f.carts.EXPECT().Remove(gomock.Any(), userID, "a").Return(nil),
		f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("b", 1)}, nil),
		f.catalog.EXPECT().Lookup(gomock.Any(), []string{"b"}, actor).Return([]*product.Product{prod("b", 100, 1, true)}, nil),
	)
	got, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "a", Quantity: 0})
	require.NoError(t, err)
	require.Len(t, got.Lines, 1)
	assert.Equal(t, "b", got.Lines[0].ProductID)
}

func TestSetItem_UnknownProductIsNotFound(t *testing.T) {
	f := newFixture(t) // no Set
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("a", 1)}, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a", "nope"}, actor).Return([]*product.Product{prod("a", 100, 1, true)}, nil)
	_, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "nope", Quantity: 1})
	assert.ErrorIs(t, err, product.ErrNotFound)
	assert.ErrorIs(t, err, domain.ErrNotFound)
}

func TestSetItem_InactiveProductIsInvalid(t *testing.T) {
	f := newFixture(t) // no Set
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return(nil, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a"}, actor).Return([]*product.Product{prod("a", 100, 1, false)}, nil)
	_, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "a", Quantity: 1})
	assert.ErrorIs(t, err, product.ErrInactive)
	assert.ErrorIs(t, err, domain.ErrValidation)
}

func TestSetItem_FullCartRefusesANewProductButNotAChange(t *testing.T) {
	full := make([]ports.CartLine, 0, cart.MaxLines)
	products := make([]*product.Product, 0, cart.MaxLines+1)
	for i := range cart.MaxLines {
		id := fmt.Sprintf("p%03d", i)
		full = append(full, line(id, 1))
		products = append(products, prod(id, 100, 10, true))
	}
	products = append(products, prod("new", 100, 10, true))

	f := newFixture(t) // no Set
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return(full, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), gomock.Any(), actor).Return(products, nil)
	_, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "new", Quantity: 1})
	assert.ErrorIs(t, err, cart.ErrFull)
	assert.Equal(t, []string{"product_id"}, testsupport.FieldsOf(t, err))

	f = newFixture(t)
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return(full, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), gomock.Any(), actor).Return(products, nil)
	f.carts.EXPECT().Set(gomock.Any(), userID, "p007", int64(2), now).Return(nil)
	_, err = newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "p007", Quantity: 2})
	require.NoError(t, err)
}

func TestSetItem_StorageError(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("boom")
	f.carts.EXPECT().Lines(gomock.Any(), userID).Return(nil, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), gomock.Any(), actor).Return([]*product.Product{prod("a", 100, 1, true)}, nil)
	f.carts.EXPECT().Set(gomock.Any(), userID, "a", int64(1), now).Return(boom)
	_, err := newSetItem(f).Handle(context.Background(), appcart.SetItemInput{Actor: actor, ProductID: "a", Quantity: 1})
	assert.ErrorIs(t, err, boom)
}

// --- RemoveItem and Clear ---

func TestRemoveItem_ReturnsTheCart(t *testing.T) {
	f := newFixture(t)
	gomock.InOrder(
		// Remove of a product that is not in the cart is no error (the port's rule).
		f.carts.EXPECT().Remove(gomock.Any(), userID, "absent").Return(nil),
		f.carts.EXPECT().Lines(gomock.Any(), userID).Return([]ports.CartLine{line("a", 2)}, nil),
		f.catalog.EXPECT().Lookup(gomock.Any(), []string{"a"}, actor).Return([]*product.Product{prod("a", 100, 5, true)}, nil),
	)
	got, err := appcart.NewRemoveItem(f.carts, f.catalog).Handle(context.Background(), appcart.RemoveItemInput{Actor: actor, ProductID: "absent"})
	require.NoError(t, err)
	require.Len(t, got.Lines, 1)
	assert.Equal(t, money.MustTiyin(200), got.Total)
}

func TestClear(t *testing.T) {
	f := newFixture(t)
	f.carts.EXPECT().Clear(gomock.Any(), userID).Return(nil)
	require.NoError(t, appcart.NewClear(f.carts).Handle(context.Background(), appcart.ClearInput{Actor: actor}))
}
