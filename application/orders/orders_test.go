package orders_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testsupport"
)

// --- ListOrders ---

func TestListOrders_BuyersSeeTheirOwn(t *testing.T) {
	f := newFixture(t)
	o := pendingOrder(t, orderID, now)
	f.orders.EXPECT().List(gomock.Any(), ports.OrderFilter{UserID: buyerID, Page: 1, PageSize: 20}).Return([]*order.Order{o}, 1, nil)

	got, err := orders.NewListOrders(f.orders).Handle(context.Background(), orders.ListOrdersInput{
		Actor: buyer, UserID: strangerID, // not an admin: the filter is ignored
	})
	require.NoError(t, err)
	assert.Equal(t, orders.OrderPage{Items: []*order.Order{o}, Page: 1, PageSize: 20, Total: 1}, got)
}

func TestListOrders_AdminsSeeAllOrFilterByUser(t *testing.T) {
	for _, c := range []user.Actor{admin, super} {
		for _, uid := range []string{"", buyerID} {
			f := newFixture(t)
			f.orders.EXPECT().List(gomock.Any(), ports.OrderFilter{UserID: uid, Status: order.StatusPaid, Page: 2, PageSize: 100}).Return(nil, 0, nil)
			got, err := orders.NewListOrders(f.orders).Handle(context.Background(), orders.ListOrdersInput{
				Actor: c, UserID: uid, Status: "paid", Page: intp(2), PageSize: intp(100),
			})
			require.NoError(t, err)
			assert.Equal(t, orders.OrderPage{Items: []*order.Order{}, Page: 2, PageSize: 100}, got)
		}
	}
}

func TestListOrders_InvalidParameters(t *testing.T) {
	f := newFixture(t) // no List
	_, err := orders.NewListOrders(f.orders).Handle(context.Background(), orders.ListOrdersInput{
		Actor: buyer, Status: "lost", Page: intp(0), PageSize: intp(101),
	})
	assert.Equal(t, []string{"status", "page", "page_size"}, testsupport.FieldsOf(t, err))
	assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, order.ErrInvalidStatus), "the shared error is not grown")

	_, err = orders.NewListOrders(f.orders).Handle(context.Background(), orders.ListOrdersInput{Actor: buyer, PageSize: intp(0)})
	assert.Equal(t, []string{"page_size"}, testsupport.FieldsOf(t, err))
}

func TestListOrders_NoCallerNeverListsEveryone(t *testing.T) {
	f := newFixture(t) // no List
	_, err := orders.NewListOrders(f.orders).Handle(context.Background(), orders.ListOrdersInput{})
	assert.ErrorIs(t, err, domain.ErrForbidden)
}

// --- GetOrder ---

func TestGetOrder_OwnerAndAdmins(t *testing.T) {
	for _, c := range []user.Actor{buyer, admin, super} {
		f := newFixture(t)
		o := pendingOrder(t, orderID, now)
		f.orders.EXPECT().Get(gomock.Any(), orderID).Return(o, nil)
		got, err := orders.NewGetOrder(f.orders).Handle(context.Background(), orders.GetOrderInput{Actor: c, ID: orderID})
		require.NoError(t, err, c.Role)
		assert.Same(t, o, got)
	}
}

func TestGetOrder_AnyoneElseGetsNotFound(t *testing.T) {
	for _, c := range []user.Actor{stranger, {}} {
		f := newFixture(t)
		f.orders.EXPECT().Get(gomock.Any(), orderID).Return(pendingOrder(t, orderID, now), nil)
		_, err := orders.NewGetOrder(f.orders).Handle(context.Background(), orders.GetOrderInput{Actor: c, ID: orderID})
		assert.ErrorIs(t, err, order.ErrNotFound)
	}
	f := newFixture(t)
	f.orders.EXPECT().Get(gomock.Any(), "nope").Return(nil, order.ErrNotFound)
	_, err := orders.NewGetOrder(f.orders).Handle(context.Background(), orders.GetOrderInput{Actor: buyer, ID: "nope"})
	assert.ErrorIs(t, err, order.ErrNotFound)
}

// --- CancelOrder ---

func newCancel(f fixture) *orders.CancelOrder {
	return orders.NewCancelOrder(testsupport.InlineTx{}, f.orders, f.clicks, f.catalog, testsupport.FixedClock(now))
}

func TestCancelOrder_CancelsOrderAndPreparedClickAttemptsThenReleasesStock(t *testing.T) {
	for _, c := range []user.Actor{buyer, admin, super} {
		t.Run(string(c.Role), func(t *testing.T) {
			f := newFixture(t)
			o := pendingOrder(t, orderID, now.Add(-time.Hour))
			prepared := clickAttempt(t, o, payment.ClickPrepared)
			cancelled := clickAttempt(t, o, payment.ClickCancelled)
			gomock.InOrder(
				f.orders.EXPECT().GetForUpdate(inTx, orderID).Return(o, nil),
				f.orders.EXPECT().Update(inTx, o).Return(nil),
				f.clicks.EXPECT().ListByOrderForUpdate(inTx, orderID).Return([]*payment.ClickTransaction{cancelled, prepared}, nil),
				f.clicks.EXPECT().Update(inTx, prepared).Return(nil), // only the prepared one
				f.catalog.EXPECT().Release(live, orderID, c).Return(nil),
			)
			got, err := newCancel(f).Handle(context.Background(), orders.CancelOrderInput{Actor: c, ID: orderID})
			require.NoError(t, err)
			assert.Equal(t, order.StatusCancelled, got.Status())
			assert.Equal(t, now, got.CancelledAt())
			assert.Equal(t, payment.ClickCancelled, prepared.State())
			assert.Equal(t, now, prepared.CancelledAt())
			assert.Nil(t, prepared.ClickError(), "we ended it: no Click error is invented (cancel_reason null)")
			assert.Equal(t, -5017, *cancelled.ClickError(), "an attempt cancelled before is left alone")
		})
	}
}

func TestCancelOrder_ReleaseOutlivesTheCallerAndIsBounded(t *testing.T) {
	f := newFixture(t)
	ctx, hangUp := context.WithCancel(context.Background())
	o := pendingOrder(t, orderID, now.Add(-time.Hour))
	f.orders.EXPECT().GetForUpdate(inTx, orderID).Return(o, nil)
	f.orders.EXPECT().Update(inTx, o).DoAndReturn(func(context.Context, *order.Order) error {
		hangUp() // the buyer closes the page as the cancellation commits
		return nil
	})
	f.clicks.EXPECT().ListByOrderForUpdate(inTx, orderID).Return(nil, nil)
	f.catalog.EXPECT().Release(detachedBounded, orderID, buyer).Return(nil)

	_, err := newCancel(f).Handle(ctx, orders.CancelOrderInput{Actor: buyer, ID: orderID})
	require.NoError(t, err)
}

func TestCancelOrder_StrangerGetsNotFound(t *testing.T) {
	f := newFixture(t) // no Update, no Release
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(pendingOrder(t, orderID, now), nil)
	_, err := newCancel(f).Handle(context.Background(), orders.CancelOrderInput{Actor: stranger, ID: orderID})
	assert.ErrorIs(t, err, order.ErrNotFound)
}

func TestCancelOrder_OnlyWhilePendingPayment(t *testing.T) {
	for _, c := range []user.Actor{buyer, admin} {
		f := newFixture(t) // no Update, no Release
		o := paidOrder(t, orderID)
		f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(o, nil)
		_, err := newCancel(f).Handle(context.Background(), orders.CancelOrderInput{Actor: c, ID: orderID})
		assert.ErrorIs(t, err, order.ErrIllegalTransition)
		assert.ErrorIs(t, err, domain.ErrConflict)
		assert.Equal(t, order.StatusPaid, o.Status())
	}
}

func TestCancelOrder_FailedTransactionReleasesNothing(t *testing.T) {
	f := newFixture(t) // no Release
	boom := errors.New("boom")
	o := pendingOrder(t, orderID, now)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(o, nil)
	f.orders.EXPECT().Update(gomock.Any(), o).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), orderID).Return([]*payment.ClickTransaction{clickAttempt(t, o, payment.ClickPrepared)}, nil)
	f.clicks.EXPECT().Update(gomock.Any(), gomock.Any()).Return(boom)
	_, err := newCancel(f).Handle(context.Background(), orders.CancelOrderInput{Actor: buyer, ID: orderID})
	assert.ErrorIs(t, err, boom)
}

func TestCancelOrder_FailedReleaseIsReported(t *testing.T) {
	f := newFixture(t)
	o := pendingOrder(t, orderID, now)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(o, nil)
	f.orders.EXPECT().Update(gomock.Any(), o).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), orderID).Return(nil, nil)
	f.catalog.EXPECT().Release(gomock.Any(), orderID, buyer).Return(fmt.Errorf("release: %w", domain.ErrUpstreamUnavailable))
	_, err := newCancel(f).Handle(context.Background(), orders.CancelOrderInput{Actor: buyer, ID: orderID})
	assert.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Contains(t, err.Error(), orderID)
	assert.Equal(t, order.StatusCancelled, o.Status(), "the cancellation itself was committed")
}

// --- ChangeOrderStatus ---

func newChange(f fixture) *orders.ChangeOrderStatus {
	return orders.NewChangeOrderStatus(testsupport.InlineTx{}, f.orders, testsupport.FixedClock(now))
}

func TestChangeOrderStatus_AdvancesPaidOrders(t *testing.T) {
	f := newFixture(t)
	o := paidOrder(t, orderID)
	f.orders.EXPECT().GetForUpdate(inTx, orderID).Return(o, nil).Times(2)
	f.orders.EXPECT().Update(inTx, o).Return(nil).Times(2)

	got, err := newChange(f).Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: admin, ID: orderID, Status: "shipped"})
	require.NoError(t, err)
	assert.Equal(t, order.StatusShipped, got.Status())
	got, err = newChange(f).Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: super, ID: orderID, Status: "delivered"})
	require.NoError(t, err)
	assert.Equal(t, order.StatusDelivered, got.Status())
	assert.Equal(t, now, got.DeliveredAt())
}

func TestChangeOrderStatus_AdminsOnly(t *testing.T) {
	for _, c := range []user.Actor{buyer, stranger, {}} {
		f := newFixture(t) // no GetForUpdate
		_, err := newChange(f).Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: c, ID: orderID, Status: "shipped"})
		assert.ErrorIs(t, err, orders.ErrNotAllowed)
		assert.ErrorIs(t, err, domain.ErrForbidden)
	}
}

func TestChangeOrderStatus_UnknownStatus(t *testing.T) {
	f := newFixture(t) // no GetForUpdate
	_, err := newChange(f).Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: admin, ID: orderID, Status: "teleported"})
	assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, err))
}

func TestChangeOrderStatus_IllegalMoves(t *testing.T) {
	tests := []struct {
		from   func(t *testing.T) *order.Order
		target string
	}{
		{func(t *testing.T) *order.Order { return pendingOrder(t, orderID, now) }, "shipped"},
		{func(t *testing.T) *order.Order { return paidOrder(t, orderID) }, "delivered"},
		{func(t *testing.T) *order.Order { return paidOrder(t, orderID) }, "cancelled"},
		{func(t *testing.T) *order.Order { return paidOrder(t, orderID) }, "refunded"},
		{func(t *testing.T) *order.Order { return pendingOrder(t, orderID, now) }, "paid"},
	}
	for _, tt := range tests {
		t.Run("to "+tt.target, func(t *testing.T) {
			f := newFixture(t) // no Update
			o := tt.from(t)
			f.orders.EXPECT().GetForUpdate(gomock.Any(), orderID).Return(o, nil)
			_, err := newChange(f).Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: admin, ID: orderID, Status: tt.target})
			assert.ErrorIs(t, err, order.ErrIllegalTransition, "%s → %s", o.Status(), tt.target)
			assert.ErrorIs(t, err, domain.ErrConflict)
		})
	}
}

func TestChangeOrderStatus_NotFound(t *testing.T) {
	f := newFixture(t)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), "nope").Return(nil, order.ErrNotFound)
	_, err := newChange(f).Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: admin, ID: "nope", Status: "shipped"})
	assert.ErrorIs(t, err, order.ErrNotFound)
}
