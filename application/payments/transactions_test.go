package payments_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

type txListFixture struct {
	orders *mocks.MockOrderRepository
	payme  *mocks.MockPaymeRepository
	clicks *mocks.MockClickRepository
	uc     *payments.ListTransactions
}

func newTxListFixture(t *testing.T) txListFixture {
	ctrl := gomock.NewController(t)
	f := txListFixture{orders: mocks.NewMockOrderRepository(ctrl), payme: mocks.NewMockPaymeRepository(ctrl), clicks: mocks.NewMockClickRepository(ctrl)}
	f.uc = payments.NewListTransactions(f.orders, f.payme, f.clicks)
	return f
}

func TestListTransactions_MergesBothProvidersOldestFirst(t *testing.T) {
	f := newTxListFixture(t)
	f.orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusRefunded), nil)

	t1 := clickNow.Add(-3 * time.Hour)
	t2 := clickNow.Add(-2 * time.Hour)
	t3 := clickNow.Add(-1 * time.Hour)
	reason := payment.ReasonTimeout
	paymeCancelled := payment.RestorePaymeTransaction("5a105e8b-9d40-4132-9780-d62ea2265d8a", "6650f0e1a2b3c4d5e6f70809",
		clickOrderID, t1.UnixMilli(), clickTotal, map[string]string{"order_id": clickOrderID},
		payment.PaymeCancelled, &reason, t1.UnixMilli(), 0, t2.UnixMilli())
	clickRefunded := payment.RestoreClickTransaction("a1d0c6e8-3f02-4327-9846-1063f4ac58a6", 42, 2_100_000_777, 3_100_000_777, 12345, clickOrderID,
		clickTotal, "50000.00", payment.ClickCancelledAfterConfirm, clickIntPtr(-5017), t2, t3, clickNow)
	clickPending := payment.RestoreClickTransaction("17e62166-fc85-4b6a-a26e-3b7d6f8a4b0c", 43, 2_100_000_778, 3_100_000_778, 12345, clickOrderID,
		money.MustTiyin(1), "0.01", payment.ClickPrepared, nil, t3, time.Time{}, time.Time{})
	f.payme.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return([]*payment.PaymeTransaction{paymeCancelled}, nil)
	f.clicks.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return([]*payment.ClickTransaction{clickPending, clickRefunded}, nil)

	got, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: clickOwner, OrderID: clickOrderID})
	require.NoError(t, err)
	assert.Equal(t, []payments.Transaction{
		{ID: "5a105e8b-9d40-4132-9780-d62ea2265d8a", Provider: payment.ProviderPayme, ProviderTransactionID: "6650f0e1a2b3c4d5e6f70809",
			OrderID: clickOrderID, Amount: clickTotal, State: payment.ClientCancelled,
			CreatedAt: time.UnixMilli(t1.UnixMilli()).UTC(), CancelledAt: time.UnixMilli(t2.UnixMilli()).UTC(), CancelReason: clickIntPtr(4)},
		{ID: "a1d0c6e8-3f02-4327-9846-1063f4ac58a6", Provider: payment.ProviderClick, ProviderTransactionID: "2100000777", OrderID: clickOrderID, Amount: clickTotal,
			State: payment.ClientRefunded, CreatedAt: t2, PerformedAt: t3, CancelledAt: clickNow, CancelReason: clickIntPtr(-5017)},
		{ID: "17e62166-fc85-4b6a-a26e-3b7d6f8a4b0c", Provider: payment.ProviderClick, ProviderTransactionID: "2100000778", OrderID: clickOrderID, Amount: money.MustTiyin(1),
			State: payment.ClientPending, CreatedAt: t3},
	}, got)
}

func TestListTransactions_PaymeStatesAndTimes(t *testing.T) {
	f := newTxListFixture(t)
	f.orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPaid), nil)
	created, performed := clickNow.Add(-time.Hour), clickNow
	performedTx := payment.RestorePaymeTransaction("b6d767d2-f8ed-4d21-a44b-0e5886680cbd", "p1", clickOrderID, created.UnixMilli(),
		clickTotal, nil, payment.PaymePerformed, nil, created.UnixMilli(), performed.UnixMilli(), 0)
	f.payme.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return([]*payment.PaymeTransaction{performedTx}, nil)
	f.clicks.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return(nil, nil)

	got, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: clickOwner, OrderID: clickOrderID})
	require.NoError(t, err)
	require.Len(t, got, 1)
	assert.Equal(t, payment.ClientCompleted, got[0].State)
	assert.Equal(t, performed, got[0].PerformedAt)
	assert.True(t, got[0].CancelledAt.IsZero())
	assert.Nil(t, got[0].CancelReason)
}

// TestListTransactions_OwnerAndAdminsOnly: the order's one visibility rule
// (order.VisibleTo), the same as GET /api/orders/:id's.
func TestListTransactions_OwnerAndAdminsOnly(t *testing.T) {
	cases := []struct {
		name  string
		actor user.Actor
		ok    bool
	}{
		{"owner", clickOwner, true},
		{"admin", user.Actor{ID: clickBuyer2ID, Role: user.RoleAdmin}, true},
		{"super_admin", user.Actor{ID: clickBuyer2ID, Role: user.RoleSuperAdmin}, true},
		{"another customer", user.Actor{ID: clickBuyer2ID, Role: user.RoleCustomer}, false},
		{"a seller", user.Actor{ID: clickBuyer2ID, Role: user.RoleSeller}, false},
		{"an admin role without a user", user.Actor{Role: user.RoleAdmin}, false},
		{"nobody", user.Actor{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newTxListFixture(t)
			f.orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
			if tc.ok {
				f.payme.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return(nil, nil)
				f.clicks.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return(nil, nil)
			}
			got, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: tc.actor, OrderID: clickOrderID})
			if tc.ok {
				require.NoError(t, err)
				assert.NotNil(t, got)
				assert.Empty(t, got)
			} else {
				assert.ErrorIs(t, err, order.ErrNotFound)
			}
		})
	}
}

func TestListTransactions_BadOrUnknownOrderID(t *testing.T) {
	for _, id := range []string{"", "42", "not-a-uuid"} {
		t.Run(fmt.Sprintf("%q", id), func(t *testing.T) {
			f := newTxListFixture(t)
			_, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: clickOwner, OrderID: id})
			assert.Equal(t, []string{"order_id"}, testsupport.FieldsOf(t, err))
		})
	}
	f := newTxListFixture(t)
	f.orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(nil, order.ErrNotFound)
	_, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: clickOwner, OrderID: clickOrderID})
	assert.ErrorIs(t, err, order.ErrNotFound)
}

func TestListTransactions_RepositoryFailuresPropagate(t *testing.T) {
	boom := errors.New("boom")
	t.Run("payme", func(t *testing.T) {
		f := newTxListFixture(t)
		f.orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
		f.payme.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return(nil, boom)
		_, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: clickOwner, OrderID: clickOrderID})
		assert.ErrorIs(t, err, boom)
	})
	t.Run("click", func(t *testing.T) {
		f := newTxListFixture(t)
		f.orders.EXPECT().Get(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
		f.payme.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return(nil, nil)
		f.clicks.EXPECT().ListByOrder(gomock.Any(), clickOrderID).Return(nil, boom)
		_, err := f.uc.Handle(context.Background(), payments.ListTransactionsInput{Actor: clickOwner, OrderID: clickOrderID})
		assert.ErrorIs(t, err, boom)
	})
}
