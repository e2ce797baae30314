package payment

import (
	"errors"
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
)

// MaxRefundReasonChars bounds an admin's reason for a refund (API.md: 1..500).
const MaxRefundReasonChars = 500

// RefundOutcome is what an admin refund did.
type RefundOutcome string

const (
	// RefundReversed: Click gave the money back (payment/reversal) and the
	// order is refunded.
	RefundReversed RefundOutcome = "reversed"
	// RefundAuthorized: the order may be refunded by Payme's
	// CancelTransaction, which the merchant starts in Payme's cabinet.
	RefundAuthorized RefundOutcome = "authorized"
)

var (
	// ErrRefundRefused: API code refund_refused. The gateway answered and
	// declined; RefusalError carries its note.
	ErrRefundRefused = fmt.Errorf("payment: the gateway refused the refund: %w", domain.ErrConflict)
	// ErrGatewayUnavailable: the gateway's API could not be reached (or is
	// not configured); nothing changed and the request may be retried.
	ErrGatewayUnavailable = fmt.Errorf("payment: gateway: %w", domain.ErrUpstreamUnavailable)
)

// RefusalError is a payment gateway declining an operation with its own
// code and note (Click's error_code and error_note). It is an answer, not an
// outage; it matches ErrRefundRefused only where a refund asked for it
// (RefusedRefund), since the same refusal of a status query means nothing
// of the kind.
type RefusalError struct {
	Code int
	Note string
}

func (e *RefusalError) Error() string {
	return fmt.Sprintf("gateway refused: code %d %q", e.Code, e.Note)
}

// RefundRefusedError is a refund the gateway declined. Note is the gateway's
// own words, which the admin is shown.
type RefundRefusedError struct {
	OrderID string
	Note    string
	Cause   error // the gateway's answer, for the logs
}

func (e *RefundRefusedError) Error() string {
	return fmt.Sprintf("refund of order %s refused by the gateway: %q", e.OrderID, e.Note)
}

func (e *RefundRefusedError) Unwrap() error { return e.Cause }

// Is makes errors.Is(err, ErrRefundRefused) true, and so its category (a conflict).
func (e *RefundRefusedError) Is(target error) bool { return errors.Is(ErrRefundRefused, target) }

// Refund is the audit of one admin refund: who asked, when, why, for which
// order and provider, and what it did.
type Refund struct {
	id, orderID, adminID string
	provider             Provider
	outcome              RefundOutcome
	reason               string
	createdAt            time.Time
}

// CheckRefundReason validates an admin's reason: 1..500 characters once
// trimmed. It names the field reason.
func CheckRefundReason(reason string) (string, error) {
	r := strings.TrimSpace(reason)
	if n := utf8.RuneCountInString(r); n < 1 || n > MaxRefundReasonChars {
		return "", domain.Invalid("reason", domain.MsgCharsRange, domain.Args{"Count": MaxRefundReasonChars})
	}
	return r, nil
}

// NewRefund records an admin refund of orderID paid through provider.
func NewRefund(id, orderID string, provider Provider, outcome RefundOutcome, reason, adminID string, now time.Time) (*Refund, error) {
	r, err := CheckRefundReason(reason)
	if err != nil {
		return nil, err
	}
	return &Refund{id: id, orderID: orderID, adminID: adminID, provider: provider, outcome: outcome, reason: r, createdAt: now}, nil
}

// RestoreRefund rebuilds a stored refund; adapters only.
func RestoreRefund(id, orderID string, provider Provider, outcome RefundOutcome, reason, adminID string, createdAt time.Time) *Refund {
	return &Refund{id: id, orderID: orderID, adminID: adminID, provider: provider, outcome: outcome, reason: reason, createdAt: createdAt}
}

func (r *Refund) ID() string             { return r.id }
func (r *Refund) OrderID() string        { return r.orderID }
func (r *Refund) AdminID() string        { return r.adminID }
func (r *Refund) Provider() Provider     { return r.provider }
func (r *Refund) Outcome() RefundOutcome { return r.outcome }
func (r *Refund) Reason() string         { return r.reason }
func (r *Refund) CreatedAt() time.Time   { return r.createdAt }
