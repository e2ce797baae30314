package reconciliation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

const (
	// ReceiptDue is how long after payment an order must have its issued
	// sale receipt (API.md, receipt_missing): Click's receipt worker and
	// Payme's SetFiscalData both finish well within it.
	ReceiptDue = time.Hour
	// receiptBatch bounds the rows one pass reads per check; a backlog takes
	// several passes, since what is reported drops out of the next query.
	receiptBatch = 200
)

// ReceiptFailed opens a receipt_failed issue, once, for each fiscal receipt
// that failed: Click's after CLICK_FISCAL_MAX_TRIES tries, Payme's when its
// SetFiscalData reported a status_code other than 0. A person issues the
// receipt by hand in the provider's cabinet.
type ReceiptFailed struct {
	receipts ports.ReceiptChecks
	issues   ports.ReconciliationIssues
	ids      ports.IDGenerator
}

// NewReceiptFailed wires the check.
func NewReceiptFailed(receipts ports.ReceiptChecks, issues ports.ReconciliationIssues, ids ports.IDGenerator) *ReceiptFailed {
	return &ReceiptFailed{receipts: receipts, issues: issues, ids: ids}
}

// Name implements Check.
func (c *ReceiptFailed) Name() string { return string(reconciliation.KindReceiptFailed) }

// Run implements Check.
func (c *ReceiptFailed) Run(ctx context.Context, now time.Time) (map[reconciliation.Kind]int, error) {
	opened := map[reconciliation.Kind]int{}
	failed, err := c.receipts.FailedReceipts(ctx, receiptBatch)
	if err != nil {
		return opened, err
	}
	return openEach(ctx, c.issues, c.ids, now, failed, func(r ports.FailedReceipt) issueFacts {
		detail := fmt.Sprintf("The %s receipt of order %s (%s) failed", r.Kind, r.OrderID, r.Provider)
		if r.Reason != "" {
			detail += ": " + r.Reason
		}
		detail += ". Issue it by hand in the provider's cabinet."
		return issueFacts{kind: reconciliation.KindReceiptFailed, subject: r.ID, orderID: r.OrderID, provider: r.Provider,
			txID: r.ProviderTransactionID, detail: detail, what: "receipt " + r.ID}
	})
}

// ReceiptMissing opens a receipt_missing issue, once, for each order paid
// more than ReceiptDue ago without an issued sale receipt. It runs only with
// FISCAL_REQUIRED: without it, orders may be sold without receipts.
type ReceiptMissing struct {
	receipts ports.ReceiptChecks
	issues   ports.ReconciliationIssues
	ids      ports.IDGenerator
}

// NewReceiptMissing wires the check.
func NewReceiptMissing(receipts ports.ReceiptChecks, issues ports.ReconciliationIssues, ids ports.IDGenerator) *ReceiptMissing {
	return &ReceiptMissing{receipts: receipts, issues: issues, ids: ids}
}

// Name implements Check.
func (c *ReceiptMissing) Name() string { return string(reconciliation.KindReceiptMissing) }

// Run implements Check.
func (c *ReceiptMissing) Run(ctx context.Context, now time.Time) (map[reconciliation.Kind]int, error) {
	opened := map[reconciliation.Kind]int{}
	orders, err := c.receipts.UnreceiptedOrders(ctx, now.Add(-ReceiptDue), receiptBatch)
	if err != nil {
		return opened, err
	}
	return openEach(ctx, c.issues, c.ids, now, orders, func(o ports.UnreceiptedOrder) issueFacts {
		detail := fmt.Sprintf("Order %s was paid at %s and has no issued sale receipt. "+
			"Check the provider's fiscal data and issue the receipt by hand if it is missing.",
			o.OrderID, o.PaidAt.UTC().Format(time.RFC3339))
		return issueFacts{kind: reconciliation.KindReceiptMissing, subject: o.OrderID, orderID: o.OrderID, provider: o.Provider,
			txID: o.ProviderTransactionID, detail: detail, what: "order " + o.OrderID}
	})
}

// issueFacts is what one found problem makes of its issue; what names the
// problem in an error.
type issueFacts struct {
	kind                                           reconciliation.Kind
	subject, orderID, provider, txID, detail, what string
}

// openEach opens the issue of every item, each once, counting those opened;
// an item that fails does not stop the others.
func openEach[T any](ctx context.Context, issues ports.ReconciliationIssues, ids ports.IDGenerator, now time.Time,
	items []T, facts func(T) issueFacts) (map[reconciliation.Kind]int, error) {
	opened := map[reconciliation.Kind]int{}
	var errs []error
	for _, item := range items {
		if ctx.Err() != nil {
			break
		}
		f := facts(item)
		ok, err := openIssue(ctx, issues, ids, f.kind, f.subject, f.orderID, f.provider, f.txID, f.detail, now)
		if ok {
			opened[f.kind]++
		}
		if err != nil {
			errs = append(errs, fmt.Errorf("%s: %w", f.what, err))
		}
	}
	return opened, errors.Join(errs...)
}

func openIssue(ctx context.Context, issues ports.ReconciliationIssues, ids ports.IDGenerator, kind reconciliation.Kind,
	subject, orderID, provider, txID, detail string, now time.Time) (bool, error) {
	issue, err := reconciliation.NewIssue(ids.NewID(), kind, subject, orderID, provider, txID, detail, now)
	if err != nil {
		return false, err
	}
	return issues.Open(ctx, issue)
}
