package payments_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

type clickPrepareFixture struct {
	orders *mocks.MockOrderRepository
	clicks *mocks.MockClickRepository
	uc     *payments.ClickPrepare
}

func newClickPrepareFixture(t *testing.T) clickPrepareFixture {
	ctrl := gomock.NewController(t)
	f := clickPrepareFixture{orders: mocks.NewMockOrderRepository(ctrl), clicks: mocks.NewMockClickRepository(ctrl)}
	f.uc = payments.NewClickPrepare(testsupport.InlineTx{}, f.orders, f.clicks, testsupport.FixedID(clickAttemptID), testsupport.FixedClock(clickNow))
	return f
}

func clickPrepareInput() payments.ClickPrepareInput {
	return payments.ClickPrepareInput{ClickTransID: clickTransID, ClickPaydocID: 3_100_000_001, ServiceID: 12345,
		MerchantTransID: clickOrderID, Amount: clickTotal.Tiyin(), AmountRaw: "50000"}
}

func TestClickPrepare_NewAttemptIsStoredWithItsPrepareID(t *testing.T) {
	f := newClickPrepareFixture(t)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
	f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(nil, payment.ErrNotFound)
	f.clicks.EXPECT().Insert(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, tx *payment.ClickTransaction) error {
		assert.Equal(t, clickAttemptID, tx.ID(), "a new UUID of our own")
		assert.Equal(t, clickTransID, tx.ClickTransID())
		assert.Equal(t, int64(3_100_000_001), tx.ClickPaydocID())
		assert.Equal(t, int64(12345), tx.ServiceID())
		assert.Equal(t, clickOrderID, tx.OrderID())
		assert.Equal(t, clickTotal, tx.Amount())
		assert.Equal(t, "50000", tx.AmountRaw(), "the raw amount is kept as Click signed it")
		assert.Equal(t, payment.ClickPrepared, tx.State())
		assert.Equal(t, clickNow, tx.PreparedAt())
		tx.SetPrepareID(clickPrepID)
		return nil
	})

	got, err := f.uc.Handle(context.Background(), clickPrepareInput())
	require.NoError(t, err)
	assert.Equal(t, clickPrepID, got.PrepareID())
	assert.Equal(t, clickAttemptID, got.ID())
}

func TestClickPrepare_RepeatedClickTransIDReturnsTheSameAttempt(t *testing.T) {
	f := newClickPrepareFixture(t)
	stored := clickAttempt(clickOrderID, payment.ClickPrepared)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
	f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(stored, nil)
	// No Insert: a second row would be a second merchant_prepare_id.

	got, err := f.uc.Handle(context.Background(), clickPrepareInput())
	require.NoError(t, err)
	assert.Same(t, stored, got)
	assert.Equal(t, clickPrepID, got.PrepareID())
}

func TestClickPrepare_OrderIDThatIsNoUUIDIsUnknownWithoutAskingTheDatabase(t *testing.T) {
	for _, id := range []string{"", "1001", "not-a-uuid", clickOrderID + "0", "8F14E45F-CEEA-467E-9F7B-3C1D2A6B7E0"} {
		t.Run(id, func(t *testing.T) {
			f := newClickPrepareFixture(t) // no EXPECT: a repository call fails the test
			in := clickPrepareInput()
			in.MerchantTransID = id
			_, err := f.uc.Handle(context.Background(), in)
			assert.ErrorIs(t, err, order.ErrNotFound)
		})
	}
}

func TestClickPrepare_UnknownOrder(t *testing.T) {
	f := newClickPrepareFixture(t)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(nil, order.ErrNotFound)

	_, err := f.uc.Handle(context.Background(), clickPrepareInput())
	assert.ErrorIs(t, err, order.ErrNotFound)
}

func TestClickPrepare_ClickTransIDOfAnotherOrderIsAMismatch(t *testing.T) {
	f := newClickPrepareFixture(t)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
	f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(clickAttempt(clickOtherID, payment.ClickPrepared), nil)

	_, err := f.uc.Handle(context.Background(), clickPrepareInput())
	assert.ErrorIs(t, err, payments.ErrClickAttemptMismatch)
	assert.ErrorIs(t, err, payment.ErrNotFound, "Click hears -6")
}

func TestClickPrepare_ChecksInClicksOrder(t *testing.T) {
	cases := []struct {
		name    string
		status  order.Status
		attempt payment.ClickState // 0: none stored yet
		amount  int64
		want    error
	}{
		{"order paid", order.StatusPaid, 0, clickTotal.Tiyin(), payment.ErrAlreadyPaid},
		{"order shipped", order.StatusShipped, 0, clickTotal.Tiyin(), payment.ErrAlreadyPaid},
		{"order delivered", order.StatusDelivered, 0, clickTotal.Tiyin(), payment.ErrAlreadyPaid},
		{"attempt confirmed", order.StatusPaid, payment.ClickConfirmed, clickTotal.Tiyin(), payment.ErrAlreadyPaid},
		{"paid comes before amount", order.StatusPaid, 0, 1, payment.ErrAlreadyPaid},
		{"amount differs", order.StatusPendingPayment, 0, clickTotal.Tiyin() + 1, payment.ErrAmountMismatch},
		{"amount zero", order.StatusPendingPayment, 0, 0, payment.ErrAmountMismatch},
		{"amount negative", order.StatusPendingPayment, 0, -clickTotal.Tiyin(), payment.ErrAmountMismatch},
		{"amount comes before cancelled", order.StatusCancelled, 0, 1, payment.ErrAmountMismatch},
		{"order cancelled", order.StatusCancelled, 0, clickTotal.Tiyin(), payment.ErrClickCancelled},
		{"order refunded", order.StatusRefunded, 0, clickTotal.Tiyin(), payment.ErrClickCancelled},
		{"attempt cancelled", order.StatusPendingPayment, payment.ClickCancelled, clickTotal.Tiyin(), payment.ErrClickCancelled},
		{"attempt cancelled after confirm", order.StatusRefunded, payment.ClickCancelledAfterConfirm, clickTotal.Tiyin(), payment.ErrClickCancelled},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newClickPrepareFixture(t)
			f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, tc.status), nil)
			if tc.attempt == 0 {
				f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(nil, payment.ErrNotFound)
			} else {
				f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(clickAttempt(clickOrderID, tc.attempt), nil)
			}
			in := clickPrepareInput()
			in.Amount = tc.amount

			got, err := f.uc.Handle(context.Background(), in)
			assert.ErrorIs(t, err, tc.want)
			assert.Nil(t, got)
			for _, other := range []error{payment.ErrAlreadyPaid, payment.ErrAmountMismatch, payment.ErrClickCancelled} {
				if !errors.Is(other, tc.want) {
					assert.NotErrorIs(t, err, other, "one answer only")
				}
			}
		})
	}
}

func TestClickPrepare_ConcurrentInsertOfTheSameClickTransIDIsAMismatch(t *testing.T) {
	f := newClickPrepareFixture(t)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
	f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(nil, payment.ErrNotFound)
	f.clicks.EXPECT().Insert(gomock.Any(), gomock.Any()).Return(payment.ErrDuplicate)

	_, err := f.uc.Handle(context.Background(), clickPrepareInput())
	assert.ErrorIs(t, err, payments.ErrClickAttemptMismatch)
}

func TestClickPrepare_RepositoryFailuresAreNotProtocolAnswers(t *testing.T) {
	boom := errors.New("connection reset")
	protocol := []error{order.ErrNotFound, payment.ErrNotFound, payment.ErrAlreadyPaid, payment.ErrAmountMismatch, payment.ErrClickCancelled}
	steps := map[string]func(f clickPrepareFixture){
		"lock order": func(f clickPrepareFixture) {
			f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(nil, boom)
		},
		"find attempt": func(f clickPrepareFixture) {
			f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
			f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(nil, boom)
		},
		"insert": func(f clickPrepareFixture) {
			f.orders.EXPECT().GetForUpdate(gomock.Any(), clickOrderID).Return(clickOrder(clickOrderID, order.StatusPendingPayment), nil)
			f.clicks.EXPECT().GetByClickTransIDForUpdate(gomock.Any(), clickTransID).Return(nil, payment.ErrNotFound)
			f.clicks.EXPECT().Insert(gomock.Any(), gomock.Any()).Return(boom)
		},
	}
	for name, setup := range steps {
		t.Run(name, func(t *testing.T) {
			f := newClickPrepareFixture(t)
			setup(f)
			_, err := f.uc.Handle(context.Background(), clickPrepareInput())
			require.ErrorIs(t, err, boom)
			for _, p := range protocol {
				assert.NotErrorIs(t, err, p)
			}
		})
	}
}
