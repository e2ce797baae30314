package orders_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testsupport"
)

const (
	key   = "b3c1f0e2-key"
	hash  = "5f2b9c0d"
	claim = "c1a1c1a1-0000-4000-8000-00000000c1a1"
)

// claimed is what Begin returns to the request that claimed the key.
var claimed = ports.IdempotencyRecord{RequestHash: hash, Claim: claim}

// newPlaceOrder is the use case with the default release attempts and
// pauses of a millisecond, so the tests of retries stay fast.
func newPlaceOrder(f fixture, tx ports.TxManager) *orders.PlaceOrder {
	return orders.NewPlaceOrder(tx, f.orders, f.carts, f.keys, f.catalog, testsupport.FixedID(orderID), testsupport.FixedClock(now)).
		WithReleaseRetry(orders.DefaultReleaseAttempts, time.Millisecond)
}

func requestItems() []orders.ItemInput {
	return []orders.ItemInput{{ProductID: "p1", Quantity: 2}, {ProductID: "p2", Quantity: 1}, {ProductID: "p1", Quantity: 3}}
}

// expectPriced expects the one Lookup of p1 and p2.
func expectPriced(f fixture) *gomock.Call {
	return f.catalog.EXPECT().Lookup(outOfTx, []string{"p1", "p2"}, buyer).
		Return([]*product.Product{prod("p2", 2_500_050, 9, true), prod("p1", 15_000_000, 9, true)}, nil).Times(1)
}

var mergedHold = []ports.ReservationItem{{ProductID: "p1", Quantity: 5}, {ProductID: "p2", Quantity: 1}}

func TestPlaceOrder_FromItemsPricedByTheCatalog(t *testing.T) {
	f := newFixture(t) // carts and keys: no calls
	var created *order.Order
	gomock.InOrder(
		expectPriced(f),
		f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil),
		f.orders.EXPECT().Create(inTx, gomock.Any()).DoAndReturn(func(_ context.Context, o *order.Order) error {
			created = o
			return nil
		}),
	)

	o, replayed, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, Note: " ring twice ",
	})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Same(t, created, o)
	assert.Equal(t, orderID, o.ID())
	assert.Equal(t, buyerID, o.UserID())
	assert.Equal(t, order.StatusPendingPayment, o.Status())
	items := o.Items()
	require.Len(t, items, 2)
	// The merged line's VAT is of its whole total (5 × 150 000 so'm at 12 %),
	// never the sum of the two requested lines' VATs.
	assert.Equal(t, 12, items[0].VATPercent())
	assert.Equal(t, money.MustTiyin(8_035_714), items[0].VATAmount())
	assert.Equal(t, money.MustTiyin(267_863), items[1].VATAmount(), "267 862.5 rounds half up")
	for i := range items {
		items[i].Fiscal = fiscal.Line{} // compared above
	}
	assert.Equal(t, []order.Item{
		{ProductID: "p1", Name: "Product p1", UnitPrice: money.MustTiyin(15_000_000), Quantity: 5},
		{ProductID: "p2", Name: "Product p2", UnitPrice: money.MustTiyin(2_500_050), Quantity: 1},
	}, items)
	assert.Equal(t, money.MustTiyin(5*15_000_000+2_500_050), o.Total())
	assert.Equal(t, "ring twice", o.Note())
	assert.Equal(t, now, o.CreatedAt())
}

func TestPlaceOrder_FromTheCartEmptiesItInTheSameTransaction(t *testing.T) {
	f := newFixture(t) // keys: no calls
	gomock.InOrder(
		f.carts.EXPECT().Lines(gomock.Any(), buyerID).Return([]ports.CartLine{
			{ProductID: "p1", Quantity: 5, AddedAt: now}, {ProductID: "p2", Quantity: 1, AddedAt: now},
		}, nil),
		expectPriced(f),
		f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil),
		f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil),
		f.carts.EXPECT().Clear(inTx, buyerID).Return(nil),
	)
	o, replayed, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, ShippingAddress: shipTo,
	})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Equal(t, money.MustTiyin(5*15_000_000+2_500_050), o.Total())
}

func TestPlaceOrder_EmptyCart(t *testing.T) {
	f := newFixture(t) // no Lookup, no Reserve
	f.carts.EXPECT().Lines(gomock.Any(), buyerID).Return(nil, nil)
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{Actor: buyer, ShippingAddress: shipTo})
	assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, err))
}

func TestPlaceOrder_ExplicitEmptyItemsDoNotFallBackToTheCart(t *testing.T) {
	f := newFixture(t) // no Lines
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: []orders.ItemInput{}, ShippingAddress: shipTo,
	})
	assert.ErrorIs(t, err, order.ErrEmpty)
}

func TestPlaceOrder_UnknownOrInactiveProductsNamedWithOtherFieldErrors(t *testing.T) {
	f := newFixture(t) // no Reserve, no Create
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"p1", "gone", "off"}, buyer).
		Return([]*product.Product{prod("p1", 100, 9, true), prod("off", 100, 9, false)}, nil)
	addr := shipTo
	addr.Phone = "12345"
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, ShippingAddress: addr, Items: []orders.ItemInput{
			{ProductID: "p1", Quantity: 1}, {ProductID: "gone", Quantity: 1}, {ProductID: "off", Quantity: 0}, {ProductID: "", Quantity: 1},
		},
	})
	assert.Equal(t, []string{
		"items[1].product_id", "items[2].product_id",
		"items[2].quantity", "items[3].product_id", "shipping_address.phone",
	}, testsupport.FieldsOf(t, err))
}

func TestPlaceOrder_TooManyProductsRefusedBeforeTheLookup(t *testing.T) {
	f := newFixture(t) // no Lookup
	items := make([]orders.ItemInput, order.MaxItems+1)
	for i := range items {
		items[i] = orders.ItemInput{ProductID: fmt.Sprintf("p%d", i), Quantity: 1}
	}
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{Actor: buyer, Items: items, ShippingAddress: shipTo})
	assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, err))
}

func TestPlaceOrder_InsufficientStock(t *testing.T) {
	f := newFixture(t) // no Create, no catalog Release: nothing was reserved
	expectPriced(f)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderID, mergedHold, buyer).Return(&product.InsufficientStockError{ProductID: "p2"})
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
	f.keys.EXPECT().Release(live, buyerID, key, claim).Return(nil)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.ErrorIs(t, err, product.ErrInsufficientStock)
	var ise *product.InsufficientStockError
	require.ErrorAs(t, err, &ise)
	assert.Equal(t, "p2", ise.ProductID)
}

func TestPlaceOrder_UncertainReserveIsReleased(t *testing.T) {
	f := newFixture(t) // no Create
	down := fmt.Errorf("reserve: timeout: %w", domain.ErrUpstreamUnavailable)
	expectPriced(f)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderID, mergedHold, buyer).Return(down)
	f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo,
	})
	assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
}

func TestPlaceOrder_FailedTransactionReleasesStockAndKey(t *testing.T) {
	boom := errors.New("insert failed")
	tests := []struct {
		name     string
		tx       ports.TxManager
		createOK bool
	}{
		{"create fails", testsupport.InlineTx{}, false},
		{"commit fails", testsupport.InlineTx{CommitErr: boom}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			gomock.InOrder(
				f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil),
				f.carts.EXPECT().Lines(gomock.Any(), buyerID).Return([]ports.CartLine{{ProductID: "p1", Quantity: 5}, {ProductID: "p2", Quantity: 1}}, nil),
				expectPriced(f),
				f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil),
			)
			if tt.createOK {
				f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)
				f.carts.EXPECT().Clear(inTx, buyerID).Return(nil) // rolled back with the rest
				f.keys.EXPECT().Complete(inTx, buyerID, key, claim, orderID).Return(nil)
			} else {
				f.orders.EXPECT().Create(inTx, gomock.Any()).Return(boom) // no Clear, no Complete
			}
			f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)
			f.keys.EXPECT().Release(live, buyerID, key, claim).Return(nil)

			_, _, err := newPlaceOrder(f, tt.tx).Handle(context.Background(), orders.PlaceOrderInput{
				Actor: buyer, ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
			})
			assert.ErrorIs(t, err, boom)
		})
	}
}

func TestPlaceOrder_CompensationsRunAfterTheClientWentAway(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.Background())
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
	expectPriced(f)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).DoAndReturn(func(context.Context, *order.Order) error {
		cancel()
		return context.Canceled
	})
	f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)
	f.keys.EXPECT().Release(live, buyerID, key, claim).Return(nil)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(ctx, orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.ErrorIs(t, err, context.Canceled)
}

func TestPlaceOrder_FailedCompensationDoesNotHideTheCause(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("insert failed")
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
	expectPriced(f)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(boom)
	f.catalog.EXPECT().Release(live, orderID, buyer).Return(fmt.Errorf("release: %w", domain.ErrUpstreamUnavailable)).
		Times(orders.DefaultReleaseAttempts)
	f.keys.EXPECT().Release(live, buyerID, key, claim).Return(errors.New("redis gone"))

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, domain.ErrUnavailable, "a compensation's failure must not change the answer")
	assert.Contains(t, err.Error(), "releasing the stock of order "+orderID)
	assert.Contains(t, err.Error(), fmt.Sprintf("attempt %d of %d", orders.DefaultReleaseAttempts, orders.DefaultReleaseAttempts))
	assert.Contains(t, err.Error(), "redis gone")
}

// The outage that broke the order's transaction (a killed connection)
// usually breaks a release made at once too: it is tried again, and once it
// succeeds the answer is the transaction's failure alone.
func TestPlaceOrder_ReleaseIsRetriedAfterAFailedTransaction(t *testing.T) {
	down := fmt.Errorf("begin tx: connection reset by peer: %w", domain.ErrUnavailable)
	for _, tt := range []struct {
		name  string
		fails int
	}{{"second attempt", 1}, {"last attempt", orders.DefaultReleaseAttempts - 1}} {
		t.Run(tt.name, func(t *testing.T) {
			f := newFixture(t)
			expectPriced(f)
			f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
			f.orders.EXPECT().Create(inTx, gomock.Any()).Return(fmt.Errorf("insert order: %w", domain.ErrUnavailable))
			gomock.InOrder(
				f.catalog.EXPECT().Release(live, orderID, buyer).Return(down).Times(tt.fails),
				f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil),
			)

			_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
				Actor: buyer, Items: requestItems(), ShippingAddress: shipTo,
			})
			assert.ErrorIs(t, err, domain.ErrUnavailable)
			assert.NotContains(t, err.Error(), "releasing", "the release succeeded in the end")
		})
	}
}

// A reserve whose outcome is unknown is released with the same retries.
func TestPlaceOrder_UncertainReserveReleaseIsRetried(t *testing.T) {
	f := newFixture(t)
	down := fmt.Errorf("reserve: timeout: %w", domain.ErrUpstreamUnavailable)
	expectPriced(f)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderID, mergedHold, buyer).Return(down)
	gomock.InOrder(
		f.catalog.EXPECT().Release(live, orderID, buyer).Return(down).Times(2),
		f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil),
	)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo,
	})
	assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.NotContains(t, err.Error(), "releasing")
}

type requestValue struct{}

// The client hung up while the order was being stored: every release
// attempt still runs, on a context that keeps the request's values (its
// request id for the logs) but not its cancellation, and has a deadline of
// its own so the retries are bounded.
func TestPlaceOrder_ReleaseRetriesOnAContextDetachedFromTheRequest(t *testing.T) {
	f := newFixture(t)
	ctx, cancel := context.WithCancel(context.WithValue(context.Background(), requestValue{}, "req-1"))
	defer cancel()
	detached := ctxMatcher{"a live context with the request's values and a deadline of its own", func(c context.Context) bool {
		_, hasDeadline := c.Deadline()
		return c.Err() == nil && hasDeadline && c.Value(requestValue{}) == "req-1" && !testsupport.InTx(c)
	}}
	expectPriced(f)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).DoAndReturn(func(context.Context, *order.Order) error {
		cancel() // the client went away
		return context.Canceled
	})
	gomock.InOrder(
		f.catalog.EXPECT().Release(detached, orderID, buyer).Return(fmt.Errorf("release: %w", domain.ErrUnavailable)).Times(2),
		f.catalog.EXPECT().Release(detached, orderID, buyer).Return(nil),
	)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(ctx, orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo,
	})
	assert.ErrorIs(t, err, context.Canceled)
	assert.NotContains(t, err.Error(), "releasing")
}

// An answer that will not change is not asked again.
func TestPlaceOrder_ReleaseRefusedIsNotRetried(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("insert failed")
	expectPriced(f)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(boom)
	f.catalog.EXPECT().Release(live, orderID, buyer).Return(domain.Invalid("order_id", "must be a UUID")).Times(1)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo,
	})
	assert.ErrorIs(t, err, boom)
	assert.NotErrorIs(t, err, domain.ErrValidation, "a compensation's failure must not change the answer")
	assert.Contains(t, err.Error(), "attempt 1 of 4")
}

// Between attempts the pause doubles (from the configured first pause).
func TestPlaceOrder_ReleaseBacksOff(t *testing.T) {
	f := newFixture(t)
	boom := errors.New("insert failed")
	expectPriced(f)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(boom)
	var at []time.Time
	f.catalog.EXPECT().Release(live, orderID, buyer).DoAndReturn(func(context.Context, string, user.Actor) error {
		at = append(at, time.Now())
		return domain.ErrUnavailable
	}).Times(4)

	uc := orders.NewPlaceOrder(testsupport.InlineTx{}, f.orders, f.carts, f.keys, f.catalog, testsupport.FixedID(orderID), testsupport.FixedClock(now)).
		WithReleaseRetry(4, 20*time.Millisecond)
	_, _, err := uc.Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo,
	})
	assert.ErrorIs(t, err, boom)
	require.Len(t, at, 4)
	for i, want := range []time.Duration{20 * time.Millisecond, 40 * time.Millisecond, 80 * time.Millisecond} {
		assert.GreaterOrEqual(t, at[i+1].Sub(at[i]), want, "pause %d", i+1)
	}
}

// --- Idempotency-Key ---

func TestPlaceOrder_KeyClaimedCompletesInTheOrdersTransaction(t *testing.T) {
	f := newFixture(t)
	gomock.InOrder(
		f.keys.EXPECT().Begin(outOfTx, buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil),
		expectPriced(f),
		f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil),
		f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil),
		f.keys.EXPECT().Complete(inTx, buyerID, key, claim, orderID).Return(nil),
	)
	o, replayed, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	require.NoError(t, err)
	assert.False(t, replayed)
	assert.Equal(t, orderID, o.ID())
}

func TestPlaceOrder_ReplayReturnsTheFirstOrder(t *testing.T) {
	f := newFixture(t) // no Lookup, Reserve, Create, Release
	first := pendingOrder(t, orderID, now.Add(-time.Hour))
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).
		Return(ports.IdempotencyRecord{RequestHash: hash, ResourceID: orderID}, false, nil)
	f.orders.EXPECT().Get(gomock.Any(), orderID).Return(first, nil)

	o, replayed, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	require.NoError(t, err)
	assert.True(t, replayed)
	assert.Same(t, first, o)
}

func TestPlaceOrder_KeyInProgressIsAConflict(t *testing.T) {
	f := newFixture(t) // no Release: the claim is the other request's
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).
		Return(ports.IdempotencyRecord{RequestHash: hash}, false, nil)

	_, replayed, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.False(t, replayed)
	assert.ErrorIs(t, err, orders.ErrIdempotencyInProgress)
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.NotErrorIs(t, err, orders.ErrIdempotencyKeyReused)
}

func TestPlaceOrder_KeyReusedWithAnotherBody(t *testing.T) {
	for _, rec := range []ports.IdempotencyRecord{
		{RequestHash: "other", ResourceID: orderID}, // completed
		{RequestHash: "other"},                      // still in progress: reuse is the more specific answer
	} {
		f := newFixture(t) // no Get, no Release
		f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(rec, false, nil)
		_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
			Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
		})
		assert.ErrorIs(t, err, orders.ErrIdempotencyKeyReused)
		assert.ErrorIs(t, err, domain.ErrConflict)
	}
}

func TestPlaceOrder_KeyLength(t *testing.T) {
	f := newFixture(t) // no Begin
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: strings.Repeat("k", 256), RequestHash: hash,
	})
	assert.Equal(t, []string{"Idempotency-Key"}, testsupport.FieldsOf(t, err))

	f = newFixture(t)
	long := strings.Repeat("ключ", 255/4) + "k" // 255 characters, more bytes
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, long, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).
		Return(ports.IdempotencyRecord{RequestHash: hash}, false, nil)
	_, _, err = newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: long, RequestHash: hash,
	})
	assert.ErrorIs(t, err, orders.ErrIdempotencyInProgress)
}

func TestPlaceOrder_ValidationFailureReleasesTheKey(t *testing.T) {
	f := newFixture(t) // failures are not cached
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
	f.carts.EXPECT().Lines(gomock.Any(), buyerID).Return(nil, nil)
	f.keys.EXPECT().Release(live, buyerID, key, claim).Return(nil)
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.Equal(t, []string{"items"}, testsupport.FieldsOf(t, err))
}

func TestPlaceOrder_BeginFailure(t *testing.T) {
	f := newFixture(t) // nothing else, no Release
	down := fmt.Errorf("begin: %w", domain.ErrUnavailable)
	f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(ports.IdempotencyRecord{}, false, down)
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

func TestPlaceOrder_MissingRequestHashIsDerivedFromTheInput(t *testing.T) {
	hashes := map[string]string{}
	for _, note := range []string{"a", "a", "b"} {
		f := newFixture(t)
		f.keys.EXPECT().Begin(gomock.Any(), buyerID, key, gomock.Any(), now, orders.IdempotencyTTL, orders.IdempotencyLease).DoAndReturn(
			func(_ context.Context, _, _, h string, _, _, _ any) (ports.IdempotencyRecord, bool, error) {
				hashes[note] = h
				return ports.IdempotencyRecord{RequestHash: h}, false, nil
			}).Times(1)
		_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).Handle(context.Background(), orders.PlaceOrderInput{
			Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, Note: note, IdempotencyKey: key,
		})
		assert.ErrorIs(t, err, orders.ErrIdempotencyInProgress)
	}
	require.Len(t, hashes, 2)
	assert.Len(t, hashes["a"], 64)
	assert.NotEqual(t, hashes["a"], hashes["b"])
}

// A request slower than the lease keeps its key: the lease is renewed while
// the request runs (here every millisecond, while the reservation hangs),
// with the injected clock, and no renewal runs after the request finished.
func TestPlaceOrder_LeaseIsRenewedWhileTheRequestRuns(t *testing.T) {
	f := newFixture(t)
	renewed := make(chan struct{}, 100)
	var mu sync.Mutex
	finished := false
	f.keys.EXPECT().Begin(outOfTx, buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
	f.keys.EXPECT().Renew(gomock.Any(), buyerID, key, claim, now.Add(orders.IdempotencyLease)).DoAndReturn(
		func(context.Context, string, string, string, time.Time) error {
			mu.Lock()
			defer mu.Unlock()
			if finished {
				t.Error("a renewal after the request finished")
			}
			renewed <- struct{}{}
			return nil
		}).MinTimes(2)
	expectPriced(f)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).DoAndReturn(
		func(context.Context, string, []ports.ReservationItem, user.Actor) error {
			for range 2 { // a reservation that outlasts two renewals
				select {
				case <-renewed:
				case <-time.After(10 * time.Second):
					t.Error("the lease was not renewed while the request ran")
				}
			}
			return nil
		})
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)
	f.keys.EXPECT().Complete(inTx, buyerID, key, claim, orderID).Return(nil)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).WithLeaseRenewal(time.Millisecond).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	require.NoError(t, err)
	mu.Lock()
	finished = true
	mu.Unlock()
	time.Sleep(20 * time.Millisecond) // twenty renewal periods: a stray renewal would show
}

// Once the claim is known lost (another request took the key over after
// the lease ended), renewing stops; the request's Complete then fails and
// no order is stored under a key someone else holds.
func TestPlaceOrder_LostClaimIsNotRenewedNorCompleted(t *testing.T) {
	f := newFixture(t)
	lost := fmt.Errorf("renew: %w", domain.ErrConflict)
	renewed := make(chan struct{}, 1)
	f.keys.EXPECT().Begin(outOfTx, buyerID, key, hash, now, orders.IdempotencyTTL, orders.IdempotencyLease).Return(claimed, true, nil)
	f.keys.EXPECT().Renew(gomock.Any(), buyerID, key, claim, gomock.Any()).DoAndReturn(
		func(context.Context, string, string, string, time.Time) error {
			renewed <- struct{}{}
			return lost
		}).Times(1)
	expectPriced(f)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).DoAndReturn(
		func(context.Context, string, []ports.ReservationItem, user.Actor) error {
			<-renewed
			time.Sleep(20 * time.Millisecond) // twenty renewal periods: a further renewal would show
			return nil
		})
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)
	f.keys.EXPECT().Complete(inTx, buyerID, key, claim, orderID).Return(fmt.Errorf("complete: %w", domain.ErrConflict))
	f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)
	f.keys.EXPECT().Release(live, buyerID, key, claim).Return(nil)

	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).WithLeaseRenewal(time.Millisecond).Handle(context.Background(), orders.PlaceOrderInput{
		Actor: buyer, Items: requestItems(), ShippingAddress: shipTo, IdempotencyKey: key, RequestHash: hash,
	})
	assert.ErrorIs(t, err, domain.ErrConflict)
}
