package orders_test

import (
	"context"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

func strp(s string) *string { return &s }

// coded is prod with full fiscal codes, sold by seller.
func coded(t *testing.T, id, seller string, price int64) *product.Product {
	t.Helper()
	unit := int64(1111)
	fid, err := fiscal.NewIdentity(fiscal.IdentityDraft{IKPUCode: strp("11111111111111111"), PackageCode: strp("1111111"), UnitCode: &unit})
	require.NoError(t, err)
	return product.Restore(id, "Product "+id, "", "misc", seller, money.MustTiyin(price), 9, true, now, now).WithFiscal(fid)
}

func TestPlaceOrder_FiscalRequiredRefusesProductsWithoutCodesBeforeReserving(t *testing.T) {
	f := newFixture(t)
	sellers := mocks.NewMockSellerProfiles(gomock.NewController(t))
	f.catalog.EXPECT().Lookup(outOfTx, []string{"p1", "p2"}, buyer).
		Return([]*product.Product{prod("p2", 2_500_050, 9, true), coded(t, "p1", "seller-1", 15_000_000)}, nil)
	sellers.EXPECT().SellerProfilesOf(gomock.Any(), []string{"seller-1"}).Return(nil, nil).AnyTimes()
	// No Reserve, no Create.

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).WithFiscal(sellers, true).Handle(context.Background(),
		orders.PlaceOrderInput{Actor: buyer, Items: requestItems(), ShippingAddress: shipTo})
	require.ErrorIs(t, err, fiscal.ErrFiscalDataMissing)
	assert.ErrorIs(t, err, domain.ErrValidation)
	assert.Equal(t, []string{"items[1].product_id"}, testsupport.FieldsOf(t, err))
}

func TestPlaceOrder_FiscalNotRequiredTakesProductsWithoutCodes(t *testing.T) {
	f := newFixture(t)
	sellers := mocks.NewMockSellerProfiles(gomock.NewController(t))
	expectPriced(f)
	sellers.EXPECT().SellerProfilesOf(gomock.Any(), []string{"seller-1"}).Return(nil, nil)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)

	o, _, err := newPlaceOrder(f, testsupport.InlineTx{}).WithFiscal(sellers, false).Handle(context.Background(),
		orders.PlaceOrderInput{Actor: buyer, Items: requestItems(), ShippingAddress: shipTo})
	require.NoError(t, err)
	assert.Equal(t, 12, o.Items()[0].VATPercent(), "no profile: the product's rate")
}

// The lines snapshot each seller's profile: the principal the receipt names
// and, for a seller outside VAT, a rate of 0.
func TestPlaceOrder_LinesSnapshotTheSellersProfiles(t *testing.T) {
	f := newFixture(t)
	sellers := mocks.NewMockSellerProfiles(gomock.NewController(t))
	company, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: strp("123456789"), VATPayer: true})
	require.NoError(t, err)
	person, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{PINFL: strp("12345678901234")})
	require.NoError(t, err)
	f.catalog.EXPECT().Lookup(outOfTx, []string{"p1", "p2"}, buyer).
		Return([]*product.Product{coded(t, "p2", "seller-2", 25_000_000), coded(t, "p1", "seller-1", 15_000_000)}, nil)
	sellers.EXPECT().SellerProfilesOf(gomock.Any(), gomock.Any()).DoAndReturn(
		func(_ context.Context, ids []string) (map[string]fiscal.SellerProfile, error) {
			assert.ElementsMatch(t, []string{"seller-1", "seller-2"}, ids)
			return map[string]fiscal.SellerProfile{"seller-1": company, "seller-2": person}, nil
		})
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)

	o, _, err := newPlaceOrder(f, testsupport.InlineTx{}).WithFiscal(sellers, true).Handle(context.Background(),
		orders.PlaceOrderInput{Actor: buyer, Items: requestItems(), ShippingAddress: shipTo})
	require.NoError(t, err)
	items := o.Items()
	require.Len(t, items, 2)
	shirts, kettle := items[0].Fiscal, items[1].Fiscal
	assert.Equal(t, fiscal.Principal{TIN: "123456789"}, shirts.Seller())
	assert.Equal(t, int64(5), shirts.Quantity())
	assert.Equal(t, money.MustTiyin(75_000_000), shirts.LineTotal())
	assert.Equal(t, money.MustTiyin(8_035_714), shirts.VATAmount())
	assert.Equal(t, "11111111111111111", shirts.IKPUCode())
	assert.Equal(t, fiscal.Principal{PINFL: "12345678901234"}, kettle.Seller())
	assert.Equal(t, 0, kettle.VATPercent())
	assert.True(t, kettle.VATAmount().IsZero())
	detail, ok := fiscal.PaymeDetailFor(o.FiscalLines())
	require.True(t, ok)
	assert.Len(t, detail.Items, 2)
}
