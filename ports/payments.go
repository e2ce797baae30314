package ports

//go:generate go run github.com/golang/mock/mockgen -source=payments.go -destination=mocks/payments.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
)

// PaymeRepository stores Payme Merchant API transactions. A missing one returns
// payment.ErrNotFound.
type PaymeRepository interface {
	// Insert stores a new transaction. A second live (state 1 or 2) transaction
	// for the same order returns payment.ErrOrderHeld: the database, not the
	// caller, has the last word.
	Insert(ctx context.Context, t *payment.PaymeTransaction) error
	Update(ctx context.Context, t *payment.PaymeTransaction) error
	GetByPaymeIDForUpdate(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error)
	// ListLiveByOrderForUpdate returns the order's state-1 and state-2
	// transactions, locked.
	ListLiveByOrderForUpdate(ctx context.Context, orderID string) ([]*payment.PaymeTransaction, error)
	ListByOrder(ctx context.Context, orderID string) ([]*payment.PaymeTransaction, error)
	// ListByPaymeTime returns transactions with from <= Payme time <= to (ms),
	// oldest first, for GetStatement.
	ListByPaymeTime(ctx context.Context, from, to int64) ([]*payment.PaymeTransaction, error)
	// LockTimedOut locks up to limit state-1 transactions whose Payme time is
	// before paymeTimeBefore (ms), skipping locked rows.
	LockTimedOut(ctx context.Context, paymeTimeBefore int64, limit int) ([]*payment.PaymeTransaction, error)
	// HasLive reports whether the order has a state-1 transaction with Payme
	// time at or after paymeTimeSince (ms), i.e. one not yet timed out.
	HasLive(ctx context.Context, orderID string, paymeTimeSince int64) (bool, error)
}

// ClickRepository stores Click SHOP-API payment attempts. A missing one returns
// payment.ErrNotFound.
type ClickRepository interface {
	// Insert stores a new attempt and sets its prepare id. A repeated
	// click_trans_id returns payment.ErrDuplicate.
	Insert(ctx context.Context, t *payment.ClickTransaction) error
	Update(ctx context.Context, t *payment.ClickTransaction) error
	GetByClickTransIDForUpdate(ctx context.Context, clickTransID int64) (*payment.ClickTransaction, error)
	GetByPrepareIDForUpdate(ctx context.Context, prepareID int64) (*payment.ClickTransaction, error)
	ListByOrder(ctx context.Context, orderID string) ([]*payment.ClickTransaction, error)
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

// FiscalStore keeps the fiscal receipts Payme sends with SetFiscalData.
type FiscalStore interface {
	// SaveFiscalData stores the receipt JSON for the transaction with Payme id
	// paymeID; payment.ErrNotFound when there is none.
	SaveFiscalData(ctx context.Context, paymeID string, kind FiscalKind, data []byte) error
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
	Reverse(ctx context.Context, paymentID int64) error
	// SubmitFiscalItems asks Click to print the sale receipt of the payment
	// from these items (payment/ofd_data/submit_items).
	SubmitFiscalItems(ctx context.Context, paymentID int64, items fiscal.ClickSubmission) error
	// FiscalData reads the payment's receipt link (payment/ofd_data).
	FiscalData(ctx context.Context, paymentID int64) (ClickFiscalData, error)
}
