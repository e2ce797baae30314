package payments

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymeCreateInput is CreateTransaction's params.
type PaymeCreateInput struct {
	PaymeID string
	Time    int64 // Payme's create time, Unix ms: the clock of the 12-hour timeout
	Amount  money.Money
	Account map[string]string // stored verbatim, GetStatement answers it back
}

// PaymeCreateTransaction records a Payme transaction for an order, or
// replays the one Payme created before under the same id.
type PaymeCreateTransaction struct {
	tx     ports.TxManager
	orders ports.OrderRepository
	payme  ports.PaymeRepository
	ids    ports.IDGenerator
	clock  ports.Clock
}

// NewPaymeCreateTransaction wires the use case.
func NewPaymeCreateTransaction(tx ports.TxManager, orders ports.OrderRepository, payme ports.PaymeRepository, ids ports.IDGenerator, clock ports.Clock) *PaymeCreateTransaction {
	return &PaymeCreateTransaction{tx: tx, orders: orders, payme: payme, ids: ids, clock: clock}
}

// Handle runs, under the order's row lock:
//
//  1. the account must name an order (ErrPaymeOrderNotFound) and the amount
//     be its total (payment.ErrAmountMismatch);
//  2. a known Payme id is a replay: its stored values come back (Changed
//     false) while it is in state 1; another state, or another order, is
//     payment.ErrBadState; a state-1 one past its 12 hours is cancelled with
//     reason 4, committed, and payment.ErrTimedOut returned;
//  3. a new id needs a pending_payment order (order.ErrNotPayable) that no
//     other live transaction holds (payment.ErrOrderHeld); timed-out holders
//     are cancelled (reason 4) on the way;
//  4. a new id whose Payme time is already more than 12 hours old is refused
//     with payment.ErrTimedOut and not stored: Payme counts it as failed, so
//     GetStatement must not list it.
//
// The database has the last word on "one live transaction per order"
// (payment.ErrOrderHeld from Insert).
func (uc *PaymeCreateTransaction) Handle(ctx context.Context, in PaymeCreateInput) (PaymeResult, error) {
	orderID, ok := paymeOrderID(in.Account)
	if !ok {
		return PaymeResult{}, ErrPaymeOrderNotFound
	}
	var res PaymeResult
	var outcome error // a refusal whose state change must still commit
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		res, outcome = PaymeResult{}, nil // fn may run again after a serialization failure
		o, err := uc.orders.GetForUpdate(ctx, orderID)
		if errors.Is(err, order.ErrNotFound) {
			return fmt.Errorf("%w (%w)", ErrPaymeOrderNotFound, err)
		}
		if err != nil {
			return fmt.Errorf("payme create %s: lock order %s: %w", in.PaymeID, orderID, err)
		}
		now := uc.clock.Now() // once the lock is ours: calls for this order are serialised
		if !in.Amount.Equal(o.Total()) {
			return fmt.Errorf("payme create %s: order %s: amount %d, total %d: %w",
				in.PaymeID, orderID, in.Amount.Tiyin(), o.Total().Tiyin(), payment.ErrAmountMismatch)
		}

		known, err := uc.payme.GetByPaymeIDForUpdate(ctx, in.PaymeID)
		switch {
		case err == nil:
			return uc.replay(ctx, known, orderID, now, &res, &outcome)
		case !errors.Is(err, payment.ErrNotFound):
			return fmt.Errorf("payme create %s: %w", in.PaymeID, err)
		}

		if err := o.CheckPayable(); err != nil {
			return fmt.Errorf("payme create %s: order %s is %s: %w", in.PaymeID, orderID, o.Status(), err)
		}
		if err := uc.releaseTimedOutHolders(ctx, orderID, now); err != nil {
			return fmt.Errorf("payme create %s: %w", in.PaymeID, err)
		}

		t, err := payment.NewPaymeTransaction(uc.ids.NewID(), in.PaymeID, in.Time, orderID, in.Amount, in.Account, now)
		if err != nil {
			return fmt.Errorf("payme create %s: %w", in.PaymeID, err)
		}
		// A Payme time already past the timeout: refuse without storing, since
		// GetStatement must list only creates that succeeded (SPEC §2.9).
		if t.TimedOut(now) {
			return fmt.Errorf("payme create %s: payme time %d: %w", in.PaymeID, in.Time, payment.ErrTimedOut)
		}
		if err := uc.payme.Insert(ctx, t); err != nil {
			return fmt.Errorf("payme create %s: %w", in.PaymeID, err)
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

// replay answers a CreateTransaction for a Payme id we already have: the
// stored values in *res, or a refusal; a lazy timeout cancel is saved and its
// refusal put in *outcome, so that the cancel commits.
func (uc *PaymeCreateTransaction) replay(ctx context.Context, t *payment.PaymeTransaction, orderID string, now time.Time, res *PaymeResult, outcome *error) error {
	if t.OrderID() != orderID {
		return fmt.Errorf("payme create %s: the id belongs to order %s, not %s: %w",
			t.PaymeID(), t.OrderID(), orderID, payment.ErrBadState)
	}
	err := t.CheckReplayableCreate(now)
	switch {
	case errors.Is(err, payment.ErrTimedOut):
		if err := uc.payme.Update(ctx, t); err != nil {
			return fmt.Errorf("payme create %s: cancel timed out: %w", t.PaymeID(), err)
		}
		*outcome = fmt.Errorf("payme create %s: %w", t.PaymeID(), err)
		return nil
	case err != nil:
		return fmt.Errorf("payme create %s: state %d: %w", t.PaymeID(), t.State(), err)
	}
	*res = PaymeResult{Tx: t, Changed: false}
	return nil
}

// releaseTimedOutHolders cancels (reason 4) the order's state-1 transactions
// past their 12 hours, and refuses when a live one is left.
func (uc *PaymeCreateTransaction) releaseTimedOutHolders(ctx context.Context, orderID string, now time.Time) error {
	holders, err := uc.payme.ListHoldersForUpdate(ctx, orderID)
	if err != nil {
		return fmt.Errorf("transactions holding order %s: %w", orderID, err)
	}
	for _, other := range holders {
		if !other.TimedOut(now) {
			return fmt.Errorf("order %s is held by payme transaction %s (state %d): %w",
				orderID, other.PaymeID(), other.State(), payment.ErrOrderHeld)
		}
		if err := paymeCancelTimedOut(ctx, uc.payme, other, now); err != nil {
			return err
		}
	}
	return nil
}

// paymeCancelTimedOut cancels a state-1 transaction past its 12 hours with
// reason 4 and saves it.
func paymeCancelTimedOut(ctx context.Context, repo ports.PaymeRepository, t *payment.PaymeTransaction, now time.Time) error {
	if !t.TimedOut(now) {
		return fmt.Errorf("payme transaction %s has not timed out: %w", t.PaymeID(), payment.ErrBadState)
	}
	if _, err := t.Cancel(payment.ReasonTimeout, false, now); err != nil {
		return fmt.Errorf("cancel timed-out payme transaction %s: %w", t.PaymeID(), err)
	}
	if err := repo.Update(ctx, t); err != nil {
		return fmt.Errorf("save timed-out payme transaction %s: %w", t.PaymeID(), err)
	}
	return nil
}
