package payments

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Transaction is one payment attempt of either provider, in the single
// vocabulary our API shows clients.
type Transaction struct {
	// ID is ours, a UUID for both providers (a Click attempt's
	// merchant_prepare_id stays inside Click's protocol).
	ID       string
	Provider payment.Provider
	// ProviderTransactionID is the gateway's: Payme's id, or Click's
	// click_trans_id in decimal.
	ProviderTransactionID string
	OrderID               string
	Amount                money.Money
	State                 payment.ClientState
	// CreatedAt is when we recorded the attempt; PerformedAt and CancelledAt
	// are zero while unset.
	CreatedAt, PerformedAt, CancelledAt time.Time
	// CancelReason is Payme's reason, or the negative error Click sent when
	// it cancelled; nil while not cancelled.
	CancelReason *int
}

// ListTransactionsInput is GET /api/payments?order_id=.
type ListTransactionsInput struct {
	Actor   user.Actor
	OrderID string
}

// ListTransactions shows an order's Payme and Click transactions to its owner
// and to admins.
type ListTransactions struct {
	orders ports.OrderRepository
	payme  ports.PaymeRepository
	clicks ports.ClickRepository
}

// NewListTransactions wires the use case.
func NewListTransactions(orders ports.OrderRepository, payme ports.PaymeRepository, clicks ports.ClickRepository) *ListTransactions {
	return &ListTransactions{orders: orders, payme: payme, clicks: clicks}
}

// Handle returns both providers' transactions of the order, oldest first.
// Errors: a *domain.ValidationError naming order_id (422); order.ErrNotFound
// (404) for a missing order and for anyone neither its owner nor an admin.
func (uc *ListTransactions) Handle(ctx context.Context, in ListTransactionsInput) ([]Transaction, error) {
	verr := &domain.ValidationError{}
	checkOrderID(verr, in.OrderID)
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	o, err := uc.orders.Get(ctx, in.OrderID)
	if err != nil {
		return nil, fmt.Errorf("list transactions: %w", err)
	}
	if !o.VisibleTo(in.Actor) {
		return nil, fmt.Errorf("list transactions: order %s is not the caller's: %w", o.ID(), order.ErrNotFound)
	}
	paymeTxs, err := uc.payme.ListByOrder(ctx, o.ID())
	if err != nil {
		return nil, fmt.Errorf("list payme transactions of order %s: %w", o.ID(), err)
	}
	clickTxs, err := uc.clicks.ListByOrder(ctx, o.ID())
	if err != nil {
		return nil, fmt.Errorf("list click transactions of order %s: %w", o.ID(), err)
	}
	out := make([]Transaction, 0, len(paymeTxs)+len(clickTxs))
	for _, t := range paymeTxs {
		out = append(out, paymeTransaction(t))
	}
	for _, t := range clickTxs {
		out = append(out, clickTransaction(t))
	}
	// Ties keep the repositories' order (a provider's attempts in the order
	// they were made), which the random UUIDs would not give.
	slices.SortStableFunc(out, func(a, b Transaction) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), cmp.Compare(a.Provider, b.Provider))
	})
	return out, nil
}

func paymeTransaction(t *payment.PaymeTransaction) Transaction {
	out := Transaction{
		ID: t.ID(), Provider: payment.ProviderPayme, ProviderTransactionID: t.PaymeID(), OrderID: t.OrderID(),
		Amount: t.Amount(), State: t.ClientState(),
		CreatedAt: fromMillis(t.CreateTime()), PerformedAt: fromMillis(t.PerformTime()), CancelledAt: fromMillis(t.CancelTime()),
	}
	if r := t.Reason(); r != nil {
		n := int(*r)
		out.CancelReason = &n
	}
	return out
}

func clickTransaction(t *payment.ClickTransaction) Transaction {
	return Transaction{
		ID: t.ID(), Provider: payment.ProviderClick,
		ProviderTransactionID: strconv.FormatInt(t.ClickTransID(), 10), OrderID: t.OrderID(),
		Amount: t.Amount(), State: t.ClientState(),
		CreatedAt: t.PreparedAt(), PerformedAt: t.ConfirmedAt(), CancelledAt: t.CancelledAt(),
		CancelReason: t.ClickError(),
	}
}

// fromMillis reads Payme's Unix milliseconds, where 0 means unset.
func fromMillis(ms int64) time.Time {
	if ms == 0 {
		return time.Time{}
	}
	return time.UnixMilli(ms).UTC()
}
