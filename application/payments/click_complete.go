package payments

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

// ClickCompleteInput is a Complete whose protocol checks (fields, service id,
// signature, action) the adapter has done.
type ClickCompleteInput struct {
	ClickTransID    int64
	MerchantTransID string // our order id, as Click sent it
	PrepareID       int64  // merchant_prepare_id, as Click sent it back
	// Amount is Click's amount converted exactly to tiyin; it may be zero or
	// negative (answered -2).
	Amount int64
	// ClickError is Click's verdict: 0 the buyer's money was taken, < 0 Click
	// cancels the payment.
	ClickError int
}

// ClickCompleteResult is what Click's answer and the operators need besides
// the outcome error.
type ClickCompleteResult struct {
	// AttemptID is our id (a UUID) of the attempt Click named, once it is
	// known to match the request; "" otherwise. It is what the logs and our
	// API call the transaction.
	AttemptID string
	// ConfirmID is merchant_confirm_id: set when this attempt is confirmed,
	// by this call or (answered -4) by an earlier one; 0 otherwise.
	ConfirmID int64
	// CancelledAfterConfirm: Click sent a cancel of an attempt we had
	// confirmed. Nothing was refunded: Click's signature does not cover
	// `error`, so the cancel waits as a claim until Click's Merchant API
	// confirms it (application/reconciliation). People must look at it
	// (alert): the goods were paid for, and may now not be.
	CancelledAfterConfirm bool
	// CancelUnverified: Click's Merchant API is off (CLICK_API_URL), so a
	// click_cancel_unverified issue was opened for a person to check.
	CancelUnverified bool
}

// ClickComplete answers Click's Complete. With error = 0 it confirms the
// attempt and marks the order paid in one database transaction, ending the
// order's other prepared attempts; with error < 0 it cancels a prepared
// attempt, and answers -9. A cancel of a confirmed attempt is answered -9
// too but changes neither the attempt nor the order: it is recorded as a
// claim for the reconciliation job to verify with Click (API.md, "Refunds
// and reconciliation"), since a replayed Complete must not refund by itself.
type ClickComplete struct {
	tx          ports.TxManager
	orders      ports.OrderRepository
	clicks      ports.ClickRepository
	settlements ports.Settlements
	cancels     ClickCancelVerification
	clock       ports.Clock
	events      ports.OrderEvents // nil: events off
	receipts    *clickReceiptDeps // WithReceipts; nil: Click receipts are off
}

// WithReceipts makes a confirming Complete record the order's pending sale
// receipt and the outbox row that has ClickReceiptWorker submit it, in the
// Complete's own transaction: Click's Merchant API is never called while
// the webhook's transaction is open.
func (uc *ClickComplete) WithReceipts(receipts ports.ClickReceipts, outbox ports.Outbox, ids ports.IDGenerator) *ClickComplete {
	uc.receipts = &clickReceiptDeps{receipts: receipts, outbox: outbox, ids: ids}
	return uc
}

// ClickCancelVerification is where a cancel of a confirmed attempt waits for
// Click's word.
type ClickCancelVerification struct {
	Claims ports.ClickCancelClaims
	Issues ports.ReconciliationIssues
	IDs    ports.IDGenerator
	// Verifiable says Click's Merchant API is configured (CLICK_API_URL), so
	// the reconciliation job asks Click about the claim. Without it nobody
	// can, and a click_cancel_unverified issue opens at once for a person.
	Verifiable bool
}

// NewClickComplete wires the use case.
func NewClickComplete(tx ports.TxManager, orders ports.OrderRepository, clicks ports.ClickRepository,
	settlements ports.Settlements, cancels ClickCancelVerification, clock ports.Clock) *ClickComplete {
	return &ClickComplete{tx: tx, orders: orders, clicks: clicks, settlements: settlements, cancels: cancels, clock: clock}
}

// WithEvents records the paid and refunded events in the Complete's
// transaction.
func (uc *ClickComplete) WithEvents(events ports.OrderEvents) *ClickComplete {
	uc.events = events
	return uc
}

// Handle confirms or cancels the attempt. The error is Click's answer,
// checked in Click's order: order.ErrNotFound (-5), payment.ErrNotFound and
// ErrClickAttemptMismatch (-6), payment.ErrAlreadyPaid (-4),
// payment.ErrAmountMismatch (-2), payment.ErrClickCancelled (-9). A cancelling
// Complete (ClickError < 0) of a known attempt always answers
// payment.ErrClickCancelled, and its cancel is committed. Any other error is
// an internal failure (-7) and changed nothing.
func (uc *ClickComplete) Handle(ctx context.Context, in ClickCompleteInput) (ClickCompleteResult, error) {
	if !domain.IsID(in.MerchantTransID) {
		return ClickCompleteResult{}, fmt.Errorf("click complete %d: order %q: %w", in.ClickTransID, in.MerchantTransID, order.ErrNotFound)
	}
	var (
		res     ClickCompleteResult
		outcome error // a Click answer that comes with a committed change
	)
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		res, outcome = ClickCompleteResult{}, nil // the manager may rerun fn
		o, err := uc.orders.GetForUpdate(ctx, in.MerchantTransID)
		if err != nil {
			return fmt.Errorf("click complete %d: %w", in.ClickTransID, err)
		}
		t, err := uc.clicks.GetByPrepareIDForUpdate(ctx, in.PrepareID)
		if err != nil {
			return fmt.Errorf("click complete %d: %w", in.ClickTransID, err)
		}
		if t.ClickTransID() != in.ClickTransID || t.OrderID() != o.ID() {
			return fmt.Errorf("click complete %d: attempt %d is click %d of order %s, not of %s: %w",
				in.ClickTransID, t.PrepareID(), t.ClickTransID(), t.OrderID(), o.ID(), ErrClickAttemptMismatch)
		}
		res.AttemptID = t.ID()
		if in.ClickError < 0 {
			outcome = fmt.Errorf("click complete %d: click error %d: %w", in.ClickTransID, in.ClickError, payment.ErrClickCancelled)
			return uc.cancel(ctx, o, t, in.ClickError, &res)
		}
		if err := clickCheck(o, t, in.Amount); err != nil {
			if errors.Is(err, payment.ErrAlreadyPaid) && t.State() == payment.ClickConfirmed {
				res.ConfirmID = t.PrepareID() // a repeated Complete: the stored merchant_confirm_id
			}
			return fmt.Errorf("click complete %d for order %s: %w", in.ClickTransID, o.ID(), err)
		}
		return uc.confirm(ctx, o, t, &res)
	})
	if err != nil {
		// Rolled back: whatever fn noted (a cancel claim) did not happen.
		// Only which attempt it was, and for a -4 answer the
		// merchant_confirm_id stored earlier, still hold.
		out := ClickCompleteResult{AttemptID: res.AttemptID}
		if errors.Is(err, payment.ErrAlreadyPaid) {
			out.ConfirmID = res.ConfirmID
		}
		return out, err
	}
	return res, outcome
}

func (uc *ClickComplete) confirm(ctx context.Context, o *order.Order, t *payment.ClickTransaction, res *ClickCompleteResult) error {
	now := uc.clock.Now()
	if err := t.Confirm(now); err != nil {
		return fmt.Errorf("confirm click attempt %s: %w", t.ID(), err)
	}
	if err := o.MarkPaid(now); err != nil {
		return fmt.Errorf("mark order %s paid: %w", o.ID(), err)
	}
	// The settlement's primary key has the last word on "paid once": a
	// Payme transaction that got there first makes this ErrAlreadyPaid.
	if err := uc.settlements.Record(ctx, o.ID(), payment.ProviderClick, t.ID()); err != nil {
		return fmt.Errorf("settle order %s by click attempt %s: %w", o.ID(), t.ID(), err)
	}
	if err := uc.clicks.Update(ctx, t); err != nil {
		return fmt.Errorf("save click attempt %s: %w", t.ID(), err)
	}
	if err := uc.orders.Update(ctx, o); err != nil {
		return fmt.Errorf("save order %s: %w", o.ID(), err)
	}
	if err := recordEvent(ctx, uc.events, o); err != nil {
		return err
	}
	// The order's other prepared attempts wait for nothing now.
	if err := holds.EndClickAttempts(ctx, uc.clicks, o.ID(), now); err != nil {
		return err
	}
	if uc.receipts != nil {
		if err := enqueueClickReceipt(ctx, uc.receipts, o.ID(), t.ClickPaydocID(), now); err != nil {
			return fmt.Errorf("click receipt of order %s: %w", o.ID(), err)
		}
	}
	res.ConfirmID = t.PrepareID()
	return nil
}

// cancel applies Click's cancel. It returns nil whenever the change must be
// committed; the -9 answer travels separately.
func (uc *ClickComplete) cancel(ctx context.Context, o *order.Order, t *payment.ClickTransaction, clickError int, res *ClickCompleteResult) error {
	now := uc.clock.Now()
	switch t.State() {
	case payment.ClickCancelled, payment.ClickCancelledAfterConfirm:
		return nil // a repeated cancel: nothing changes, the answer is -9 again
	case payment.ClickConfirmed:
		return uc.claimCancel(ctx, o, t, clickError, now, res)
	}
	if _, err := t.Cancel(clickError, now); err != nil {
		return fmt.Errorf("cancel click attempt %s: %w", t.ID(), err)
	}
	if err := uc.clicks.Update(ctx, t); err != nil {
		return fmt.Errorf("save click attempt %s: %w", t.ID(), err)
	}
	return nil
}

// claimCancel records Click's cancel of a confirmed attempt as a claim, in
// the webhook's transaction; the order stays paid and the attempt
// confirmed. Asking Click happens later, outside any transaction, in the
// reconciliation job; with no Merchant API to ask, a person is asked at once.
func (uc *ClickComplete) claimCancel(ctx context.Context, o *order.Order, t *payment.ClickTransaction, clickError int,
	now time.Time, res *ClickCompleteResult) error {
	claim := ports.ClickCancelClaim{AttemptID: t.ID(), OrderID: o.ID(), ClickError: clickError, ClaimedAt: now}
	if err := uc.cancels.Claims.Record(ctx, claim); err != nil {
		return fmt.Errorf("record click cancel claim of attempt %s: %w", t.ID(), err)
	}
	res.CancelledAfterConfirm = true
	if uc.cancels.Verifiable {
		return nil
	}
	issue, err := reconciliation.NewIssue(uc.cancels.IDs.NewID(), reconciliation.KindClickCancelUnverified,
		ClickIssueSubject(t), o.ID(), string(payment.ProviderClick), ClickIssueSubject(t),
		fmt.Sprintf("Click sent a cancel (error %d) of payment %d, confirmed for order %s; CLICK_API_URL is off, so "+
			"nobody asked Click whether it is really cancelled. The order stays %s until a person checks.",
			clickError, t.ClickPaydocID(), o.ID(), o.Status()), now)
	if err != nil {
		return fmt.Errorf("click cancel claim of attempt %s: %w", t.ID(), err)
	}
	if _, err := uc.cancels.Issues.Open(ctx, issue); err != nil {
		return fmt.Errorf("open click_cancel_unverified issue for attempt %s: %w", t.ID(), err)
	}
	res.CancelUnverified = true
	return nil
}

// ClickIssueSubject is what a reconciliation issue about a Click attempt is
// about: Click's click_trans_id, which our API shows as the transaction's
// provider_transaction_id.
func ClickIssueSubject(t *payment.ClickTransaction) string {
	return strconv.FormatInt(t.ClickTransID(), 10)
}
