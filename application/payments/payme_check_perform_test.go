package payments_test

import (
	"context"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

func newPaymeCheckPerform(t *testing.T) (*payments.PaymeCheckPerformTransaction, *paymeMocks) {
	m := newPaymeMocks(t)
	return payments.NewPaymeCheckPerformTransaction(m.orders, m.payme, m.clock), m
}

func paymeCheckPerformInput(account map[string]string) payments.PaymeCheckPerformInput {
	return payments.PaymeCheckPerformInput{Amount: paymeTotal, Account: account}
}

func TestPaymeCheckPerform_AllowsAPendingOrderWithItsTotal(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
	// Live means Payme time within the last 12 hours, exactly 12 included.
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, nil)

	require.NoError(t, uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(paymeOrderID))))
}

func TestPaymeCheckPerform_OrderIDInUpperCaseIsTheSameOrder(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, nil)

	upper := "5A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
	require.NoError(t, uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(upper))))
}

func TestPaymeCheckPerform_AccountWithoutAnOrderOfOursIsOrderNotFound(t *testing.T) {
	for name, account := range map[string]map[string]string{
		"no account":       nil,
		"no order_id":      {"phone": "998901234567"},
		"empty":            {"order_id": ""},
		"not a uuid":       {"order_id": "1001"},
		"uuid with braces": {"order_id": "{5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d}"},
		"urn uuid":         {"order_id": "urn:uuid:5a1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d"},
	} {
		t.Run(name, func(t *testing.T) {
			uc, _ := newPaymeCheckPerform(t) // no repository call
			err := uc.Handle(context.Background(), paymeCheckPerformInput(account))
			assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
		})
	}
	t.Run("unknown order", func(t *testing.T) {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(nil, order.ErrNotFound)
		err := uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(paymeOrderID)))
		assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
	})
}

func TestPaymeCheckPerform_AmountOtherThanTheTotal(t *testing.T) {
	for _, amount := range []int64{1, paymeTotal.Tiyin() - 1, paymeTotal.Tiyin() + 1, paymeTotal.Tiyin() * 100} {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
		in := payments.PaymeCheckPerformInput{Amount: money.MustTiyin(amount), Account: paymeAccount(paymeOrderID)}
		assert.ErrorIs(t, uc.Handle(context.Background(), in), payment.ErrAmountMismatch, "amount %d", amount)
	}
}

func TestPaymeCheckPerform_AmountIsCheckedBeforeTheStatus(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPaid), nil)
	in := payments.PaymeCheckPerformInput{Amount: money.MustTiyin(1), Account: paymeAccount(paymeOrderID)}
	assert.ErrorIs(t, uc.Handle(context.Background(), in), payment.ErrAmountMismatch)
}

func TestPaymeCheckPerform_OrderThatIsNotPendingPaymentIsNotPayable(t *testing.T) {
	for _, status := range paymeNotPayable {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newPaymeCheckPerform(t)
			m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, status), nil)
			err := uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(paymeOrderID)))
			assert.ErrorIs(t, err, order.ErrNotPayable)
		})
	}
}

func TestPaymeCheckPerform_OrderHeldByAnotherLiveTransaction(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(true, nil)

	err := uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(paymeOrderID)))
	assert.ErrorIs(t, err, payment.ErrOrderHeld)
}

func TestPaymeCheckPerform_DatabaseFailuresAreInternal(t *testing.T) {
	t.Run("order", func(t *testing.T) {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(nil, errPaymeDB)
		assertPaymeInternal(t, uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(paymeOrderID))))
	})
	t.Run("live transactions", func(t *testing.T) {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
		m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, errPaymeDB)
		assertPaymeInternal(t, uc.Handle(context.Background(), paymeCheckPerformInput(paymeAccount(paymeOrderID))))
	})
}
