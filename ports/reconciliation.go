package ports

//go:generate go run github.com/golang/mock/mockgen -source=reconciliation.go -destination=mocks/reconciliation.go -package=mocks

import (
	"context"
	"time"

	"github.com/ultramarket/gateway/domain/reconciliation"
)

// IssueFilter selects reconciliation issues for the admin list; zero
// fields match any.
type IssueFilter struct {
	Status   reconciliation.Status
	Kind     reconciliation.Kind
	Page     int
	PageSize int
}

// ReconciliationIssues stores reconciliation issues: one per (kind,
// subject), ever, so whoever finds the same thing again opens nothing new. A
// missing issue is reconciliation.ErrNotFound.
type ReconciliationIssues interface {
	// Open stores issue unless an issue of its kind and subject exists,
	// open or resolved; opened reports whether this call stored it. Safe for
	// any number of callers at once: the database has the last word.
	Open(ctx context.Context, issue *reconciliation.Issue) (opened bool, err error)
	// GetForUpdate returns the issue, locked (inside TxManager.WithinTx only).
	GetForUpdate(ctx context.Context, id string) (*reconciliation.Issue, error)
	// FindOpenForUpdate returns the open issue of kind about subject,
	// locked; reconciliation.ErrNotFound when there is none.
	FindOpenForUpdate(ctx context.Context, kind reconciliation.Kind, subject string) (*reconciliation.Issue, error)
	// Update saves the status, the resolution and its note.
	Update(ctx context.Context, issue *reconciliation.Issue) error
	// List returns one page of the issues f selects, newest first, and how
	// many it selects in all.
	List(ctx context.Context, f IssueFilter) ([]*reconciliation.Issue, int, error)
	// CountOpen counts the open issues of every kind (kinds with none are 0).
	CountOpen(ctx context.Context) (map[reconciliation.Kind]int64, error)
}

// ClickCancelClaim is a Click Complete with error < 0 on an attempt we had
// confirmed: a claim that the payment was cancelled, which refunds nothing
// until Click's Merchant API confirms it.
type ClickCancelClaim struct {
	AttemptID  string // click_transactions id (UUID)
	OrderID    string
	ClickError int // what Click sent, < 0
	ClaimedAt  time.Time
}

// ClickCancelOutcome is how Click decided a claim.
type ClickCancelOutcome string

const (
	// ClickCancelConfirmed: Click reports the payment cancelled; refunded.
	ClickCancelConfirmed ClickCancelOutcome = "cancelled"
	// ClickCancelStands: Click reports the payment successful; disputed.
	ClickCancelStands ClickCancelOutcome = "stands"
)

// ClickCancelClaims keeps the claims until Click decides them.
type ClickCancelClaims interface {
	// Record stores the claim in the transaction ctx carries, or, when the
	// attempt has one already, makes it pending again with the new error and
	// time: a repeated cancel is asked about again.
	Record(ctx context.Context, claim ClickCancelClaim) error
	// ListPending returns up to limit claims Click has not decided, those
	// asked about longest ago first.
	ListPending(ctx context.Context, limit int) ([]ClickCancelClaim, error)
	// NoteAsked notes that Click was asked about the claim at now without
	// deciding it, so the next pass asks about the others first.
	NoteAsked(ctx context.Context, attemptID string, now time.Time) error
	// Settle decides the claim if it is still pending at claimedAt (a claim
	// renewed since is left for the next pass); settled is false otherwise.
	Settle(ctx context.Context, attemptID string, claimedAt time.Time, outcome ClickCancelOutcome, now time.Time) (settled bool, err error)
}

// UnconfirmedClickOrder is an order with Click attempts we never confirmed
// that are old enough to ask Click about.
type UnconfirmedClickOrder struct {
	OrderID string
	// LastPreparedAt is the newest of those attempts' Prepare times: the day
	// Click is asked about.
	LastPreparedAt time.Time
}

// ReconciliationChecks remembers what a check has asked a provider about,
// so a pass does not ask again about what an earlier pass settled.
type ReconciliationChecks interface {
	// UnconfirmedClickOrders returns up to limit orders with a Click attempt
	// prepared in [since, until) that we never confirmed (still prepared, or
	// abandoned by us without a word from Click) and that check name has not
	// asked about since that attempt was prepared plus age.
	UnconfirmedClickOrders(ctx context.Context, name string, since, until time.Time, age time.Duration, limit int) ([]UnconfirmedClickOrder, error)
	// MarkChecked records that check name asked about subject at now.
	MarkChecked(ctx context.Context, name, subject string, now time.Time) error
}

// JobLeases lets one instance at a time run a job that calls out, so it
// cannot hold a database transaction (or a session-level lock, which
// PgBouncer's transaction pooling would break) for the pass: a lease row,
// claimed and given back by single statements.
type JobLeases interface {
	// Claim takes job name's lease until now+lease when nobody holds it (or
	// the holder's lease ran out) and its last pass ended at least minGap
	// before now. ok is false when another instance holds it or it ran too
	// recently; token identifies the claim for Release.
	Claim(ctx context.Context, name string, now time.Time, lease, minGap time.Duration) (token string, ok bool, err error)
	// Release gives the lease back and records now as the end of the pass,
	// if token still holds it.
	Release(ctx context.Context, name, token string, now time.Time) error
}

// FailedReceipt is a fiscal receipt with status failed: the tax system
// refused it, or we gave up submitting it.
type FailedReceipt struct {
	ID       string // fiscal_receipts id: the issue's subject
	OrderID  string
	Provider string
	Kind     string // sale or refund
	// ProviderTransactionID: Payme's transaction id, or Click's
	// click_trans_id ("" when no attempt matches the receipt).
	ProviderTransactionID string
	Reason                string // the provider's message or our last error; short, no secret
}

// UnreceiptedOrder is an order paid long enough ago to have its sale
// receipt, that has none issued.
type UnreceiptedOrder struct {
	OrderID               string
	PaidAt                time.Time
	Provider              string // "" when no settlement names one
	ProviderTransactionID string
}

// ReceiptChecks finds what the receipt checks open issues about. Both
// leave out what an issue of their kind is about already, open or resolved,
// so a pass works through a backlog limit rows at a time.
type ReceiptChecks interface {
	// FailedReceipts returns up to limit failed receipts that no
	// receipt_failed issue is about, those failed longest ago first.
	FailedReceipts(ctx context.Context, limit int) ([]FailedReceipt, error)
	// UnreceiptedOrders returns up to limit orders paid before paidBefore
	// without an issued sale receipt that no receipt_missing issue is about,
	// those paid longest ago first.
	UnreceiptedOrders(ctx context.Context, paidBefore time.Time, limit int) ([]UnreceiptedOrder, error)
}
