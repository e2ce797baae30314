package reconciliation

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/application/payments"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// claimBatch bounds the claims one pass asks Click about.
const claimBatch = 100

// Click's payment_status values (SPEC §7): < 0 error or cancelled, 0
// created, 1 processing, 2 success.
const clickPaymentSuccess = 2

// ClickCancels settles the cancels Click sent for payments we had confirmed
// (payments.ClickComplete records them as claims). For each pending claim it
// asks Click's payment/status, with no transaction open, then:
//
//   - Click reports the payment cancelled (status < 0): the attempt and the
//     order become refunded (the order only while it is paid; its stock
//     comes back after the commit);
//   - Click reports it successful: the cancel was not Click's, the order
//     stays paid, and a click_cancel_disputed issue opens;
//   - Click cannot be asked, or has not decided (created, processing): a
//     click_cancel_unverified issue opens, and the claim stays pending for
//     a later pass, which resolves that issue when it decides.
type ClickCancels struct {
	tx       ports.TxManager
	orders   ports.OrderRepository
	clicks   ports.ClickRepository
	claims   ports.ClickCancelClaims
	issues   ports.ReconciliationIssues
	merchant ports.ClickMerchant
	catalog  ports.Catalog
	ids      ports.IDGenerator
	events   ports.OrderEvents // nil: events off
}

// NewClickCancels wires the check. catalog gives a refunded order's stock back.
func NewClickCancels(tx ports.TxManager, orders ports.OrderRepository, clicks ports.ClickRepository, claims ports.ClickCancelClaims,
	issues ports.ReconciliationIssues, merchant ports.ClickMerchant, catalog ports.Catalog, ids ports.IDGenerator) *ClickCancels {
	return &ClickCancels{tx: tx, orders: orders, clicks: clicks, claims: claims, issues: issues, merchant: merchant,
		catalog: catalog, ids: ids}
}

// WithEvents records the refunded event in the transaction that refunds the
// order.
func (c *ClickCancels) WithEvents(events ports.OrderEvents) *ClickCancels {
	c.events = events
	return c
}

// Name implements Check.
func (c *ClickCancels) Name() string { return "click cancel claims" }

// Run implements Check. An error settling one claim does not stop the
// others; the errors are returned together.
func (c *ClickCancels) Run(ctx context.Context, now time.Time) (map[reconciliation.Kind]int, error) {
	opened := map[reconciliation.Kind]int{}
	claims, err := c.claims.ListPending(ctx, claimBatch)
	if err != nil {
		return opened, err
	}
	var errs []error
	for _, claim := range claims {
		if ctx.Err() != nil {
			break // the pass's budget: the rest wait for the next pass
		}
		kind, err := c.settle(ctx, claim, now)
		if kind != "" {
			opened[kind]++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return opened, errors.Join(errs...)
}

// settle asks Click about one claim and acts on the answer; kind is the
// issue it opened, if any.
func (c *ClickCancels) settle(ctx context.Context, claim ports.ClickCancelClaim, now time.Time) (reconciliation.Kind, error) {
	attempt, err := c.attempt(ctx, claim)
	if err != nil {
		return "", err
	}
	status, askErr := c.merchant.PaymentStatus(ctx, attempt.ClickPaydocID())
	switch {
	case askErr == nil && status.Status < 0:
		return "", c.refund(ctx, claim, payments.ClickIssueSubject(attempt), now)
	case askErr == nil && status.Status == clickPaymentSuccess:
		return c.dispute(ctx, claim, attempt, now)
	}
	why := fmt.Sprintf("Click's payment/status answered status %d (not decided yet)", status.Status)
	if askErr != nil {
		why = "Click's Merchant API could not be asked"
	}
	opened, err := c.open(ctx, reconciliation.KindClickCancelUnverified, claim, attempt, fmt.Sprintf(
		"Click sent a cancel (error %d) of payment %d, confirmed for order %s. %s; the order stays as it is and a later pass asks again.",
		claim.ClickError, attempt.ClickPaydocID(), claim.OrderID, why), now)
	if noteErr := c.claims.NoteAsked(ctx, claim.AttemptID, now); noteErr != nil {
		err = errors.Join(err, noteErr)
	}
	// Click being unreachable is not this pass failing: the issue records
	// it, and the claim waits for the next pass.
	if opened {
		return reconciliation.KindClickCancelUnverified, err
	}
	return "", err
}

func (c *ClickCancels) attempt(ctx context.Context, claim ports.ClickCancelClaim) (*payment.ClickTransaction, error) {
	attempts, err := c.clicks.ListByOrder(ctx, claim.OrderID)
	if err != nil {
		return nil, fmt.Errorf("click cancel claim of attempt %s: %w", claim.AttemptID, err)
	}
	for _, a := range attempts {
		if a.ID() == claim.AttemptID {
			return a, nil
		}
	}
	return nil, fmt.Errorf("click cancel claim of attempt %s of order %s: %w", claim.AttemptID, claim.OrderID, payment.ErrNotFound)
}

// refund applies a cancel Click confirmed, under the order's row lock, as
// the webhook would have: the claim is settled only if it is still the one
// read (a cancel recorded since is asked about again).
func (c *ClickCancels) refund(ctx context.Context, claim ports.ClickCancelClaim, subject string, now time.Time) error {
	refunded := false
	err := c.tx.WithinTx(ctx, func(ctx context.Context) error {
		refunded = false // the manager may rerun fn
		o, err := c.orders.GetForUpdate(ctx, claim.OrderID)
		if err != nil {
			return err
		}
		attempts, err := c.clicks.ListByOrderForUpdate(ctx, claim.OrderID)
		if err != nil {
			return err
		}
		settled, err := c.claims.Settle(ctx, claim.AttemptID, claim.ClaimedAt, ports.ClickCancelConfirmed, now)
		if err != nil || !settled {
			return err
		}
		for _, t := range attempts {
			if t.ID() != claim.AttemptID {
				continue
			}
			wasConfirmed, err := t.Cancel(claim.ClickError, now)
			if err != nil {
				return fmt.Errorf("cancel click attempt %s: %w", t.ID(), err)
			}
			if !wasConfirmed {
				break // reversed or cancelled meanwhile: nothing more to undo
			}
			if err := c.clicks.Update(ctx, t); err != nil {
				return fmt.Errorf("save click attempt %s: %w", t.ID(), err)
			}
			if o.Status() == order.StatusPaid {
				if err := o.Refund(now); err != nil {
					return fmt.Errorf("refund order %s: %w", o.ID(), err)
				}
				if err := c.orders.Update(ctx, o); err != nil {
					return fmt.Errorf("save order %s: %w", o.ID(), err)
				}
				if c.events != nil {
					if err := c.events.Record(ctx, o); err != nil {
						return fmt.Errorf("record refunded event of order %s: %w", o.ID(), err)
					}
				}
				refunded = true
			}
		}
		return c.resolveUnverified(ctx, subject, "Click's payment/status reports the payment cancelled: the cancel was applied", now)
	})
	if err != nil {
		return fmt.Errorf("apply click's cancel of attempt %s of order %s: %w", claim.AttemptID, claim.OrderID, err)
	}
	if refunded {
		// After the commit, never inside it: the catalog may be a remote call.
		if err := holds.ReleaseStock(ctx, c.catalog, claim.OrderID, user.Actor{}); err != nil {
			return fmt.Errorf("refunded order %s: %w", claim.OrderID, err)
		}
	}
	return nil
}

// dispute: Click says the payment stands, so the cancel did not come from
// Click (a replay) or Click changed its mind. The order stays paid.
func (c *ClickCancels) dispute(ctx context.Context, claim ports.ClickCancelClaim, attempt *payment.ClickTransaction,
	now time.Time) (reconciliation.Kind, error) {
	var opened bool
	err := c.tx.WithinTx(ctx, func(ctx context.Context) error {
		opened = false
		settled, err := c.claims.Settle(ctx, claim.AttemptID, claim.ClaimedAt, ports.ClickCancelStands, now)
		if err != nil || !settled {
			return err
		}
		if opened, err = c.open(ctx, reconciliation.KindClickCancelDisputed, claim, attempt, fmt.Sprintf(
			"Click sent a cancel (error %d) of payment %d of order %s, but Click's payment/status reports the payment successful. "+
				"Nothing was refunded and the order stays as it is.", claim.ClickError, attempt.ClickPaydocID(), claim.OrderID), now); err != nil {
			return err
		}
		return c.resolveUnverified(ctx, payments.ClickIssueSubject(attempt),
			"Click's payment/status reports the payment successful: see the click_cancel_disputed issue", now)
	})
	if err != nil {
		return "", fmt.Errorf("dispute click's cancel of attempt %s of order %s: %w", claim.AttemptID, claim.OrderID, err)
	}
	if opened {
		return reconciliation.KindClickCancelDisputed, nil
	}
	return "", nil
}

func (c *ClickCancels) open(ctx context.Context, kind reconciliation.Kind, claim ports.ClickCancelClaim,
	attempt *payment.ClickTransaction, detail string, now time.Time) (bool, error) {
	subject := payments.ClickIssueSubject(attempt)
	issue, err := reconciliation.NewIssue(c.ids.NewID(), kind, subject, claim.OrderID, string(payment.ProviderClick), subject, detail, now)
	if err != nil {
		return false, err
	}
	return c.issues.Open(ctx, issue)
}

// resolveUnverified closes the click_cancel_unverified issue about subject,
// if one is open: the question it asked is answered now.
func (c *ClickCancels) resolveUnverified(ctx context.Context, subject, note string, now time.Time) error {
	issue, err := c.issues.FindOpenForUpdate(ctx, reconciliation.KindClickCancelUnverified, subject)
	if errors.Is(err, reconciliation.ErrNotFound) {
		return nil
	}
	if err != nil {
		return err
	}
	if err := issue.Resolve("", note, now); err != nil {
		return err
	}
	return c.issues.Update(ctx, issue)
}
