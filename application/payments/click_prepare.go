package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// ErrClickAttemptMismatch: Click -6. The attempt Click names exists, but not
// as Click describes it: merchant_prepare_id belongs to another
// click_trans_id or order, or a click_trans_id is already an attempt of
// another order. It wraps payment.ErrNotFound, because for Click that
// attempt does not exist.
var ErrClickAttemptMismatch = fmt.Errorf("payments: click attempt does not match the request: %w", payment.ErrNotFound)

// ClickPrepareInput is a Prepare whose protocol checks (fields, service id,
// signature, action) the adapter has done.
type ClickPrepareInput struct {
	ClickTransID    int64
	ClickPaydocID   int64
	ServiceID       int64
	MerchantTransID string // our order id, as Click sent it
	// Amount is Click's amount converted exactly to tiyin. It may be zero or
	// negative, since Click may send such a number (answered -2).
	Amount int64
	// AmountRaw is the amount as Click wrote it, which is what it signs.
	AmountRaw string
}

// ClickPrepare answers Click's Prepare: the order can be paid with this
// amount, and here is our id of the attempt (merchant_prepare_id). A repeated
// Prepare of one click_trans_id gets the same attempt back.
type ClickPrepare struct {
	tx     ports.TxManager
	orders ports.OrderRepository
	clicks ports.ClickRepository
	ids    ports.IDGenerator
	clock  ports.Clock
}

// NewClickPrepare wires the use case; ids gives each new attempt its UUID.
func NewClickPrepare(tx ports.TxManager, orders ports.OrderRepository, clicks ports.ClickRepository, ids ports.IDGenerator, clock ports.Clock) *ClickPrepare {
	return &ClickPrepare{tx: tx, orders: orders, clicks: clicks, ids: ids, clock: clock}
}

// Handle returns the prepared attempt; its PrepareID is merchant_prepare_id.
// The errors are Click's answers, checked in Click's order: order.ErrNotFound
// (-5), ErrClickAttemptMismatch (-6), payment.ErrAlreadyPaid (-4),
// payment.ErrAmountMismatch (-2), payment.ErrClickCancelled (-9). Anything
// else is an internal failure (-7) and changed nothing.
func (uc *ClickPrepare) Handle(ctx context.Context, in ClickPrepareInput) (*payment.ClickTransaction, error) {
	if !domain.IsID(in.MerchantTransID) {
		return nil, fmt.Errorf("click prepare %d: order %q: %w", in.ClickTransID, in.MerchantTransID, order.ErrNotFound)
	}
	var out *payment.ClickTransaction
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		out = nil
		o, err := uc.orders.GetForUpdate(ctx, in.MerchantTransID)
		if err != nil {
			return fmt.Errorf("click prepare %d: %w", in.ClickTransID, err)
		}
		t, err := uc.clicks.GetByClickTransIDForUpdate(ctx, in.ClickTransID)
		switch {
		case errors.Is(err, payment.ErrNotFound):
			t = nil
		case err != nil:
			return fmt.Errorf("click prepare %d: %w", in.ClickTransID, err)
		case t.OrderID() != o.ID():
			return fmt.Errorf("click prepare %d: attempt of order %s, not %s: %w",
				in.ClickTransID, t.OrderID(), o.ID(), ErrClickAttemptMismatch)
		}
		if err := clickCheck(o, t, in.Amount); err != nil {
			return fmt.Errorf("click prepare %d for order %s: %w", in.ClickTransID, o.ID(), err)
		}
		if t != nil {
			out = t // a repeated Prepare: the same merchant_prepare_id
			return nil
		}
		t, err = payment.NewClickTransaction(uc.ids.NewID(), in.ClickTransID, in.ClickPaydocID, in.ServiceID, o.ID(),
			o.Total(), in.AmountRaw, uc.clock.Now())
		if err != nil {
			return fmt.Errorf("click prepare %d for order %s: %w", in.ClickTransID, o.ID(), err)
		}
		if err := uc.clicks.Insert(ctx, t); err != nil {
			if errors.Is(err, payment.ErrDuplicate) {
				// Another order's Prepare took this click_trans_id meanwhile
				// (one order's Prepares are serialised on the order row).
				return fmt.Errorf("click prepare %d for order %s: %w (%w)", in.ClickTransID, o.ID(), ErrClickAttemptMismatch, err)
			}
			return fmt.Errorf("click prepare %d for order %s: %w", in.ClickTransID, o.ID(), err)
		}
		out = t
		return nil
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// clickCheck is Click's validation order after the order and the attempt are
// known (t is nil for a first Prepare): -4 already paid, -2 amount,
// -9 cancelled. A refunded order counts as cancelled, not as paid: its money
// went back, and Click is told the payment was cancelled.
func clickCheck(o *order.Order, t *payment.ClickTransaction, amount int64) error {
	if t != nil && t.State() == payment.ClickConfirmed {
		return payment.ErrAlreadyPaid
	}
	switch o.Status() {
	case order.StatusPaid, order.StatusShipped, order.StatusDelivered:
		return fmt.Errorf("order %s is %s: %w", o.ID(), o.Status(), payment.ErrAlreadyPaid)
	}
	if amount != o.Total().Tiyin() {
		return fmt.Errorf("amount %d tiyin, order total %d: %w", amount, o.Total().Tiyin(), payment.ErrAmountMismatch)
	}
	if t != nil && (t.State() == payment.ClickCancelled || t.State() == payment.ClickCancelledAfterConfirm) {
		return payment.ErrClickCancelled
	}
	if o.CheckPayable() != nil { // cancelled or refunded
		return fmt.Errorf("order %s is %s: %w", o.ID(), o.Status(), payment.ErrClickCancelled)
	}
	return nil
}
