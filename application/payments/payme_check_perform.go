package payments

import (
	"context"
	"errors"
	"fmt"

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

// Handle returns nil when the payment may go ahead. Errors, in the order they
// are checked: ErrPaymeOrderNotFound; payment.ErrAmountMismatch when amount is
// not the order total; order.ErrNotPayable when the order is not
// pending_payment (paid, cancelled, refunded, shipped, ...);
// payment.ErrOrderHeld when another Payme transaction that has not timed out
// holds the order.
func (uc *PaymeCheckPerformTransaction) Handle(ctx context.Context, in PaymeCheckPerformInput) error {
	orderID, ok := paymeOrderID(in.Account)
	if !ok {
		return ErrPaymeOrderNotFound
	}
	o, err := uc.orders.Get(ctx, orderID)
	if errors.Is(err, order.ErrNotFound) {
		return fmt.Errorf("%w (%w)", ErrPaymeOrderNotFound, err)
	}
	if err != nil {
		return fmt.Errorf("payme check perform: get order %s: %w", orderID, err)
	}
	if !in.Amount.Equal(o.Total()) {
		return fmt.Errorf("payme check perform: order %s: amount %d, total %d: %w",
			orderID, in.Amount.Tiyin(), o.Total().Tiyin(), payment.ErrAmountMismatch)
	}
	if err := o.CheckPayable(); err != nil {
		return fmt.Errorf("payme check perform: order %s is %s: %w", orderID, o.Status(), err)
	}
	live, err := uc.payme.HasLive(ctx, orderID, uc.clock.Now())
	if err != nil {
		return fmt.Errorf("payme check perform: live transactions of order %s: %w", orderID, err)
	}
	if live {
		return fmt.Errorf("payme check perform: order %s: %w", orderID, payment.ErrOrderHeld)
	}
	return nil
}
