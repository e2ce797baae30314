package ports

//go:generate go run github.com/golang/mock/mockgen -source=fiscal.go -destination=mocks/fiscal.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/fiscal"
)

// SellerProfiles reads the fiscal profiles of sellers, which an order's
// lines snapshot when it is placed.
type SellerProfiles interface {
	// SellerProfilesOf returns the profiles of those of sellerIDs that have
	// one, keyed by seller id; ids without a profile (or that name nobody)
	// are left out.
	SellerProfilesOf(ctx context.Context, sellerIDs []string) (map[string]fiscal.SellerProfile, error)
}

// ClickReceiptState is where the Click receipt of one payment is.
type ClickReceiptState struct {
	OrderID string
	Status  fiscal.Status
	// Submitted: Click accepted the submission; it is never sent again.
	Submitted bool
	Attempts  int
}

// ClickReceipts stores the sale receipts of orders paid by Click, keyed by
// Click's payment id (click_paydoc_id). A missing one is payment.ErrNotFound.
type ClickReceipts interface {
	// AddPending records the pending sale receipt of the order paid by
	// paymentID, in the transaction ctx carries; adding it twice is not an
	// error and changes nothing.
	AddPending(ctx context.Context, orderID string, paymentID int64, now time.Time) error
	Get(ctx context.Context, paymentID int64) (ClickReceiptState, error)
	// MarkSubmitted records that Click accepted the submission.
	MarkSubmitted(ctx context.Context, paymentID int64, now time.Time) error
	// MarkIssued records the receipt Click printed.
	MarkIssued(ctx context.Context, paymentID int64, data fiscal.ReceiptData, now time.Time) error
	// RecordFailure counts a failed try (attempts+1) with its reason (short,
	// no secret); final marks the receipt failed.
	RecordFailure(ctx context.Context, paymentID int64, reason string, final bool, now time.Time) error
}
