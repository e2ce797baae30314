package payments

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/ports"
)

// PaymeSweepBatch is how many timed-out transactions one database
// transaction of the sweep cancels.
const PaymeSweepBatch = 100

// PaymeSweepTimeouts cancels, with reason 4, the state-1 Payme transactions
// whose 12 hours (from Payme's time) have passed, so that their orders are
// free again (the order expiry may then cancel them) even when Payme never
// calls back. Create and Perform do the same lazily for the one they touch.
type PaymeSweepTimeouts struct {
	tx    ports.TxManager
	payme ports.PaymeRepository
	clock ports.Clock
	batch int
}

// NewPaymeSweepTimeouts wires the use case; batch <= 0 means PaymeSweepBatch.
func NewPaymeSweepTimeouts(tx ports.TxManager, payme ports.PaymeRepository, clock ports.Clock, batch int) *PaymeSweepTimeouts {
	if batch <= 0 {
		batch = PaymeSweepBatch
	}
	return &PaymeSweepTimeouts{tx: tx, payme: payme, clock: clock, batch: batch}
}

// Handle cancels one batch and returns how many it cancelled. LockTimedOut
// skips what another instance's sweep or a webhook holds, and the sweep locks
// no order row: it waits for no lock at all, so it cannot deadlock with
// webhooks, which lock the order first.
func (uc *PaymeSweepTimeouts) Handle(ctx context.Context) (int, error) {
	var n int
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		n = 0
		now := uc.clock.Now()
		txs, err := uc.payme.LockTimedOut(ctx, now, uc.batch)
		if err != nil {
			return fmt.Errorf("payme sweep: %w", err)
		}
		for _, t := range txs {
			if !t.TimedOut(now) {
				continue // the repository selects by the same rule; belt and braces
			}
			if err := paymeCancelTimedOut(ctx, uc.payme, t, now); err != nil {
				return fmt.Errorf("payme sweep: %w", err)
			}
			n++
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	return n, nil
}

// Drain is one pass of the sweep (jobs.Run calls it every
// EXPIRY_SWEEP_INTERVAL): it runs batches until one comes back short (or ctx
// ends, or a batch fails) and returns how many it cancelled in all.
func (uc *PaymeSweepTimeouts) Drain(ctx context.Context) (int, error) {
	total := 0
	for {
		n, err := uc.Handle(ctx)
		total += n
		if err != nil || n < uc.batch || ctx.Err() != nil {
			return total, err
		}
	}
}
