package ports

//go:generate go run github.com/golang/mock/mockgen -source=payments.go -destination=mocks/payments.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
)

// PaymeRepository stores Payme Merchant API transactions. A missing one is
// payment.ErrNotFound.
//
// Its reads are plain or locking. A plain read (Get…, List…, Has…) locks
// nothing and may run anywhere. A locking read (…ForUpdate, Lock…) locks the
// rows it returns until the transaction in ctx ends, and runs only inside
// TxManager.WithinTx (an error otherwise): outside one, a lock would last a
// single statement and guard nothing. Callers lock the order row first.
//
// What "live" and "timed out" mean is the domain's
// (payment.PaymeTransaction.IsLive and TimedOut, bounded by
// payment.PaymeLiveSince); the methods that take now select rows by that rule.
type PaymeRepository interface {
	// Insert stores a new transaction. A second state-1 or state-2
	// transaction for the same order returns payment.ErrOrderHeld (the
	// database, not the caller, has the last word); a Payme id stored already,
	// payment.ErrDuplicate; an order that does not exist, order.ErrNotFound.
	Insert(ctx context.Context, t *payment.PaymeTransaction) error
	// Update saves the state, the reason and the times (nothing else of a
	// transaction changes). Performing a transaction while another one of its
	// order is in state 1 or 2 returns payment.ErrOrderHeld.
	Update(ctx context.Context, t *payment.PaymeTransaction) error
	// GetByPaymeID returns the transaction with Payme's id.
	GetByPaymeID(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error)
	// GetByPaymeIDForUpdate is GetByPaymeID, locked.
	GetByPaymeIDForUpdate(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error)
	// LockOrderOf locks the order of the transaction with Payme's id and
	// returns it as OrderRepository.GetForUpdate does, learning which order
	// that is in the same step: the first lock of a call on a stored
	// transaction, taken before the transaction's own row
	// (GetByPaymeIDForUpdate), as every Payme call on the order takes it.
	// payment.ErrNotFound when no transaction has that id.
	LockOrderOf(ctx context.Context, paymeID string) (*order.Order, error)
	// ListHoldersForUpdate returns, locked and oldest first, the order's
	// transactions in state 1 (live or timed out) or 2: those the order may
	// have only one of, which a new transaction for it would collide with.
	ListHoldersForUpdate(ctx context.Context, orderID string) ([]*payment.PaymeTransaction, error)
	// ListByOrder returns every transaction of the order, oldest first.
	ListByOrder(ctx context.Context, orderID string) ([]*payment.PaymeTransaction, error)
	// ListByPaymeTime returns the transactions with from <= Payme time <= to
	// (Unix ms), oldest first: GetStatement.
	ListByPaymeTime(ctx context.Context, from, to int64) ([]*payment.PaymeTransaction, error)
	// LockTimedOut locks up to limit transactions timed out at now, oldest
	// first, skipping rows locked elsewhere: concurrent sweeps never wait for
	// each other nor take one transaction twice.
	LockTimedOut(ctx context.Context, now time.Time, limit int) ([]*payment.PaymeTransaction, error)
	// HasLive reports whether the order has a transaction live at now.
	HasLive(ctx context.Context, orderID string, now time.Time) (bool, error)
}

// ClickRepository stores Click SHOP-API payment attempts. A missing one is
// payment.ErrNotFound. Its reads are plain or locking, as PaymeRepository's
// are: a locking read (…ForUpdate) runs only inside TxManager.WithinTx.
type ClickRepository interface {
	// Insert stores a new attempt under its id (a UUID; anything else is a
	// validation error) and sets its prepare id from the database. A repeated
	// click_trans_id returns payment.ErrDuplicate; an order that does not
	// exist, order.ErrNotFound.
	Insert(ctx context.Context, t *payment.ClickTransaction) error
	// Update saves the state, Click's error and the times. Confirming a
	// second attempt of an order returns payment.ErrAlreadyPaid.
	Update(ctx context.Context, t *payment.ClickTransaction) error
	// GetByClickTransIDForUpdate returns the attempt with Click's
	// click_trans_id, locked.
	GetByClickTransIDForUpdate(ctx context.Context, clickTransID int64) (*payment.ClickTransaction, error)
	// GetByPrepareIDForUpdate returns the attempt with our
	// merchant_prepare_id, locked.
	GetByPrepareIDForUpdate(ctx context.Context, prepareID int64) (*payment.ClickTransaction, error)
	// ListByOrder returns the order's attempts, oldest first.
	ListByOrder(ctx context.Context, orderID string) ([]*payment.ClickTransaction, error)
	// ListByOrderForUpdate is ListByOrder, locked.
	ListByOrderForUpdate(ctx context.Context, orderID string) ([]*payment.ClickTransaction, error)
}

// Settlements records which provider transaction paid an order: at most one
// per order across both providers, enforced by a primary key.
type Settlements interface {
	// Record returns payment.ErrAlreadyPaid when the order already has one.
	Record(ctx context.Context, orderID string, provider payment.Provider, providerTxID string) error
}

// FiscalKind says which receipt SetFiscalData carries.
type FiscalKind string

const (
	FiscalPerform FiscalKind = "PERFORM"
	FiscalCancel  FiscalKind = "CANCEL"
)

// PaymeFiscalData is one receipt Payme reported with SetFiscalData: the
// fiscal_data object as Payme sent it, and what was read from it.
type PaymeFiscalData struct {
	Kind       FiscalKind
	Raw        []byte         // the fiscal_data JSON object, kept for the record
	Receipt    fiscal.Receipt // provider payme; kind, status and the printed data
	ReceiptID  string         // Payme's receipt_id, as text ("" when absent)
	StatusCode int
	Message    string
}

// FiscalStore keeps the fiscal receipts Payme sends with SetFiscalData.
type FiscalStore interface {
	// SaveFiscalData stores the receipt for the transaction with Payme id
	// paymeID on that transaction's order, replacing an earlier receipt of
	// the same kind (a replay of the same data changes nothing);
	// payment.ErrNotFound when there is no such transaction. A kind other
	// than FiscalPerform or FiscalCancel, or Raw that is not a JSON object
	// the store can hold, is a validation error.
	SaveFiscalData(ctx context.Context, paymeID string, d PaymeFiscalData) error
}

// ClickPaymentStatus is Click's answer about one payment.
type ClickPaymentStatus struct {
	PaymentID int64
	// Status: < 0 error, 0 created, 1 processing, 2 success.
	Status int
}

// ClickFiscalData is what Click's payment/ofd_data says about the fiscal
// receipt of one payment.
type ClickFiscalData struct {
	PaymentID int64
	// QRCodeURL is the receipt link, "" while Click has no receipt for the
	// payment: not having one yet is an answer, not an error.
	QRCodeURL string
	// Note is Click's error_note when it answered with an error_code instead
	// of a receipt, for the logs.
	Note string
}

// ClickMerchant is Click's Merchant API, for reconciliation, refunds and
// receipts: what Click thinks happened to a payment, reversing one, and the
// fiscal receipt of one. Payment ids are Click's click_paydoc_id.
type ClickMerchant interface {
	PaymentStatus(ctx context.Context, paymentID int64) (ClickPaymentStatus, error)
	PaymentStatusByMerchantTransID(ctx context.Context, merchantTransID string, day time.Time) (ClickPaymentStatus, error)
	// Reverse gives the buyer the payment's money back (payment/reversal).
	// Click declining (an error_code) is a *payment.RefusalError in the
	// chain; Click not answering is domain.ErrUnavailable.
	Reverse(ctx context.Context, paymentID int64) error
	// SubmitFiscalItems asks Click to print the sale receipt of the payment
	// from these items (payment/ofd_data/submit_items).
	SubmitFiscalItems(ctx context.Context, paymentID int64, items fiscal.ClickSubmission) error
	// FiscalData reads the payment's receipt link (payment/ofd_data).
	FiscalData(ctx context.Context, paymentID int64) (ClickFiscalData, error)
}

// RefundRepository keeps the audit of admin refunds (order_refunds).
type RefundRepository interface {
	// Add stores one refund; an order or admin that does not exist is
	// order.ErrNotFound or user.ErrNotFound.
	Add(ctx context.Context, r *payment.Refund) error
	// ListByOrder returns the order's refunds, oldest first.
	ListByOrder(ctx context.Context, orderID string) ([]*payment.Refund, error)
}

// PaymentFilter narrows the payments console. Zero fields match anything;
// From and To bound the attempt's creation time, From <= created < To.
type PaymentFilter struct {
	Provider payment.Provider
	State    payment.ClientState
	OrderID  string
	From, To time.Time
	Page     int
	PageSize int
}

// PaymentRecord is one attempt of either provider as the console lists it,
// in the vocabulary of our API (see payments.Transaction).
type PaymentRecord struct {
	ID                    string
	Provider              payment.Provider
	ProviderTransactionID string
	OrderID               string
	Amount                money.Money
	State                 payment.ClientState
	// PerformedAt and CancelledAt are zero while unset.
	CreatedAt, PerformedAt, CancelledAt time.Time
	CancelReason                        *int
}

// PaymentConsole lists both providers' attempts across orders, newest first
// (by creation time, then id).
type PaymentConsole interface {
	// List returns one page and how many attempts match in all.
	List(ctx context.Context, f PaymentFilter) ([]PaymentRecord, int, error)
	// Count is how many attempts match (paging ignored).
	Count(ctx context.Context, f PaymentFilter) (int, error)
	// Each calls fn for every matching attempt, newest first, paging
	// ignored, stopping at fn's first error, which it returns.
	Each(ctx context.Context, f PaymentFilter, fn func(PaymentRecord) error) error
}
