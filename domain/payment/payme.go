package payment

import (
	"maps"
	"time"

	"github.com/ultramarket/gateway/domain/money"
)

// PaymeState uses Payme's own numbers, because they are sent back verbatim.
type PaymeState int

const (
	PaymeCreated               PaymeState = 1
	PaymePerformed             PaymeState = 2
	PaymeCancelled             PaymeState = -1
	PaymeCancelledAfterPerform PaymeState = -2
)

// Reason is Payme's cancel reason code.
type Reason int

const (
	ReasonReceiverNotFound  Reason = 1
	ReasonProcessingError   Reason = 2
	ReasonTransactionFailed Reason = 3
	ReasonTimeout           Reason = 4
	ReasonRefund            Reason = 5
	ReasonUnknown           Reason = 10
)

// ParseReason accepts exactly the reasons Payme documents.
func ParseReason(n int) (Reason, error) {
	switch r := Reason(n); r {
	case ReasonReceiverNotFound, ReasonProcessingError, ReasonTransactionFailed, ReasonTimeout, ReasonRefund, ReasonUnknown:
		return r, nil
	}
	return 0, ErrInvalidReason
}

// PaymeTimeout is how long a created transaction may wait for Perform,
// counted from Payme's own create time.
const PaymeTimeout = 12 * time.Hour

// PaymeLiveSince is the oldest Payme time (Unix ms) a created transaction may
// have and still be live at now: exactly 12 hours old is still in time, one
// millisecond more is not. It is the one statement of the timeout rule:
// TimedOut and IsLive use it, and so do the repository queries that pick out
// live or timed-out rows (ports.PaymeRepository), which need it as a bound.
func PaymeLiveSince(now time.Time) int64 {
	return now.UnixMilli() - PaymeTimeout.Milliseconds()
}

// PaymeTransaction mirrors one Payme transaction. Times are Unix
// milliseconds because Payme compares them with its own records; 0 is unset.
type PaymeTransaction struct {
	id, paymeID, orderID                string
	paymeTime                           int64
	amount                              money.Money
	account                             map[string]string
	state                               PaymeState
	reason                              *Reason
	createTime, performTime, cancelTime int64
}

// NewPaymeTransaction records CreateTransaction. The create time is ours and
// is stored, so replays answer with it rather than a fresh one.
func NewPaymeTransaction(id, paymeID string, paymeTime int64, orderID string, amount money.Money, account map[string]string, now time.Time) (*PaymeTransaction, error) {
	if amount.Tiyin() <= 0 {
		return nil, ErrAmountMismatch
	}
	return &PaymeTransaction{
		id: id, paymeID: paymeID, orderID: orderID, paymeTime: paymeTime, amount: amount,
		account: maps.Clone(account), state: PaymeCreated, createTime: now.UnixMilli(),
	}, nil
}

// RestorePaymeTransaction rebuilds a stored transaction; adapters only.
func RestorePaymeTransaction(id, paymeID, orderID string, paymeTime int64, amount money.Money, account map[string]string,
	state PaymeState, reason *Reason, createTime, performTime, cancelTime int64) *PaymeTransaction {
	return &PaymeTransaction{
		id: id, paymeID: paymeID, orderID: orderID, paymeTime: paymeTime, amount: amount,
		account: maps.Clone(account), state: state, reason: copyReason(reason),
		createTime: createTime, performTime: performTime, cancelTime: cancelTime,
	}
}

func copyReason(r *Reason) *Reason {
	if r == nil {
		return nil
	}
	c := *r
	return &c
}

func (t *PaymeTransaction) ID() string                 { return t.id }
func (t *PaymeTransaction) PaymeID() string            { return t.paymeID }
func (t *PaymeTransaction) OrderID() string            { return t.orderID }
func (t *PaymeTransaction) PaymeTime() int64           { return t.paymeTime }
func (t *PaymeTransaction) Amount() money.Money        { return t.amount }
func (t *PaymeTransaction) Account() map[string]string { return maps.Clone(t.account) }
func (t *PaymeTransaction) State() PaymeState          { return t.state }
func (t *PaymeTransaction) Reason() *Reason            { return copyReason(t.reason) }
func (t *PaymeTransaction) CreateTime() int64          { return t.createTime }
func (t *PaymeTransaction) PerformTime() int64         { return t.performTime }
func (t *PaymeTransaction) CancelTime() int64          { return t.cancelTime }

// TimedOut tells whether this transaction is created and past its 12 hours
// at now (PaymeLiveSince): it must be cancelled with reason 4.
func (t *PaymeTransaction) TimedOut(now time.Time) bool {
	return t.state == PaymeCreated && t.paymeTime < PaymeLiveSince(now)
}

// IsLive tells whether this transaction is created and within its 12 hours
// at now: the buyer may still be paying, so it holds its order.
func (t *PaymeTransaction) IsLive(now time.Time) bool {
	return t.state == PaymeCreated && t.paymeTime >= PaymeLiveSince(now)
}

func (t *PaymeTransaction) cancelForTimeout(now time.Time) {
	r := ReasonTimeout
	t.state, t.reason, t.cancelTime = PaymeCancelled, &r, now.UnixMilli()
}

// CheckReplayableCreate handles Payme repeating CreateTransaction for a
// transaction we already have. A timed-out one cancels itself here, lazily,
// so the caller must save it even though an error is returned.
func (t *PaymeTransaction) CheckReplayableCreate(now time.Time) error {
	if t.state != PaymeCreated {
		return ErrBadState
	}
	if t.TimedOut(now) {
		t.cancelForTimeout(now)
		return ErrTimedOut
	}
	return nil
}

// Perform completes the payment. changed says whether the caller must save
// (and, without an error, mark the order paid); a repeated Perform of a
// performed transaction is a replay and changes nothing.
func (t *PaymeTransaction) Perform(now time.Time) (changed bool, err error) {
	switch t.state {
	case PaymePerformed:
		return false, nil
	case PaymeCreated:
		if t.TimedOut(now) {
			t.cancelForTimeout(now)
			return true, ErrTimedOut
		}
		t.state, t.performTime = PaymePerformed, now.UnixMilli()
		return true, nil
	}
	return false, ErrBadState
}

// Cancel handles CancelTransaction. Cancelling a performed transaction is a
// refund, allowed only while the goods have not left (orderRefundable).
func (t *PaymeTransaction) Cancel(reason Reason, orderRefundable bool, now time.Time) (changed bool, err error) {
	switch t.state {
	case PaymeCancelled, PaymeCancelledAfterPerform:
		return false, nil
	case PaymeCreated:
		t.state = PaymeCancelled
	case PaymePerformed:
		if !orderRefundable {
			return false, ErrCannotCancel
		}
		t.state = PaymeCancelledAfterPerform
	default:
		return false, ErrBadState
	}
	r := reason
	t.reason, t.cancelTime = &r, now.UnixMilli()
	return true, nil
}

// ClientState maps Payme's numbers onto our API's vocabulary.
func (t *PaymeTransaction) ClientState() ClientState {
	switch t.state {
	case PaymePerformed:
		return ClientCompleted
	case PaymeCancelled:
		return ClientCancelled
	case PaymeCancelledAfterPerform:
		return ClientRefunded
	}
	return ClientPending
}
