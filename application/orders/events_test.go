package orders_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// expectEvent expects one event of the order with id in status want,
// recorded inside the transaction (after the change was saved).
func expectEvent(events *mocks.MockOrderEvents, id string, want order.Status) *gomock.Call {
	return events.EXPECT().Record(inTx, gomock.Any()).DoAndReturn(func(_ context.Context, o *order.Order) error {
		if o.ID() != id || o.Status() != want {
			return errors.New("unexpected event of order " + o.ID() + " in status " + string(o.Status()))
		}
		return nil
	})
}

func TestPlaceOrder_RecordsPlacedInTheOrdersTransaction(t *testing.T) {
	f := newFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	gomock.InOrder(
		expectPriced(f),
		f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil),
		f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil),
		expectEvent(events, orderID, order.StatusPendingPayment),
	)
	_, _, err := newPlaceOrder(f, testsupport.InlineTx{}).WithEvents(events).Handle(context.Background(),
		orders.PlaceOrderInput{Actor: buyer, Items: requestItems(), ShippingAddress: shipTo})
	require.NoError(t, err)
}

// An event that cannot be written fails the placement: a change without its
// event would break "an event exists if and only if its change committed".
func TestPlaceOrder_FailedEventRollsThePlacementBack(t *testing.T) {
	f := newFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	tx := &testsupport.RecordingTx{}
	boom := errors.New("outbox insert failed")
	expectPriced(f)
	f.catalog.EXPECT().Reserve(outOfTx, orderID, mergedHold, buyer).Return(nil)
	f.orders.EXPECT().Create(inTx, gomock.Any()).Return(nil)
	events.EXPECT().Record(inTx, gomock.Any()).Return(boom)
	f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil)

	_, _, err := newPlaceOrder(f, tx).WithEvents(events).Handle(context.Background(),
		orders.PlaceOrderInput{Actor: buyer, Items: requestItems(), ShippingAddress: shipTo})
	require.ErrorIs(t, err, boom)
	assert.True(t, tx.RolledBack())
}

func TestCancelOrder_RecordsCancelled(t *testing.T) {
	f := newFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	o := pendingOrder(t, orderID, now.Add(-time.Hour))
	gomock.InOrder(
		f.orders.EXPECT().GetForUpdate(inTx, orderID).Return(o, nil),
		f.orders.EXPECT().Update(inTx, o).Return(nil),
		expectEvent(events, orderID, order.StatusCancelled),
		f.clicks.EXPECT().ListByOrderForUpdate(inTx, orderID).Return(nil, nil),
		f.catalog.EXPECT().Release(live, orderID, buyer).Return(nil),
	)
	_, err := newCancel(f).WithEvents(events).Handle(context.Background(), orders.CancelOrderInput{Actor: buyer, ID: orderID})
	require.NoError(t, err)
}

func TestCancelOrder_RefusedRecordsNothing(t *testing.T) {
	f := newFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t)) // no Record
	f.orders.EXPECT().GetForUpdate(inTx, orderID).Return(paidOrder(t, orderID), nil)
	_, err := newCancel(f).WithEvents(events).Handle(context.Background(), orders.CancelOrderInput{Actor: buyer, ID: orderID})
	require.ErrorIs(t, err, order.ErrIllegalTransition)
}

func TestChangeOrderStatus_RecordsShippedAndDelivered(t *testing.T) {
	f := newFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	o := paidOrder(t, orderID)
	f.orders.EXPECT().GetForUpdate(inTx, orderID).Return(o, nil).Times(2)
	f.orders.EXPECT().Update(inTx, o).Return(nil).Times(2)
	gomock.InOrder(
		expectEvent(events, orderID, order.StatusShipped),
		expectEvent(events, orderID, order.StatusDelivered),
	)
	uc := newChange(f).WithEvents(events)
	for _, s := range []string{"shipped", "delivered"} {
		_, err := uc.Handle(context.Background(), orders.ChangeOrderStatusInput{Actor: admin, ID: orderID, Status: s})
		require.NoError(t, err)
	}
}

func TestExpire_RecordsCancelledForExpiredOrdersOnly(t *testing.T) {
	f := newFixture(t)
	events := mocks.NewMockOrderEvents(gomock.NewController(t))
	free, held := overdue(t, 1), overdue(t, 2)
	f.orders.EXPECT().LockOverdue(inTx, cutoff, ports.OverdueCursor{}, orders.DefaultExpiryBatch).Return([]*order.Order{free, held}, nil)
	f.payme.EXPECT().HasLive(inTx, free.ID(), now).Return(false, nil)
	f.payme.EXPECT().HasLive(inTx, held.ID(), now).Return(true, nil)
	f.orders.EXPECT().Update(inTx, free).Return(nil)
	expectEvent(events, free.ID(), order.StatusCancelled)
	f.clicks.EXPECT().ListByOrderForUpdate(inTx, free.ID()).Return(nil, nil)
	f.catalog.EXPECT().Release(live, free.ID(), user.Actor{}).Return(nil)

	n, err := newExpire(f, testsupport.InlineTx{}).WithEvents(events).Handle(context.Background(), orders.ExpireInput{Now: now})
	require.NoError(t, err)
	assert.Equal(t, 1, n)
}
