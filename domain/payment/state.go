// Package payment holds the two gateways' transaction aggregates — Payme's
// Merchant API transaction and Click's SHOP-API prepare/complete attempt —
// their state machines, and the single state vocabulary clients see.
package payment

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
)

var (
	ErrNotFound = fmt.Errorf("payment: payme transaction: %w", domain.ErrNotFound)
	// ErrBadState: Payme -31008, the transaction cannot do that in its state.
	ErrBadState = fmt.Errorf("payment: operation not allowed in this state: %w", domain.ErrConflict)
	// ErrTimedOut: Payme -31008, after the transaction cancelled itself for the 12-hour timeout.
	ErrTimedOut = fmt.Errorf("payment: transaction timed out and was cancelled: %w", domain.ErrConflict)
	// ErrCannotCancel: Payme -31007, the order was shipped or delivered.
	ErrCannotCancel = fmt.Errorf("payment: cannot cancel, order already fulfilled: %w", domain.ErrConflict)
	// ErrAmountMismatch: Payme -31001 / Click -2.
	ErrAmountMismatch = fmt.Errorf("payment: amount does not match the order total: %w", domain.ErrValidation)
	// ErrOrderHeld: Payme -31008, another live transaction holds the order or it is already paid.
	ErrOrderHeld = fmt.Errorf("payment: order is held by another transaction or already paid: %w", domain.ErrConflict)
	// ErrInvalidReason: a Payme cancel reason outside the documented set.
	ErrInvalidReason = fmt.Errorf("payment: unknown cancel reason: %w", domain.ErrValidation)

	// ErrClickCancelled: Click -9.
	ErrClickCancelled = fmt.Errorf("payment: click transaction cancelled: %w", domain.ErrConflict)
	// ErrAlreadyPaid: Click -4.
	ErrAlreadyPaid = fmt.Errorf("payment: already paid: %w", domain.ErrConflict)
	// ErrDuplicate: a Click attempt with this click_trans_id already exists.
	ErrDuplicate = fmt.Errorf("payment: duplicate click transaction: %w", domain.ErrConflict)
)

// Provider names a payment gateway.
type Provider string

const (
	ProviderPayme Provider = "payme"
	ProviderClick Provider = "click"
)

// ClientState is the one vocabulary our API uses for both gateways.
type ClientState string

const (
	ClientPending   ClientState = "pending"
	ClientCompleted ClientState = "completed"
	ClientCancelled ClientState = "cancelled"
	ClientRefunded  ClientState = "refunded"
)
