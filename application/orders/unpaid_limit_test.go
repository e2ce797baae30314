package orders_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/test/testsupport"
)

const maxUnpaid = 5

// newLimitedPlaceOrder is newPlaceOrder with ORDER_MAX_UNPAID = 5.
func newLimitedPlaceOrder(f fixture) *orders.PlaceOrder {
	return newPlaceOrder(f, testsupport.InlineTx{}).WithUnpaidLimit(f.slots, maxUnpaid)
}

func placeItems(t *testing.T, uc *orders.PlaceOrder, key string) (*order.Order, error) {
	t.Helper()
	in := orders.PlaceOrderInput{Actor: buyer, Items: requestItems(), ShippingAddress: shipTo}
	if key != "" {
		in.IdempotencyKey, in.RequestHash = key, hash
	}
	o, _, err := uc.Handle(context.Background(), in)
	return o, err
}

// The slot is taken, in a transaction, before the stock is reserved; the
// order's transaction checks again and turns the placement into the order.
func TestPlaceOrder_UnpaidLimitHoldsASlotBeforeReserving(t *testing.T) {
	f := newFixture(t)
	gomock.InOrder(
		expectPriced(f),
		f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(maxUnpaid-1, nil),
		f.slots.EXPECT().Hold(inTx, buyerID, orderID, now, now.Add(orders.UnpaidHold)).Return(nil),
		f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil),
		f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(maxUnpaid-1, nil),
		f.slots.EXPECT().Drop(inTx, orderID).Return(nil),
		f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil),
	)
	o, err := placeItems(t, newLimitedPlaceOrder(f), "")
	require.NoError(t, err)
	assert.Equal(t, orderID, o.ID())
}

// At the limit nothing is reserved and nothing is held; a keyed request's
// key is released so the buyer can retry once they paid or cancelled one.
func TestPlaceOrder_AtTheUnpaidLimitNothingIsReserved(t *testing.T) {
	for _, key := range []string{"", key} {
		f := newFixture(t) // no Hold, no Reserve, no Create
		if key != "" {
			f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
			f.keys.EXPECT().Release(live, buyerID, key, claim).Return(nil)
		}
		expectPriced(f)
		f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(maxUnpaid, nil)

		_, err := placeItems(t, newLimitedPlaceOrder(f), key)
		assert.ErrorIs(t, err, order.ErrTooManyUnpaid, "key %q", key)
		assert.ErrorIs(t, err, domain.ErrConflict)
	}
}

func TestPlaceOrder_WithoutALimitNoSlotIsCounted(t *testing.T) {
	for _, uc := range []func(fixture) *orders.PlaceOrder{
		func(f fixture) *orders.PlaceOrder { return newPlaceOrder(f, testsupport.InlineTx{}) },
		func(f fixture) *orders.PlaceOrder {
			return newPlaceOrder(f, testsupport.InlineTx{}).WithUnpaidLimit(f.slots, 0)
		},
		func(f fixture) *orders.PlaceOrder {
			return newPlaceOrder(f, testsupport.InlineTx{}).WithUnpaidLimit(nil, 5)
		},
	} {
		f := newFixture(t) // slots: no calls
		expectPriced(f)
		f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
		f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)
		_, err := placeItems(t, uc(f), "")
		require.NoError(t, err)
	}
}

// Every failure after the hold gives the slot back, on a live context.
func TestPlaceOrder_FailedPlacementGivesTheSlotBack(t *testing.T) {
	boom := errors.New("insert failed")
	for _, tc := range []struct {
		name   string
		expect func(f fixture)
		want   error
	}{
		{"not enough stock", func(f fixture) {
			f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(&product.InsufficientStockError{ProductID: "p1"})
		}, product.ErrInsufficientStock},
		{"reserve uncertain", func(f fixture) {
			f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(domain.ErrUpstreamUnavailable)
			f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)
		}, domain.ErrUpstreamUnavailable},
		{"order not stored", func(f fixture) {
			f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
			f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(maxUnpaid-1, nil)
			f.slots.EXPECT().Drop(inTx, orderID).Return(nil) // rolled back with the rest
			f.orders.EXPECT().Create(inTx, gomock.Any()).Return(boom)
			f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)
		}, boom},
		// Only when holds outlived UnpaidHold can the second count disagree
		// with the first: the limit still holds, and the stock goes back.
		{"no room at the second count", func(f fixture) {
			f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
			f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(maxUnpaid, nil)
			f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)
		}, order.ErrTooManyUnpaid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			expectPriced(f)
			gomock.InOrder(
				f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(0, nil),
				f.slots.EXPECT().Hold(inTx, buyerID, orderID, now, now.Add(orders.UnpaidHold)).Return(nil),
			)
			tc.expect(f)
			f.slots.EXPECT().Drop(live, orderID).Return(nil)

			_, err := placeItems(t, newLimitedPlaceOrder(f), "")
			assert.ErrorIs(t, err, tc.want)
		})
	}
}

func TestPlaceOrder_FailedSlotDropDoesNotHideTheCause(t *testing.T) {
	f := newFixture(t)
	expectPriced(f)
	f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(0, nil)
	f.slots.EXPECT().Hold(inTx, buyerID, orderID, now, now.Add(orders.UnpaidHold)).Return(nil)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(&product.InsufficientStockError{ProductID: "p1"})
	f.slots.EXPECT().Drop(live, orderID).Return(errors.New("connection reset"))

	_, err := placeItems(t, newLimitedPlaceOrder(f), "")
	assert.ErrorIs(t, err, product.ErrInsufficientStock)
	assert.Contains(t, err.Error(), "giving back the unpaid-order slot of order "+orderID)
}

func TestPlaceOrder_CountFailureReservesNothing(t *testing.T) {
	f := newFixture(t) // no Hold, no Reserve
	expectPriced(f)
	f.slots.EXPECT().CountUnpaid(inTx, buyerID, orderID, now).Return(0, domain.ErrUnavailable)
	_, err := placeItems(t, newLimitedPlaceOrder(f), "")
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}
