package payments

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/ports"
)

// ClickReceiptSubject routes a Click receipt's outbox row to this worker.
const ClickReceiptSubject = "click.receipt"

// Defaults of the Click receipt worker (API.md, "Fiscal receipts").
const (
	DefaultClickFiscalMaxTries = 20
	// ClickReceiptRetryMax caps the backoff: try n+1 follows try n after
	// min(2^(n−1) s, 5 min).
	ClickReceiptRetryMax = 5 * time.Minute
	clickReceiptBatch    = 20
	// clickReceiptLease covers a try: two or three Merchant API calls, each
	// bounded by the client's timeout (10 s by default).
	clickReceiptLease = 2 * time.Minute
)

// clickReceiptJob is the payload of a Click receipt's outbox row.
type clickReceiptJob struct {
	OrderID   string `json:"order_id"`
	PaymentID int64  `json:"payment_id"`
}

// enqueueClickReceipt records the pending sale receipt of the order Click
// paid and the outbox row that drives its submission, in the transaction
// ctx carries (the Complete's own): both exist if and only if it commits.
func enqueueClickReceipt(ctx context.Context, r *clickReceiptDeps, orderID string, paymentID int64, now time.Time) error {
	if err := r.receipts.AddPending(ctx, orderID, paymentID, now); err != nil {
		return err
	}
	payload, err := json.Marshal(clickReceiptJob{OrderID: orderID, PaymentID: paymentID})
	if err != nil {
		return fmt.Errorf("click receipt job of order %s: %w", orderID, err)
	}
	return r.outbox.Append(ctx, ports.OutboxMessage{ID: r.ids.NewID(), Kind: ports.OutboxClickReceipt,
		AggregateID: orderID, Subject: ClickReceiptSubject, Payload: payload, CreatedAt: now})
}

type clickReceiptDeps struct {
	receipts ports.ClickReceipts
	outbox   ports.Outbox
	ids      ports.IDGenerator
}

// ClickReceiptWorker submits the sale receipts of orders paid by Click to
// Click's Merchant API (payment/ofd_data/submit_items), outside any
// database transaction, and reads the receipt link back
// (payment/ofd_data). Its work comes from the outbox (kind click_receipt),
// so several workers may run: each row is leased to one of them at a time.
//
// A receipt is submitted at most once once Click accepted it: every try
// first asks Click for the link (a receipt printed already is only
// recorded), and an accepted submission is recorded before the link is
// read, so a later try only reads. A try that fails is retried after
// min(2^(n−1) s, 5 min); after maxTries failed tries the receipt is failed.
// Lines without the codes Click requires fail the receipt at once: no retry
// would give them codes.
type ClickReceiptWorker struct {
	outbox   ports.Outbox
	receipts ports.ClickReceipts
	orders   ports.OrderRepository
	merchant ports.ClickMerchant
	clock    ports.Clock
	maxTries int
	own      fiscal.Principal
}

// NewClickReceiptWorker wires the worker; maxTries < 1 takes
// DefaultClickFiscalMaxTries. own names the marketplace on lines whose seller
// has no profile (zero: such lines fail the receipt).
func NewClickReceiptWorker(outbox ports.Outbox, receipts ports.ClickReceipts, orders ports.OrderRepository,
	merchant ports.ClickMerchant, clock ports.Clock, maxTries int, own fiscal.Principal) *ClickReceiptWorker {
	if maxTries < 1 {
		maxTries = DefaultClickFiscalMaxTries
	}
	return &ClickReceiptWorker{outbox: outbox, receipts: receipts, orders: orders, merchant: merchant, clock: clock,
		maxTries: maxTries, own: own}
}

// tryResult is how one try of one receipt ended: done (issued, failed for
// good, or nothing left to do) or retry with a reason.
type tryResult struct {
	done   bool
	reason string
}

// Pass claims due receipts and tries each once. It returns how many it
// tried; err is a failure to claim or to record outcomes (the rows are
// claimed again when their lease ends).
func (w *ClickReceiptWorker) Pass(ctx context.Context) (int, error) {
	claim, err := w.outbox.Claim(ctx, ports.OutboxClickReceipt, clickReceiptBatch, w.clock.Now(), clickReceiptLease)
	if err != nil {
		return 0, fmt.Errorf("click receipts: claim: %w", err)
	}
	var (
		done   []string
		failed []ports.OutboxFailure
		errs   []error
	)
	for _, m := range claim.Messages {
		if ctx.Err() != nil {
			break // unreleased rows come back when their lease ends
		}
		res, err := w.try(ctx, m)
		if err != nil {
			errs = append(errs, err)
			continue
		}
		if res.done {
			done = append(done, m.ID)
			continue
		}
		failed = append(failed, ports.OutboxFailure{ID: m.ID, RetryAt: w.clock.Now().Add(clickRetryDelay(m.Attempts + 1)),
			Reason: res.reason})
	}
	sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	if len(done) > 0 {
		if err := w.outbox.MarkDone(sctx, done, w.clock.Now()); err != nil {
			errs = append(errs, fmt.Errorf("click receipts: mark done: %w", err))
		}
	}
	if len(failed) > 0 {
		if err := w.outbox.MarkFailed(sctx, claim.Token, failed); err != nil {
			errs = append(errs, fmt.Errorf("click receipts: mark failed: %w", err))
		}
	}
	return len(claim.Messages), errors.Join(errs...)
}

// try makes one attempt at one receipt. err is a failure to read or record
// our own state: the row is left to its lease.
func (w *ClickReceiptWorker) try(ctx context.Context, m ports.ClaimedMessage) (tryResult, error) {
	var job clickReceiptJob
	if err := json.Unmarshal(m.Payload, &job); err != nil || job.PaymentID == 0 {
		// No later try could read it either: done, not retried.
		return tryResult{done: true}, nil //nolint:nilerr // a payload we cannot read is dropped, not an outage
	}
	st, err := w.receipts.Get(ctx, job.PaymentID)
	if err != nil {
		return tryResult{}, fmt.Errorf("click receipt of payment %d: %w", job.PaymentID, err)
	}
	if st.Status != fiscal.StatusPending {
		return tryResult{done: true}, nil
	}
	tryNo := m.Attempts + 1
	fail := func(reason string, final bool) (tryResult, error) {
		final = final || tryNo >= w.maxTries
		if err := w.receipts.RecordFailure(ctx, job.PaymentID, reason, final, w.clock.Now()); err != nil {
			return tryResult{}, fmt.Errorf("click receipt of payment %d: %w", job.PaymentID, err)
		}
		return tryResult{done: final, reason: reason}, nil
	}

	// Click may hold the receipt already (a submission accepted by an
	// earlier try whose record was lost, or Click printing it itself).
	if ok, err := w.readLink(ctx, job.PaymentID); err != nil || ok {
		if err != nil {
			return fail("read receipt link: "+err.Error(), false)
		}
		return tryResult{done: true}, nil
	}
	if !st.Submitted {
		o, err := w.orders.Get(ctx, job.OrderID)
		if err != nil {
			return tryResult{}, fmt.Errorf("click receipt of payment %d: order %s: %w", job.PaymentID, job.OrderID, err)
		}
		sub, err := fiscal.ClickSubmissionFor(o.FiscalLines(), w.own)
		if err != nil {
			return fail("order lines cannot be fiscalised: "+err.Error(), true)
		}
		if err := w.merchant.SubmitFiscalItems(ctx, job.PaymentID, sub); err != nil {
			return fail("submit items: "+err.Error(), false)
		}
		if err := w.receipts.MarkSubmitted(ctx, job.PaymentID, w.clock.Now()); err != nil {
			return tryResult{}, fmt.Errorf("click receipt of payment %d: %w", job.PaymentID, err)
		}
		if ok, err := w.readLink(ctx, job.PaymentID); err == nil && ok {
			return tryResult{done: true}, nil
		}
	}
	return fail("submitted; no receipt link yet", false)
}

// readLink asks Click for the receipt link and records an issued receipt
// when there is one.
func (w *ClickReceiptWorker) readLink(ctx context.Context, paymentID int64) (bool, error) {
	fd, err := w.merchant.FiscalData(ctx, paymentID)
	if err != nil {
		return false, err
	}
	if fd.QRCodeURL == "" {
		return false, nil
	}
	data := fiscal.ReceiptData{QRCodeURL: fd.QRCodeURL}
	if at, ok := fiscal.IssuedAtFromQRCodeURL(fd.QRCodeURL); ok {
		data.IssuedAt = at
	}
	if err := w.receipts.MarkIssued(ctx, paymentID, data, w.clock.Now()); err != nil {
		return false, fmt.Errorf("record receipt: %w", err)
	}
	return true, nil
}

// clickRetryDelay is the wait after failed try n: 2^(n−1) s, at most
// ClickReceiptRetryMax.
func clickRetryDelay(n int) time.Duration {
	d := time.Second
	for i := 1; i < n && d < ClickReceiptRetryMax; i++ {
		d *= 2
	}
	return min(d, ClickReceiptRetryMax)
}
