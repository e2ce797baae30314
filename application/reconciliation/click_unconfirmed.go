package reconciliation

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

const (
	// UnconfirmedAge is how old a prepared attempt must be before Click is
	// asked whether it was paid (API.md: older than 1 h): a Complete that is
	// merely late arrives well within it.
	UnconfirmedAge = time.Hour
	// UnconfirmedLookback bounds how far back attempts are looked at: a
	// payment Click took a month ago and never told us about is a matter for
	// Click's support, not for a job that runs every few minutes.
	UnconfirmedLookback = 30 * 24 * time.Hour
	unconfirmedBatch    = 100
)

// ClickPaidUnconfirmed finds money Click took that we never confirmed: for
// orders with a Click attempt prepared more than UnconfirmedAge ago that we
// never confirmed (still prepared, or ended by us when the order expired,
// was cancelled or was paid otherwise), it asks Click's status_by_mti for
// the order; a successful payment that is not the order's confirmed attempt
// opens click_paid_unconfirmed. Each order is asked about once per attempt
// (ports.ReconciliationChecks), whatever Click answers, except when Click
// cannot be asked: then the next pass asks again.
type ClickPaidUnconfirmed struct {
	checks   ports.ReconciliationChecks
	clicks   ports.ClickRepository
	issues   ports.ReconciliationIssues
	merchant ports.ClickMerchant
	ids      ports.IDGenerator
}

// NewClickPaidUnconfirmed wires the check.
func NewClickPaidUnconfirmed(checks ports.ReconciliationChecks, clicks ports.ClickRepository, issues ports.ReconciliationIssues,
	merchant ports.ClickMerchant, ids ports.IDGenerator) *ClickPaidUnconfirmed {
	return &ClickPaidUnconfirmed{checks: checks, clicks: clicks, issues: issues, merchant: merchant, ids: ids}
}

// Name implements Check; it is also the name its marks are kept under.
func (c *ClickPaidUnconfirmed) Name() string { return string(reconciliation.KindClickPaidUnconfirmed) }

// Run implements Check.
func (c *ClickPaidUnconfirmed) Run(ctx context.Context, now time.Time) (map[reconciliation.Kind]int, error) {
	opened := map[reconciliation.Kind]int{}
	orders, err := c.checks.UnconfirmedClickOrders(ctx, c.Name(), now.Add(-UnconfirmedLookback), now.Add(-UnconfirmedAge),
		UnconfirmedAge, unconfirmedBatch)
	if err != nil {
		return opened, err
	}
	var errs []error
	for _, o := range orders {
		if ctx.Err() != nil {
			break
		}
		ok, err := c.checkOrder(ctx, o, now)
		if ok {
			opened[reconciliation.KindClickPaidUnconfirmed]++
		}
		if err != nil {
			errs = append(errs, err)
		}
	}
	return opened, errors.Join(errs...)
}

func (c *ClickPaidUnconfirmed) checkOrder(ctx context.Context, o ports.UnconfirmedClickOrder, now time.Time) (bool, error) {
	// Click counts payment days in Tashkent time.
	status, err := c.merchant.PaymentStatusByMerchantTransID(ctx, o.OrderID, o.LastPreparedAt.In(fiscal.Tashkent))
	switch {
	case errors.Is(err, domain.ErrNotFound):
		// Click knows no payment for the order that day: nothing was taken.
		return false, c.checks.MarkChecked(ctx, c.Name(), o.OrderID, now)
	case err != nil:
		return false, fmt.Errorf("ask click about order %s: %w", o.OrderID, err)
	}
	opened := false
	if status.Status == clickPaymentSuccess {
		attempts, err := c.clicks.ListByOrder(ctx, o.OrderID)
		if err != nil {
			return false, err
		}
		var paid, newest *payment.ClickTransaction
		for _, a := range attempts {
			if a.ClickPaydocID() == status.PaymentID {
				paid = a
			}
			if newest == nil || a.PreparedAt().After(newest.PreparedAt()) {
				newest = a
			}
		}
		if paid == nil || paid.State() != payment.ClickConfirmed {
			about := paid
			if about == nil {
				about = newest
			}
			txID := ""
			if about != nil {
				txID = strconv.FormatInt(about.ClickTransID(), 10)
			}
			issue, err := reconciliation.NewIssue(c.ids.NewID(), reconciliation.KindClickPaidUnconfirmed, o.OrderID, o.OrderID,
				string(payment.ProviderClick), txID, fmt.Sprintf(
					"Click's status_by_mti reports payment %d for order %s successful, but we never confirmed it: "+
						"the buyer paid and the order does not show it.", status.PaymentID, o.OrderID), now)
			if err != nil {
				return false, err
			}
			if opened, err = c.issues.Open(ctx, issue); err != nil {
				return false, err
			}
		}
	}
	return opened, c.checks.MarkChecked(ctx, c.Name(), o.OrderID, now)
}
