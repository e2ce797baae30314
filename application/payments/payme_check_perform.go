package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymeCheckPerformInput is CheckPerformTransaction's params.
type PaymeCheckPerformInput struct {
	Amount  money.Money
	Account map[string]string
}

// PaymeCheckPerformResult is the answer to a payable order: Detail, from
// which Payme prints the sale receipt, when HasDetail (every line of the
// order has full fiscal data).
type PaymeCheckPerformResult struct {
	Detail    fiscal.PaymeDetail
	HasDetail bool
}

// PaymeCheckPerformTransaction answers "can this order be paid with this
// amount?" before Payme creates a transaction. It changes nothing.
type PaymeCheckPerformTransaction struct {
	orders ports.OrderRepository
	payme  ports.PaymeRepository
	clock  ports.Clock
}

// NewPaymeCheckPerformTransaction wires the use case.
func NewPaymeCheckPerformTransaction(orders ports.OrderRepository, payme ports.PaymeRepository, clock ports.Clock) *PaymeCheckPerformTransaction {
	return &PaymeCheckPerformTransaction{orders: orders, payme: payme, clock: clock}
}

// Handle returns no error when the payment may go ahead, with the fiscal
// detail built from the order's line snapshots when they are complete. Errors, in the order they
// are checked: ErrPaymeOrderNotFound; payment.ErrAmountMismatch when amount is
// not the order total; order.ErrNotPayable when the order is not
// pending_payment (paid, cancelled, refunded, shipped, ...);
// payment.ErrOrderHeld when another Payme transaction that has not timed out
// holds the order.
func (uc *PaymeCheckPerformTransaction) Handle(ctx context.Context, in PaymeCheckPerformInput) (PaymeCheckPerformResult, error) {
	o, err := uc.check(ctx, in)
	if err != nil {
		return PaymeCheckPerformResult{}, err
	}
	detail, ok := fiscal.PaymeDetailFor(o.FiscalLines())
	return PaymeCheckPerformResult{Detail: detail, HasDetail: ok}, nil
}

func (uc *PaymeCheckPerformTransaction) check(ctx context.Context, in PaymeCheckPerformInput) (*order.Order, error) {
	orderID, ok := paymeOrderID(in.Account)
	if !ok {
		return nil, ErrPaymeOrderNotFound
	}
	o, err := uc.orders.Get(ctx, orderID)
	if errors.Is(err, order.ErrNotFound) {
		return nil, fmt.Errorf("%w (%w)", ErrPaymeOrderNotFound, err)
	}
	if err != nil {
		return nil, fmt.Errorf("payme check perform: get order %s: %w", orderID, err)
	}
	if !in.Amount.Equal(o.Total()) {
		return nil, fmt.Errorf("payme check perform: order %s: amount %d, total %d: %w",
			orderID, in.Amount.Tiyin(), o.Total().Tiyin(), payment.ErrAmountMismatch)
	}
	if err := o.CheckPayable(); err != nil {
		return nil, fmt.Errorf("payme check perform: order %s is %s: %w", orderID, o.Status(), err)
	}
	live, err := uc.payme.HasLive(ctx, orderID, uc.clock.Now())
	if err != nil {
		return nil, fmt.Errorf("payme check perform: live transactions of order %s: %w", orderID, err)
	}
	if live {
		return nil, fmt.Errorf("payme check perform: order %s: %w", orderID, payment.ErrOrderHeld)
	}
	return o, nil
}
