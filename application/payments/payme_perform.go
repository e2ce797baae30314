package payments

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymePerformTransaction completes a Payme payment: the transaction goes to
// state 2 and its order becomes paid in the same database transaction, next
// to the settlement row that lets only one provider transaction pay an order,
// and the order's prepared Click attempts are ended there too (the order
// waits for them no longer).
type PaymePerformTransaction struct {
	tx          ports.TxManager
	orders      ports.OrderRepository
	payme       ports.PaymeRepository
	clicks      ports.ClickRepository
	settlements ports.Settlements
	clock       ports.Clock
	events      ports.OrderEvents // nil: events off
}

// NewPaymePerformTransaction wires the use case.
func NewPaymePerformTransaction(tx ports.TxManager, orders ports.OrderRepository, payme ports.PaymeRepository,
	clicks ports.ClickRepository, settlements ports.Settlements, clock ports.Clock) *PaymePerformTransaction {
	return &PaymePerformTransaction{tx: tx, orders: orders, payme: payme, clicks: clicks, settlements: settlements, clock: clock}
}

// WithEvents records the paid event in the perform's transaction.
func (uc *PaymePerformTransaction) WithEvents(events ports.OrderEvents) *PaymePerformTransaction {
	uc.events = events
	return uc
}

// Handle performs the transaction with Payme id paymeID. A performed one is
// replayed with its stored perform time (Changed false). Errors:
// payment.ErrNotFound for an unknown id; payment.ErrBadState for a cancelled
// one; payment.ErrTimedOut after cancelling (reason 4, committed) a state-1
// one past its 12 hours; order.ErrNotPayable when the order is no longer
// pending_payment, and payment.ErrAlreadyPaid when another provider's
// payment settled it first (both roll back: nothing changes).
func (uc *PaymePerformTransaction) Handle(ctx context.Context, paymeID string) (PaymeResult, error) {
	var res PaymeResult
	var outcome error
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		res, outcome = PaymeResult{}, nil
		// The order first, found by the Payme id in the same step: every
		// Payme call locks the order before the transaction's row, so calls
		// on one order never deadlock.
		o, err := uc.payme.LockOrderOf(ctx, paymeID)
		if err != nil {
			return fmt.Errorf("payme perform %s: %w", paymeID, err)
		}
		t, err := uc.payme.GetByPaymeIDForUpdate(ctx, paymeID)
		if err != nil {
			return fmt.Errorf("payme perform %s: %w", paymeID, err)
		}
		now := uc.clock.Now()
		changed, err := t.Perform(now)
		switch {
		case errors.Is(err, payment.ErrTimedOut):
			if err := uc.payme.Update(ctx, t); err != nil {
				return fmt.Errorf("payme perform %s: cancel timed out: %w", paymeID, err)
			}
			outcome = fmt.Errorf("payme perform %s: %w", paymeID, err)
			return nil
		case err != nil:
			return fmt.Errorf("payme perform %s: state %d: %w", paymeID, t.State(), err)
		case !changed:
			res = PaymeResult{Tx: t, Changed: false}
			return nil
		}
		if err := o.MarkPaid(now); err != nil {
			return fmt.Errorf("payme perform %s: order %s is %s: %w", paymeID, o.ID(), o.Status(), err)
		}
		if err := uc.settlements.Record(ctx, o.ID(), payment.ProviderPayme, t.ID()); err != nil {
			return fmt.Errorf("payme perform %s: settle order %s: %w", paymeID, o.ID(), err)
		}
		if err := uc.orders.Update(ctx, o); err != nil {
			return fmt.Errorf("payme perform %s: save order %s: %w", paymeID, o.ID(), err)
		}
		if err := recordEvent(ctx, uc.events, o); err != nil {
			return fmt.Errorf("payme perform %s: %w", paymeID, err)
		}
		if err := uc.payme.Update(ctx, t); err != nil {
			return fmt.Errorf("payme perform %s: %w", paymeID, err)
		}
		if err := holds.EndClickAttempts(ctx, uc.clicks, o.ID(), now); err != nil {
			return fmt.Errorf("payme perform %s: %w", paymeID, err)
		}
		res = PaymeResult{Tx: t, Changed: true}
		return nil
	})
	if err != nil {
		return PaymeResult{}, err
	}
	if outcome != nil {
		return PaymeResult{}, outcome
	}
	return res, nil
}
