package payment

import (
	"time"

	"github.com/ultramarket/gateway/domain/money"
)

// ClickState follows Payme's numbering so both gateways read alike in the
// database.
type ClickState int

const (
	ClickPrepared              ClickState = 1
	ClickConfirmed             ClickState = 2
	ClickCancelled             ClickState = -1
	ClickCancelledAfterConfirm ClickState = -2
)

// ClickTransaction is one Prepare/Complete attempt. amountRaw keeps the
// amount exactly as Click sent it, because Click signs the raw string.
//
// It has two ids: id is ours, a UUID like every id of our API; prepareID is
// the integer Click's protocol wants (merchant_prepare_id, also sent back as
// merchant_confirm_id), and never leaves that protocol.
type ClickTransaction struct {
	id                                     string
	prepareID                              int64 // merchant_prepare_id, 0 until stored
	clickTransID, clickPaydocID, serviceID int64
	orderID                                string
	amount                                 money.Money
	amountRaw                              string
	state                                  ClickState
	clickError                             *int // the error Click sent on a cancelling Complete
	preparedAt, confirmedAt, cancelledAt   time.Time
}

// NewClickTransaction records a Prepare; id is the attempt's new UUID.
func NewClickTransaction(id string, clickTransID, clickPaydocID, serviceID int64, orderID string, amount money.Money, amountRaw string, now time.Time) (*ClickTransaction, error) {
	if amount.Tiyin() <= 0 {
		return nil, ErrAmountMismatch
	}
	return &ClickTransaction{
		id: id, clickTransID: clickTransID, clickPaydocID: clickPaydocID, serviceID: serviceID, orderID: orderID,
		amount: amount, amountRaw: amountRaw, state: ClickPrepared, preparedAt: now,
	}, nil
}

// RestoreClickTransaction rebuilds a stored attempt; adapters only.
func RestoreClickTransaction(id string, prepareID, clickTransID, clickPaydocID, serviceID int64, orderID string, amount money.Money, amountRaw string,
	state ClickState, clickError *int, preparedAt, confirmedAt, cancelledAt time.Time) *ClickTransaction {
	return &ClickTransaction{
		id: id, prepareID: prepareID, clickTransID: clickTransID, clickPaydocID: clickPaydocID, serviceID: serviceID,
		orderID: orderID, amount: amount, amountRaw: amountRaw, state: state, clickError: copyInt(clickError),
		preparedAt: preparedAt, confirmedAt: confirmedAt, cancelledAt: cancelledAt,
	}
}

// SetPrepareID is for adapters: the database assigns merchant_prepare_id.
func (t *ClickTransaction) SetPrepareID(id int64) { t.prepareID = id }

func copyInt(p *int) *int {
	if p == nil {
		return nil
	}
	c := *p
	return &c
}

func (t *ClickTransaction) ID() string             { return t.id }
func (t *ClickTransaction) PrepareID() int64       { return t.prepareID }
func (t *ClickTransaction) ClickTransID() int64    { return t.clickTransID }
func (t *ClickTransaction) ClickPaydocID() int64   { return t.clickPaydocID }
func (t *ClickTransaction) ServiceID() int64       { return t.serviceID }
func (t *ClickTransaction) OrderID() string        { return t.orderID }
func (t *ClickTransaction) Amount() money.Money    { return t.amount }
func (t *ClickTransaction) AmountRaw() string      { return t.amountRaw }
func (t *ClickTransaction) State() ClickState      { return t.state }
func (t *ClickTransaction) ClickError() *int       { return copyInt(t.clickError) }
func (t *ClickTransaction) PreparedAt() time.Time  { return t.preparedAt }
func (t *ClickTransaction) ConfirmedAt() time.Time { return t.confirmedAt }
func (t *ClickTransaction) CancelledAt() time.Time { return t.cancelledAt }

// Confirm is a successful Complete. A second Complete of a confirmed attempt
// is answered "already paid", as Click expects.
func (t *ClickTransaction) Confirm(now time.Time) error {
	switch t.state {
	case ClickPrepared:
		t.state, t.confirmedAt = ClickConfirmed, now
		return nil
	case ClickConfirmed:
		return ErrAlreadyPaid
	}
	return ErrClickCancelled
}

// Cancel ends the attempt. wasConfirmed tells the caller money had been taken,
// so the order must be refunded and the event raised as an alert.
func (t *ClickTransaction) Cancel(clickError int, now time.Time) (wasConfirmed bool, err error) {
	switch t.state {
	case ClickPrepared:
		t.state = ClickCancelled
	case ClickConfirmed:
		t.state = ClickCancelledAfterConfirm
		wasConfirmed = true
	default:
		return false, nil
	}
	e := clickError
	t.clickError, t.cancelledAt = &e, now
	return wasConfirmed, nil
}

// Reverse records that Click gave a confirmed attempt's money back at our
// request (Merchant API payment/reversal). No Click error is recorded: Click
// sent none (our API shows cancel_reason null). Reversing a reversed attempt
// changes nothing (changed false); any other state is ErrBadState.
func (t *ClickTransaction) Reverse(now time.Time) (changed bool, err error) {
	switch t.state {
	case ClickConfirmed:
		t.state, t.cancelledAt = ClickCancelledAfterConfirm, now
		return true, nil
	case ClickCancelledAfterConfirm:
		return false, nil
	}
	return false, ErrBadState
}

// Abandon ends a prepared attempt on our side, because its order no longer
// waits for it: the order was cancelled or expired, or another payment paid
// it. Unlike Cancel it records no Click error, since Click sent none (our API
// shows cancel_reason null). A later Complete of the attempt is refused: -9,
// or -4 when the order was paid. Only a prepared attempt changes; for any
// other the result is false.
func (t *ClickTransaction) Abandon(now time.Time) bool {
	if t.state != ClickPrepared {
		return false
	}
	t.state, t.cancelledAt = ClickCancelled, now
	return true
}

// ClientState maps Click's states onto our API's vocabulary.
func (t *ClickTransaction) ClientState() ClientState {
	switch t.state {
	case ClickConfirmed:
		return ClientCompleted
	case ClickCancelled:
		return ClientCancelled
	case ClickCancelledAfterConfirm:
		return ClientRefunded
	}
	return ClientPending
}
