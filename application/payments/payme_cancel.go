package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// PaymeCancelResult is the cancelled transaction. StockReleaseErr is set when
// a refund committed but giving the order's stock back to the catalog
// failed: the answer to Payme stands (the refund is done), the edge logs it.
type PaymeCancelResult struct {
	PaymeResult
	StockReleaseErr error
}

// PaymeCancelTransaction handles CancelTransaction: before perform it only
// cancels the transaction (the order stays pending_payment and may be paid
// again); after perform it is a refund, and the order goes paid → refunded.
type PaymeCancelTransaction struct {
	tx      ports.TxManager
	orders  ports.OrderRepository
	payme   ports.PaymeRepository
	catalog ports.Catalog
	clock   ports.Clock
	events  ports.OrderEvents // nil: events off
}

// NewPaymeCancelTransaction wires the use case.
func NewPaymeCancelTransaction(tx ports.TxManager, orders ports.OrderRepository, payme ports.PaymeRepository, catalog ports.Catalog, clock ports.Clock) *PaymeCancelTransaction {
	return &PaymeCancelTransaction{tx: tx, orders: orders, payme: payme, catalog: catalog, clock: clock}
}

// WithEvents records the refunded event in the refund's transaction.
func (uc *PaymeCancelTransaction) WithEvents(events ports.OrderEvents) *PaymeCancelTransaction {
	uc.events = events
	return uc
}

// Handle cancels the transaction with Payme id paymeID for reason:
//
//   - state 1 → -1 (whatever its age); the order is left as it is;
//   - state 2 → -2 and the order refunded, then (after commit) its stock
//     released; when the order has shipped or been delivered the answer is
//     payment.ErrCannotCancel and nothing changes, unless an admin
//     authorized the refund (refund_authorized_at): then it is refunded and
//     its stock, gone with the goods, is not released;
//   - state -1/-2: a replay, stored values, the first reason kept (Changed
//     false).
//
// payment.ErrNotFound for an unknown id.
func (uc *PaymeCancelTransaction) Handle(ctx context.Context, paymeID string, reason payment.Reason) (PaymeCancelResult, error) {
	if _, err := payment.ParseReason(int(reason)); err != nil {
		return PaymeCancelResult{}, fmt.Errorf("payme cancel %s: reason %d: %w", paymeID, reason, err)
	}
	var (
		res     PaymeResult
		shipped bool // the refunded goods had left: their stock does not come back
	)
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		res, shipped = PaymeResult{}, false
		// The order first, found by the Payme id in the same step: every
		// Payme call locks the order before the transaction's row, so calls
		// on one order never deadlock.
		o, err := uc.payme.LockOrderOf(ctx, paymeID)
		if err != nil {
			return fmt.Errorf("payme cancel %s: %w", paymeID, err)
		}
		t, err := uc.payme.GetByPaymeIDForUpdate(ctx, paymeID)
		if err != nil {
			return fmt.Errorf("payme cancel %s: %w", paymeID, err)
		}
		now := uc.clock.Now()
		refund := t.State() == payment.PaymePerformed
		was := o.Status()
		if refund {
			shipped = o.HasShipped()
			// Refused once the goods shipped, unless an admin authorized the
			// refund (order.Refund): a return after delivery.
			if err := o.Refund(now); err != nil {
				if errors.Is(err, order.ErrCannotRefund) {
					return fmt.Errorf("payme cancel %s: order %s is %s: %w (%w)", paymeID, o.ID(), o.Status(), payment.ErrCannotCancel, err)
				}
				// A performed transaction of an order that is not paid: the
				// data contradicts itself; an internal error, not a veto.
				//nolint:errorlint // not wrapped: an internal error, which no domain category may match
				return fmt.Errorf("payme cancel %s: refund order %s (%s): %v", paymeID, o.ID(), o.Status(), err)
			}
		}
		changed, err := t.Cancel(reason, refund, now)
		if err != nil {
			return fmt.Errorf("payme cancel %s: state %d: %w", paymeID, t.State(), err)
		}
		if !changed {
			res = PaymeResult{Tx: t, Changed: false}
			return nil
		}
		if refund {
			if err := uc.orders.Update(ctx, o); err != nil {
				return fmt.Errorf("payme cancel %s: save order %s: %w", paymeID, o.ID(), err)
			}
			// Refund of an order refunded already (by another path) changes
			// nothing, and so tells nobody anything new.
			if o.Status() != was {
				if err := recordEvent(ctx, uc.events, o); err != nil {
					return fmt.Errorf("payme cancel %s: %w", paymeID, err)
				}
			}
		}
		if err := uc.payme.Update(ctx, t); err != nil {
			return fmt.Errorf("payme cancel %s: %w", paymeID, err)
		}
		res = PaymeResult{Tx: t, Changed: true}
		return nil
	})
	if err != nil {
		return PaymeCancelResult{}, err
	}
	out := PaymeCancelResult{PaymeResult: res}
	if res.Changed && res.Tx.State() == payment.PaymeCancelledAfterPerform && !shipped {
		// After commit: the refund is done, the stock must follow, even if
		// Payme hangs up now.
		if err := holds.ReleaseStock(ctx, uc.catalog, res.Tx.OrderID(), user.Actor{}); err != nil {
			out.StockReleaseErr = fmt.Errorf("payme cancel %s: %w", paymeID, err)
		}
	}
	return out, nil
}
