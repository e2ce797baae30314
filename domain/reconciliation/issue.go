// Package reconciliation holds the issues the reconciliation job opens when
// the gateway and a payment provider disagree (API.md, "Refunds and
// reconciliation"), and how a person resolves them.
package reconciliation

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
)

// Kind is what went wrong.
type Kind string

const (
	// KindClickCancelDisputed: Click sent a cancel of a payment we had
	// confirmed, and Click's Merchant API says the payment stands.
	KindClickCancelDisputed Kind = "click_cancel_disputed"
	// KindClickCancelUnverified: such a cancel that Click could not be asked
	// about (CLICK_API_URL off, Click unreachable, or undecided).
	KindClickCancelUnverified Kind = "click_cancel_unverified"
	// KindClickPaidUnconfirmed: a prepared attempt older than an hour that
	// Click reports paid, which we never confirmed.
	KindClickPaidUnconfirmed Kind = "click_paid_unconfirmed"
	// KindReceiptMissing: with FISCAL_REQUIRED, an order paid more than an
	// hour ago without an issued sale receipt.
	KindReceiptMissing Kind = "receipt_missing"
	// KindReceiptFailed: a Click receipt that failed CLICK_FISCAL_MAX_TRIES times.
	KindReceiptFailed Kind = "receipt_failed"
)

// Kinds lists every kind, in the order reports show them.
func Kinds() []Kind {
	return []Kind{KindClickCancelDisputed, KindClickCancelUnverified, KindClickPaidUnconfirmed,
		KindReceiptMissing, KindReceiptFailed}
}

// Status is open until a person (or the job, when a later pass settled it)
// resolves the issue.
type Status string

const (
	StatusOpen     Status = "open"
	StatusResolved Status = "resolved"
)

// MaxNote bounds a resolution note and MaxDetail an issue's detail.
const (
	MaxNote   = 1000
	MaxDetail = 1000
)

var (
	ErrNotFound = fmt.Errorf("reconciliation issue: %w", domain.ErrNotFound)
	// ErrAlreadyResolved: resolving a resolved issue (409 conflict).
	ErrAlreadyResolved       = fmt.Errorf("reconciliation issue: already resolved: %w", domain.ErrConflict)
	ErrInvalidKind     error = domain.Invalid("kind", domain.MsgOneOf, domain.Args{"Values": "click_cancel_disputed, click_cancel_unverified, click_paid_unconfirmed, receipt_missing, receipt_failed"})
	ErrInvalidStatus   error = domain.Invalid("status", domain.MsgEither, domain.Args{"Values": "open", "Last": "resolved"})
	ErrInvalidNote     error = domain.Invalid("note", domain.MsgCharsOneTo, domain.Args{"Count": 1000})
)

// ParseKind accepts exactly the kinds of API.md.
func ParseKind(s string) (Kind, error) {
	for _, k := range Kinds() {
		if string(k) == s {
			return k, nil
		}
	}
	return "", ErrInvalidKind
}

// ParseStatus accepts open and resolved.
func ParseStatus(s string) (Status, error) {
	switch Status(s) {
	case StatusOpen, StatusResolved:
		return Status(s), nil
	}
	return "", ErrInvalidStatus
}

// Issue is one disagreement. Subject is what it is about, unique per kind
// (the provider's transaction id, or the order id), so that finding the same
// thing twice opens one issue.
type Issue struct {
	id, subject, orderID, provider, providerTxID, detail string
	kind                                                 Kind
	status                                               Status
	detectedAt, resolvedAt                               time.Time
	resolvedBy, note                                     string
}

// NewIssue is a newly found issue, open. orderID, provider and providerTxID
// may be "" when the issue has none.
func NewIssue(id string, kind Kind, subject, orderID, provider, providerTxID, detail string, now time.Time) (*Issue, error) {
	if _, err := ParseKind(string(kind)); err != nil {
		return nil, err
	}
	if subject == "" {
		return nil, domain.Invalid("subject", domain.MsgRequired)
	}
	detail = clip(strings.TrimSpace(detail), MaxDetail)
	if detail == "" {
		return nil, domain.Invalid("detail", domain.MsgRequired)
	}
	return &Issue{id: id, kind: kind, subject: subject, orderID: orderID, provider: provider, providerTxID: providerTxID,
		detail: detail, status: StatusOpen, detectedAt: now}, nil
}

// RestoreIssue rebuilds a stored issue; adapters only.
func RestoreIssue(id string, kind Kind, subject, orderID, provider, providerTxID, detail string, status Status,
	detectedAt, resolvedAt time.Time, resolvedBy, note string) *Issue {
	return &Issue{id: id, kind: kind, subject: subject, orderID: orderID, provider: provider, providerTxID: providerTxID,
		detail: detail, status: status, detectedAt: detectedAt, resolvedAt: resolvedAt, resolvedBy: resolvedBy, note: note}
}

func (i *Issue) ID() string                    { return i.id }
func (i *Issue) Kind() Kind                    { return i.kind }
func (i *Issue) Subject() string               { return i.subject }
func (i *Issue) OrderID() string               { return i.orderID }
func (i *Issue) Provider() string              { return i.provider }
func (i *Issue) ProviderTransactionID() string { return i.providerTxID }
func (i *Issue) Detail() string                { return i.detail }
func (i *Issue) Status() Status                { return i.status }
func (i *Issue) DetectedAt() time.Time         { return i.detectedAt }
func (i *Issue) ResolvedAt() time.Time         { return i.resolvedAt }
func (i *Issue) ResolvedBy() string            { return i.resolvedBy }
func (i *Issue) Note() string                  { return i.note }

// Resolve closes the issue: by is the admin's user id ("" when a later pass
// of the job settled it), note what was done (1..MaxNote characters after
// trimming).
func (i *Issue) Resolve(by, note string, now time.Time) error {
	note = strings.TrimSpace(note)
	if note == "" || utf8.RuneCountInString(note) > MaxNote {
		return ErrInvalidNote
	}
	if i.status == StatusResolved {
		return ErrAlreadyResolved
	}
	i.status, i.resolvedBy, i.note, i.resolvedAt = StatusResolved, by, note, now
	return nil
}

// clip cuts s to at most n characters: a detail comes from the job, which may
// quote a provider's note of any length.
func clip(s string, n int) string {
	if utf8.RuneCountInString(s) <= n {
		return s
	}
	return string([]rune(s)[:n])
}
