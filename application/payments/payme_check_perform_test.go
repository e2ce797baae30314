package payments_test

import (
	"context"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

func newPaymeCheckPerform(t *testing.T) (*payments.PaymeCheckPerformTransaction, *paymeMocks) {
	m := newPaymeMocks(t)
	return payments.NewPaymeCheckPerformTransaction(m.orders, m.payme, m.clock), m
}

// checkPerform runs the use case for its error alone.
func checkPerform(uc *payments.PaymeCheckPerformTransaction, in payments.PaymeCheckPerformInput) error {
	_, err := uc.Handle(context.Background(), in)
	return err
}

func paymeCheckPerformInput(account map[string]string) payments.PaymeCheckPerformInput {
	return payments.PaymeCheckPerformInput{Amount: paymeTotal, Account: account}
}

func TestPaymeCheckPerform_AllowsAPendingOrderWithItsTotal(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
	// Live means Payme time within the last 12 hours, exactly 12 included.
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, nil)

	require.NoError(t, checkPerform(uc, paymeCheckPerformInput(paymeAccount(paymeOrderID))))
}

func TestPaymeCheckPerform_OrderIDInUpperCaseIsTheSameOrder(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, nil)

	upper := "5A1B2C3D-4E5F-4A6B-8C7D-9E0F1A2B3C4D"
	require.NoError(t, checkPerform(uc, paymeCheckPerformInput(paymeAccount(upper))))
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
			err := checkPerform(uc, paymeCheckPerformInput(account))
			assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
		})
	}
	t.Run("unknown order", func(t *testing.T) {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(nil, order.ErrNotFound)
		err := checkPerform(uc, paymeCheckPerformInput(paymeAccount(paymeOrderID)))
		assert.ErrorIs(t, err, payments.ErrPaymeOrderNotFound)
	})
}

func TestPaymeCheckPerform_AmountOtherThanTheTotal(t *testing.T) {
	for _, amount := range []int64{1, paymeTotal.Tiyin() - 1, paymeTotal.Tiyin() + 1, paymeTotal.Tiyin() * 100} {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
		in := payments.PaymeCheckPerformInput{Amount: money.MustTiyin(amount), Account: paymeAccount(paymeOrderID)}
		assert.ErrorIs(t, checkPerform(uc, in), payment.ErrAmountMismatch, "amount %d", amount)
	}
}

func TestPaymeCheckPerform_AmountIsCheckedBeforeTheStatus(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPaid), nil)
	in := payments.PaymeCheckPerformInput{Amount: money.MustTiyin(1), Account: paymeAccount(paymeOrderID)}
	assert.ErrorIs(t, checkPerform(uc, in), payment.ErrAmountMismatch)
}

func TestPaymeCheckPerform_OrderThatIsNotPendingPaymentIsNotPayable(t *testing.T) {
	for _, status := range paymeNotPayable {
		t.Run(string(status), func(t *testing.T) {
			uc, m := newPaymeCheckPerform(t)
			m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, status), nil)
			err := checkPerform(uc, paymeCheckPerformInput(paymeAccount(paymeOrderID)))
			assert.ErrorIs(t, err, order.ErrNotPayable)
		})
	}
}

func TestPaymeCheckPerform_OrderHeldByAnotherLiveTransaction(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(true, nil)

	err := checkPerform(uc, paymeCheckPerformInput(paymeAccount(paymeOrderID)))
	assert.ErrorIs(t, err, payment.ErrOrderHeld)
}

func TestPaymeCheckPerform_DatabaseFailuresAreInternal(t *testing.T) {
	t.Run("order", func(t *testing.T) {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(nil, errPaymeDB)
		assertPaymeInternal(t, checkPerform(uc, paymeCheckPerformInput(paymeAccount(paymeOrderID))))
	})
	t.Run("live transactions", func(t *testing.T) {
		uc, m := newPaymeCheckPerform(t)
		m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(paymeOrder(paymeOrderID, order.StatusPendingPayment), nil)
		m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, errPaymeDB)
		assertPaymeInternal(t, checkPerform(uc, paymeCheckPerformInput(paymeAccount(paymeOrderID))))
	})
}

// twoSellerOrder is a pending order of two lines from two sellers: a VAT
// payer's T-shirts (with a unit code) and a kettle from a seller outside VAT.
func twoSellerOrder(t *testing.T, complete bool) *order.Order {
	t.Helper()
	ikpu := func(s string) *string { return &s }
	unit := int64(1111)
	shirt, err := fiscal.NewIdentity(fiscal.IdentityDraft{IKPUCode: ikpu("11111111111111111"), PackageCode: ikpu("1111111"), UnitCode: &unit})
	require.NoError(t, err)
	kettleDraft := fiscal.IdentityDraft{IKPUCode: ikpu("22222222222222222")}
	if complete {
		kettleDraft.PackageCode = ikpu("2222222")
	}
	kettle, err := fiscal.NewIdentity(kettleDraft)
	require.NoError(t, err)
	company, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: ikpu("123456789"), VATPayer: true})
	require.NoError(t, err)
	person, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{PINFL: ikpu("12345678901234"), VATPayer: false})
	require.NoError(t, err)
	line := func(name string, price, qty int64, id fiscal.Identity, seller fiscal.SellerProfile) fiscal.Line {
		l, err := fiscal.NewLine(fiscal.LineDraft{Name: name, UnitPrice: money.MustTiyin(price), Quantity: qty, Product: id, Seller: &seller})
		require.NoError(t, err)
		return l
	}
	items := []order.Item{
		{ProductID: "0a1b2c3d-0000-4000-8000-000000000001", Name: "Futbolka paxta", UnitPrice: money.MustTiyin(15_000_000),
			Quantity: 2, Fiscal: line("Futbolka paxta", 15_000_000, 2, shirt, company)},
		{ProductID: "0a1b2c3d-0000-4000-8000-000000000002", Name: "Elektr choynak", UnitPrice: money.MustTiyin(25_000_000),
			Quantity: 1, Fiscal: line("Elektr choynak", 25_000_000, 1, kettle, person)},
	}
	created := paymeNow.Add(-time.Hour)
	return order.Restore(paymeOrderID, paymeUserID, order.StatusPendingPayment, items, money.MustTiyin(55_000_000),
		order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "",
		created, created, time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{})
}

func TestPaymeCheckPerform_DetailOfATwoSellerOrder(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(twoSellerOrder(t, true), nil)
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, nil)

	res, err := uc.Handle(context.Background(), payments.PaymeCheckPerformInput{
		Amount: money.MustTiyin(55_000_000), Account: paymeAccount(paymeOrderID)})
	require.NoError(t, err)
	require.True(t, res.HasDetail)
	assert.Equal(t, fiscal.PaymeDetail{ReceiptType: 0, Items: []fiscal.PaymeItem{
		{Title: "Futbolka paxta", Price: money.MustTiyin(15_000_000), Count: 2, Code: "11111111111111111",
			PackageCode: "1111111", VATPercent: 12, Units: 1111},
		// The seller pays no VAT: the line's rate is 0 whatever the product says.
		{Title: "Elektr choynak", Price: money.MustTiyin(25_000_000), Count: 1, Code: "22222222222222222",
			PackageCode: "2222222", VATPercent: 0},
	}}, res.Detail)
}

func TestPaymeCheckPerform_NoDetailWithoutFullFiscalData(t *testing.T) {
	uc, m := newPaymeCheckPerform(t)
	m.orders.EXPECT().Get(paymeAny, paymeOrderID).Return(twoSellerOrder(t, false), nil)
	m.payme.EXPECT().HasLive(paymeAny, paymeOrderID, paymeNow).Return(false, nil)

	res, err := uc.Handle(context.Background(), payments.PaymeCheckPerformInput{
		Amount: money.MustTiyin(55_000_000), Account: paymeAccount(paymeOrderID)})
	require.NoError(t, err)
	assert.False(t, res.HasDetail, "a line without its package code: allow alone, as before")
}
