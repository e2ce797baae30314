package admin

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/ultramarket/gateway/application/holds"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// RefundOrderInput is POST /api/admin/orders/:id/refund: who asks, for which
// order, and why.
type RefundOrderInput struct {
	Actor   user.Actor
	OrderID string
	Reason  string
}

// RefundOrderResult is the order after the refund and its refund audit.
type RefundOrderResult struct {
	Order   *order.Order
	Refunds []*payment.Refund
	// Outcome says what happened: RefundReversed (Click gave the money back,
	// the order is refunded) or RefundAuthorized (Payme may now refund it).
	Outcome payment.RefundOutcome
	// StockReleaseErr is a failure to give the stock of a refunded order
	// that had not shipped back to the catalog, after the refund committed:
	// the refund stands; the edge logs it (the release may be redone).
	StockReleaseErr error
}

// RefundOrder is an admin giving a buyer's money back. How depends on who
// took it:
//
//   - Click: the service asks Click's Merchant API to reverse the payment,
//     outside any database transaction; only when Click says yes does one
//     transaction mark the attempt and the order refunded and record the
//     audit. Click refusing or not answering changes nothing.
//   - Payme: refunds start in the merchant's Payme cabinet, so the service
//     only authorizes it: the order gets refund_authorized_at, and Payme's
//     CancelTransaction that follows refunds it even after shipping.
//
// Stock comes back only for goods that never shipped.
type RefundOrder struct {
	tx       ports.TxManager
	orders   ports.OrderRepository
	payme    ports.PaymeRepository
	clicks   ports.ClickRepository
	refunds  ports.RefundRepository
	merchant ports.ClickMerchant // nil: CLICK_API_URL is off
	catalog  ports.Catalog
	ids      ports.IDGenerator
	clock    ports.Clock
	events   ports.OrderEvents // nil: events off
}

// RefundOrderDeps are RefundOrder's collaborators. Merchant may be nil (no
// Click Merchant API configured): a Click refund is then unavailable.
type RefundOrderDeps struct {
	Tx       ports.TxManager
	Orders   ports.OrderRepository
	Payme    ports.PaymeRepository
	Clicks   ports.ClickRepository
	Refunds  ports.RefundRepository
	Merchant ports.ClickMerchant
	Catalog  ports.Catalog
	IDs      ports.IDGenerator
	Clock    ports.Clock
	// Events records the refunded event in the refund's transaction; nil
	// when events are off.
	Events ports.OrderEvents
}

// NewRefundOrder wires the use case.
func NewRefundOrder(d RefundOrderDeps) *RefundOrder {
	return &RefundOrder{tx: d.Tx, orders: d.Orders, payme: d.Payme, clicks: d.Clicks, refunds: d.Refunds,
		merchant: d.Merchant, catalog: d.Catalog, ids: d.IDs, clock: d.Clock, events: d.Events}
}

// Handle refunds the order. Errors, in the order they are checked:
// user.ErrNotAllowed (403) unless the caller is an admin; a
// *domain.ValidationError naming reason (422) unless it is 1..500
// characters; order.ErrNotFound (404); order.ErrNotRefundable (409
// order_not_refundable) unless the order is paid, shipped or delivered with a
// completed payment; for Click, a *payment.RefundRefusedError
// (payment.ErrRefundRefused, 409 refund_refused, with Click's note) and
// payment.ErrGatewayUnavailable (503 upstream_unavailable) when Click cannot
// be asked. Those last two change nothing.
//
// A Payme refund authorized already answers the order as it is, and is not
// audited twice.
func (uc *RefundOrder) Handle(ctx context.Context, in RefundOrderInput) (RefundOrderResult, error) {
	if !in.Actor.IsAdmin() {
		return RefundOrderResult{}, fmt.Errorf("refund order %s as %q: %w", in.OrderID, in.Actor.Role, user.ErrNotAllowed)
	}
	if _, err := payment.CheckRefundReason(in.Reason); err != nil {
		return RefundOrderResult{}, err
	}
	// Plain reads: which provider took the money decides what to do, and
	// the Click call must happen before any transaction opens. The
	// transactions below lock and check again.
	o, err := uc.orders.Get(ctx, in.OrderID)
	if err != nil {
		return RefundOrderResult{}, fmt.Errorf("refund order %s: %w", in.OrderID, err)
	}
	if err := o.CheckRefundable(); err != nil {
		return RefundOrderResult{}, fmt.Errorf("refund order %s: %w", o.ID(), err)
	}
	performed, err := uc.performedPayme(ctx, o.ID())
	if err != nil {
		return RefundOrderResult{}, err
	}
	if performed != nil {
		return uc.authorizePayme(ctx, in, o.ID())
	}
	confirmed, err := uc.confirmedClick(ctx, o.ID())
	if err != nil {
		return RefundOrderResult{}, err
	}
	if confirmed != nil {
		return uc.reverseClick(ctx, in, confirmed)
	}
	return RefundOrderResult{}, fmt.Errorf("refund order %s: no completed payment: %w", o.ID(), order.ErrNotRefundable)
}

func (uc *RefundOrder) performedPayme(ctx context.Context, orderID string) (*payment.PaymeTransaction, error) {
	txs, err := uc.payme.ListByOrder(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("refund order %s: payme transactions: %w", orderID, err)
	}
	for _, t := range txs {
		if t.State() == payment.PaymePerformed {
			return t, nil
		}
	}
	return nil, nil //nolint:nilnil // no performed transaction is an answer, not an error
}

func (uc *RefundOrder) confirmedClick(ctx context.Context, orderID string) (*payment.ClickTransaction, error) {
	attempts, err := uc.clicks.ListByOrder(ctx, orderID)
	if err != nil {
		return nil, fmt.Errorf("refund order %s: click attempts: %w", orderID, err)
	}
	for _, t := range attempts {
		if t.State() == payment.ClickConfirmed {
			return t, nil
		}
	}
	return nil, nil //nolint:nilnil // no confirmed attempt is an answer, not an error
}

// authorizePayme records the authorization and its audit in one transaction.
func (uc *RefundOrder) authorizePayme(ctx context.Context, in RefundOrderInput, orderID string) (RefundOrderResult, error) {
	var out *order.Order
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		o, err := uc.orders.GetForUpdate(ctx, orderID)
		if err != nil {
			return err
		}
		out = o
		now := uc.clock.Now()
		changed, err := o.AuthorizeRefund(now)
		if err != nil {
			return fmt.Errorf("authorize refund of order %s: %w", o.ID(), err)
		}
		if !changed {
			return nil // authorized already: the first authorization and its audit stand
		}
		if err := uc.orders.Update(ctx, o); err != nil {
			return fmt.Errorf("save order %s: %w", o.ID(), err)
		}
		return uc.audit(ctx, in, o.ID(), payment.ProviderPayme, payment.RefundAuthorized, now)
	})
	if err != nil {
		return RefundOrderResult{}, err
	}
	return uc.result(ctx, out, payment.RefundAuthorized, nil)
}

// reverseClick asks Click to reverse the payment, then records what Click
// did. A refusal is checked against the payment's status: when Click says
// the payment is cancelled already (an earlier refund whose answer was lost
// on the way back, say), the reversal did happen and is recorded now.
func (uc *RefundOrder) reverseClick(ctx context.Context, in RefundOrderInput, t *payment.ClickTransaction) (RefundOrderResult, error) {
	if uc.merchant == nil {
		return RefundOrderResult{}, fmt.Errorf("refund order %s: the Click Merchant API is not configured (CLICK_API_URL): %w",
			t.OrderID(), payment.ErrGatewayUnavailable)
	}
	paymentID := t.ClickPaydocID()
	if err := uc.merchant.Reverse(ctx, paymentID); err != nil {
		var refusal *payment.RefusalError
		if !errors.As(err, &refusal) {
			return RefundOrderResult{}, fmt.Errorf("refund order %s: reverse click payment %d: %w: %w",
				t.OrderID(), paymentID, payment.ErrGatewayUnavailable, err)
		}
		st, statusErr := uc.merchant.PaymentStatus(ctx, paymentID)
		if statusErr != nil || st.Status >= 0 {
			return RefundOrderResult{}, fmt.Errorf("refund order %s: reverse click payment %d: %w",
				t.OrderID(), paymentID, &payment.RefundRefusedError{OrderID: t.OrderID(), Note: refusal.Note, Cause: err})
		}
	}

	var (
		out     *order.Order
		shipped bool
	)
	err := uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		o, err := uc.orders.GetForUpdate(ctx, t.OrderID())
		if err != nil {
			return err
		}
		attempt, err := uc.clicks.GetByPrepareIDForUpdate(ctx, t.PrepareID())
		if err != nil {
			return fmt.Errorf("lock click attempt %s: %w", t.ID(), err)
		}
		out, shipped = o, o.HasShipped()
		now := uc.clock.Now()
		if _, err := attempt.Reverse(now); err != nil {
			return fmt.Errorf("reverse click attempt %s (state %d): %w", attempt.ID(), attempt.State(), err)
		}
		// The admin's request is the authorization that lets an order whose
		// goods have shipped be refunded. An order refunded meanwhile (Click's
		// own cancel came first) stays as it is.
		if o.Status() != order.StatusRefunded {
			if _, err := o.AuthorizeRefund(now); err != nil {
				return fmt.Errorf("authorize refund of order %s: %w", o.ID(), err)
			}
			if err := o.Refund(now); err != nil {
				return fmt.Errorf("refund order %s: %w", o.ID(), err)
			}
			if err := uc.orders.Update(ctx, o); err != nil {
				return fmt.Errorf("save order %s: %w", o.ID(), err)
			}
			if uc.events != nil {
				if err := uc.events.Record(ctx, o); err != nil {
					return fmt.Errorf("record refunded event of order %s: %w", o.ID(), err)
				}
			}
		}
		if err := uc.clicks.Update(ctx, attempt); err != nil {
			return fmt.Errorf("save click attempt %s: %w", attempt.ID(), err)
		}
		// A Click refund receipt (payments/FISCAL.md) belongs here: an outbox
		// row written in this transaction, so it exists if and only if the
		// refund committed.
		return uc.audit(ctx, in, o.ID(), payment.ProviderClick, payment.RefundReversed, now)
	})
	if err != nil {
		// Click gave the money back but it is not recorded: say so loudly.
		// Asking again is safe: Click then refuses, reports the payment
		// cancelled, and the refund is recorded.
		return RefundOrderResult{}, fmt.Errorf("refund order %s: click reversed payment %d but recording it failed: %w", t.OrderID(), paymentID, err)
	}
	var releaseErr error
	if !shipped {
		// After the commit, never inside it (the catalog may be remote).
		releaseErr = holds.ReleaseStock(ctx, uc.catalog, out.ID(), user.Actor{})
	}
	return uc.result(ctx, out, payment.RefundReversed, releaseErr)
}

// audit records who refunded orderID, when and why, in the caller's transaction.
func (uc *RefundOrder) audit(ctx context.Context, in RefundOrderInput, orderID string, provider payment.Provider, outcome payment.RefundOutcome, now time.Time) error {
	r, err := payment.NewRefund(uc.ids.NewID(), orderID, provider, outcome, in.Reason, in.Actor.ID, now)
	if err != nil {
		return err
	}
	if err := uc.refunds.Add(ctx, r); err != nil {
		return fmt.Errorf("audit refund of order %s: %w", orderID, err)
	}
	return nil
}

func (uc *RefundOrder) result(ctx context.Context, o *order.Order, outcome payment.RefundOutcome, releaseErr error) (RefundOrderResult, error) {
	refunds, err := uc.refunds.ListByOrder(ctx, o.ID())
	if err != nil {
		return RefundOrderResult{}, fmt.Errorf("refunds of order %s: %w", o.ID(), err)
	}
	return RefundOrderResult{Order: o, Refunds: refunds, Outcome: outcome, StockReleaseErr: releaseErr}, nil
}
