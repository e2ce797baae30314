package payment_test

import (
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

var paymeStates = []payment.PaymeState{
	payment.PaymeCreated, payment.PaymePerformed, payment.PaymeCancelled, payment.PaymeCancelledAfterPerform,
}

// Clock points relative to Payme's create time (t0).
var (
	inTime    = t0.Add(time.Hour)
	atTimeout = t0.Add(payment.PaymeTimeout)
	pastLimit = t0.Add(payment.PaymeTimeout + time.Millisecond)
)

func reasonPtr(r payment.Reason) *payment.Reason { return &r }

// paymeIn builds a transaction in state s, created at Payme time t0.
func paymeIn(s payment.PaymeState) *payment.PaymeTransaction {
	var reason *payment.Reason
	var perform, cancel int64
	switch s {
	case payment.PaymePerformed:
		perform = t0.Add(time.Minute).UnixMilli()
	case payment.PaymeCancelled:
		reason, cancel = reasonPtr(payment.ReasonReceiverNotFound), t0.Add(time.Minute).UnixMilli()
	case payment.PaymeCancelledAfterPerform:
		perform = t0.Add(time.Minute).UnixMilli()
		reason, cancel = reasonPtr(payment.ReasonRefund), t0.Add(2*time.Minute).UnixMilli()
	}
	return payment.RestorePaymeTransaction("id", "pm1", "o1", t0.UnixMilli(), money.MustTiyin(500000),
		map[string]string{"order_id": "o1"}, s, reason, t0.UnixMilli(), perform, cancel)
}

type paymeSnap struct {
	state                               payment.PaymeState
	reason                              *payment.Reason
	createTime, performTime, cancelTime int64
}

func snap(tx *payment.PaymeTransaction) paymeSnap {
	return paymeSnap{tx.State(), tx.Reason(), tx.CreateTime(), tx.PerformTime(), tx.CancelTime()}
}

func TestPaymeErrorCategories(t *testing.T) {
	cases := []struct{ err, cat error }{
		{payment.ErrNotFound, domain.ErrNotFound},
		{payment.ErrBadState, domain.ErrConflict},
		{payment.ErrTimedOut, domain.ErrConflict},
		{payment.ErrCannotCancel, domain.ErrConflict},
		{payment.ErrAmountMismatch, domain.ErrValidation},
		{payment.ErrOrderHeld, domain.ErrConflict},
		{payment.ErrClickCancelled, domain.ErrConflict},
		{payment.ErrAlreadyPaid, domain.ErrConflict},
		{payment.ErrInvalidReason, domain.ErrValidation},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			assert.ErrorIs(t, c.err, c.cat, c.err.Error())
		})
	}
	assert.False(t, errors.Is(payment.ErrTimedOut, payment.ErrBadState), "distinct sentinels")
}

func TestParseReason(t *testing.T) {
	valid := map[int]bool{1: true, 2: true, 3: true, 4: true, 5: true, 10: true}
	for n := -2; n <= 12; n++ {
		r, err := payment.ParseReason(n)
		if valid[n] {
			require.NoError(t, err, n)
			assert.Equal(t, payment.Reason(n), r)
		} else {
			assert.ErrorIs(t, err, payment.ErrInvalidReason, n)
		}
	}
	assert.Equal(t, payment.Reason(4), payment.ReasonTimeout)
	assert.Equal(t, payment.Reason(5), payment.ReasonRefund)
	assert.Equal(t, 12*time.Hour, payment.PaymeTimeout)
}

func TestNewPaymeTransaction(t *testing.T) {
	acc := map[string]string{"order_id": "o1"}
	now := t0.Add(1500 * time.Millisecond)
	tx, err := payment.NewPaymeTransaction("id1", "pm1", t0.UnixMilli(), "o1", money.MustTiyin(500000), acc, now)
	require.NoError(t, err)
	assert.Equal(t, "id1", tx.ID())
	assert.Equal(t, "pm1", tx.PaymeID())
	assert.Equal(t, "o1", tx.OrderID())
	assert.Equal(t, t0.UnixMilli(), tx.PaymeTime())
	assert.Equal(t, int64(500000), tx.Amount().Tiyin())
	assert.Equal(t, payment.PaymeCreated, tx.State())
	assert.Nil(t, tx.Reason())
	assert.Equal(t, now.UnixMilli(), tx.CreateTime())
	assert.Zero(t, tx.PerformTime())
	assert.Zero(t, tx.CancelTime())
	assert.Equal(t, payment.ClientPending, tx.ClientState())

	acc["order_id"] = "changed"
	assert.Equal(t, map[string]string{"order_id": "o1"}, tx.Account(), "account copied on the way in")
	got := tx.Account()
	got["x"] = "y"
	assert.Equal(t, map[string]string{"order_id": "o1"}, tx.Account(), "account copied on the way out")

	_, err = payment.NewPaymeTransaction("id", "pm", 0, "o", money.Money{}, nil, now)
	assert.ErrorIs(t, err, payment.ErrAmountMismatch)
}

func TestRestorePaymeReasonIsCopied(t *testing.T) {
	r := payment.ReasonRefund
	tx := payment.RestorePaymeTransaction("id", "pm", "o", 1, money.MustTiyin(1), nil, payment.PaymeCancelledAfterPerform, &r, 1, 2, 3)
	r = payment.ReasonTimeout
	require.NotNil(t, tx.Reason())
	assert.Equal(t, payment.ReasonRefund, *tx.Reason())
	*tx.Reason() = payment.ReasonUnknown
	assert.Equal(t, payment.ReasonRefund, *tx.Reason())
	assert.Equal(t, int64(1), tx.CreateTime())
	assert.Equal(t, int64(2), tx.PerformTime())
	assert.Equal(t, int64(3), tx.CancelTime())
}

func TestTimedOutAndIsLive(t *testing.T) {
	cases := []struct {
		state    payment.PaymeState
		now      time.Time
		timedOut bool
	}{
		{payment.PaymeCreated, inTime, false},
		{payment.PaymeCreated, atTimeout, false},
		{payment.PaymeCreated, pastLimit, true},
		{payment.PaymeCreated, t0.Add(48 * time.Hour), true},
		{payment.PaymePerformed, pastLimit, false},
		{payment.PaymeCancelled, pastLimit, false},
		{payment.PaymeCancelledAfterPerform, pastLimit, false},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d at %s", c.state, c.now.Format(time.RFC3339Nano)), func(t *testing.T) {
			tx := paymeIn(c.state)
			assert.Equal(t, c.timedOut, tx.TimedOut(c.now), "%d at %s", c.state, c.now)
			assert.Equal(t, c.state == payment.PaymeCreated && !c.timedOut, tx.IsLive(c.now), "%d at %s", c.state, c.now)
			assert.Equal(t, c.state, tx.State(), "TimedOut/IsLive never change state")
		})
	}
}

// PaymeLiveSince is the bound the repository queries select live and
// timed-out rows by; a transaction exactly at it is live, one millisecond
// older has timed out, the same answer TimedOut and IsLive give.
func TestPaymeLiveSinceIsTheBoundOfTimedOutAndIsLive(t *testing.T) {
	now := t0.Add(30 * time.Hour)
	since := payment.PaymeLiveSince(now)
	assert.Equal(t, now.Add(-12*time.Hour).UnixMilli(), since)
	at := payment.RestorePaymeTransaction("id", "pm", "o", since, money.MustTiyin(1), nil, payment.PaymeCreated, nil, since, 0, 0)
	assert.True(t, at.IsLive(now))
	assert.False(t, at.TimedOut(now))
	before := payment.RestorePaymeTransaction("id", "pm", "o", since-1, money.MustTiyin(1), nil, payment.PaymeCreated, nil, since, 0, 0)
	assert.False(t, before.IsLive(now))
	assert.True(t, before.TimedOut(now))
}

func TestTimeoutCountsFromPaymeTimeNotOurs(t *testing.T) {
	// Payme's time is an hour before we stored the transaction.
	paymeTime := t0.Add(-time.Hour)
	tx, err := payment.NewPaymeTransaction("id", "pm", paymeTime.UnixMilli(), "o", money.MustTiyin(1), nil, t0)
	require.NoError(t, err)
	assert.False(t, tx.TimedOut(paymeTime.Add(payment.PaymeTimeout)))
	assert.True(t, tx.TimedOut(paymeTime.Add(payment.PaymeTimeout+time.Millisecond)))
}

func TestCheckReplayableCreate(t *testing.T) {
	for _, s := range paymeStates {
		for _, now := range []time.Time{inTime, atTimeout, pastLimit} {
			t.Run(fmt.Sprintf("state %d at %s", s, now.Sub(t0)), func(t *testing.T) {
				tx := paymeIn(s)
				before := snap(tx)
				err := tx.CheckReplayableCreate(now)
				switch {
				case s == payment.PaymeCreated && now.Before(pastLimit):
					require.NoError(t, err)
					assert.Equal(t, before, snap(tx))
				case s == payment.PaymeCreated:
					assert.ErrorIs(t, err, payment.ErrTimedOut)
					assertTimeoutCancelled(t, tx, now)
				default:
					assert.ErrorIs(t, err, payment.ErrBadState)
					assert.Equal(t, before, snap(tx))
				}
			})
		}
	}
}

func assertTimeoutCancelled(t *testing.T, tx *payment.PaymeTransaction, now time.Time) {
	t.Helper()
	assert.Equal(t, payment.PaymeCancelled, tx.State())
	require.NotNil(t, tx.Reason())
	assert.Equal(t, payment.ReasonTimeout, *tx.Reason())
	assert.Equal(t, now.UnixMilli(), tx.CancelTime())
	assert.Zero(t, tx.PerformTime())
	assert.Equal(t, payment.ClientCancelled, tx.ClientState())
	assert.False(t, tx.IsLive(now))
}

func TestPerform(t *testing.T) {
	for _, s := range paymeStates {
		for _, now := range []time.Time{inTime, atTimeout, pastLimit} {
			t.Run(fmt.Sprintf("state %d at %s", s, now.Sub(t0)), func(t *testing.T) {
				tx := paymeIn(s)
				before := snap(tx)
				changed, err := tx.Perform(now)
				switch {
				case s == payment.PaymeCreated && now.Before(pastLimit):
					require.NoError(t, err)
					assert.True(t, changed)
					assert.Equal(t, payment.PaymePerformed, tx.State())
					assert.Equal(t, now.UnixMilli(), tx.PerformTime())
					assert.Zero(t, tx.CancelTime())
					assert.Nil(t, tx.Reason())
					assert.Equal(t, payment.ClientCompleted, tx.ClientState())
				case s == payment.PaymeCreated:
					assert.ErrorIs(t, err, payment.ErrTimedOut)
					assert.True(t, changed, "the self-cancel must be saved")
					assertTimeoutCancelled(t, tx, now)
				case s == payment.PaymePerformed:
					require.NoError(t, err)
					assert.False(t, changed, "replay")
					assert.Equal(t, before, snap(tx), "replay keeps the stored perform time")
				default:
					assert.ErrorIs(t, err, payment.ErrBadState)
					assert.False(t, changed)
					assert.Equal(t, before, snap(tx))
				}
			})
		}
	}
}

func TestPerformTwiceIsReplay(t *testing.T) {
	tx := paymeIn(payment.PaymeCreated)
	changed, err := tx.Perform(inTime)
	require.NoError(t, err)
	require.True(t, changed)
	changed, err = tx.Perform(inTime.Add(time.Hour))
	require.NoError(t, err)
	assert.False(t, changed)
	assert.Equal(t, inTime.UnixMilli(), tx.PerformTime())
}

func TestPaymeCancel(t *testing.T) {
	cancelAt := t0.Add(3 * time.Hour)
	for _, s := range paymeStates {
		for _, refundable := range []bool{true, false} {
			for _, now := range []time.Time{cancelAt, pastLimit} {
				t.Run(fmt.Sprintf("state %d refundable=%v at %s", s, refundable, now.Sub(t0)), func(t *testing.T) {
					tx := paymeIn(s)
					before := snap(tx)
					changed, err := tx.Cancel(payment.ReasonTransactionFailed, refundable, now)
					switch {
					case s == payment.PaymeCreated:
						// Payme may cancel a timed-out transaction itself; its reason is kept.
						require.NoError(t, err)
						assert.True(t, changed)
						assert.Equal(t, payment.PaymeCancelled, tx.State())
						assert.Equal(t, payment.ClientCancelled, tx.ClientState())
						require.NotNil(t, tx.Reason())
						assert.Equal(t, payment.ReasonTransactionFailed, *tx.Reason())
						assert.Equal(t, now.UnixMilli(), tx.CancelTime())
						assert.Zero(t, tx.PerformTime())
					case s == payment.PaymePerformed && refundable:
						require.NoError(t, err)
						assert.True(t, changed)
						assert.Equal(t, payment.PaymeCancelledAfterPerform, tx.State())
						assert.Equal(t, payment.ClientRefunded, tx.ClientState())
						require.NotNil(t, tx.Reason())
						assert.Equal(t, payment.ReasonTransactionFailed, *tx.Reason())
						assert.Equal(t, now.UnixMilli(), tx.CancelTime())
						assert.Equal(t, before.performTime, tx.PerformTime())
					case s == payment.PaymePerformed:
						assert.ErrorIs(t, err, payment.ErrCannotCancel)
						assert.False(t, changed)
						assert.Equal(t, before, snap(tx))
					default:
						require.NoError(t, err, "replay of a cancel")
						assert.False(t, changed)
						assert.Equal(t, before, snap(tx), "replay keeps the stored reason and time")
					}
				})
			}
		}
	}
}

func TestPaymeClientState(t *testing.T) {
	want := map[payment.PaymeState]payment.ClientState{
		payment.PaymeCreated:               payment.ClientPending,
		payment.PaymePerformed:             payment.ClientCompleted,
		payment.PaymeCancelled:             payment.ClientCancelled,
		payment.PaymeCancelledAfterPerform: payment.ClientRefunded,
	}
	for s, cs := range want {
		t.Run(fmt.Sprintf("state %d", s), func(t *testing.T) {
			assert.Equal(t, cs, paymeIn(s).ClientState(), "state %d", s)
		})
	}
	assert.Equal(t, payment.ClientState("pending"), payment.ClientPending)
	assert.Equal(t, payment.ClientState("completed"), payment.ClientCompleted)
	assert.Equal(t, payment.ClientState("cancelled"), payment.ClientCancelled)
	assert.Equal(t, payment.ClientState("refunded"), payment.ClientRefunded)
}

func TestPaymeStateNumbers(t *testing.T) {
	assert.Equal(t, payment.PaymeState(1), payment.PaymeCreated)
	assert.Equal(t, payment.PaymeState(2), payment.PaymePerformed)
	assert.Equal(t, payment.PaymeState(-1), payment.PaymeCancelled)
	assert.Equal(t, payment.PaymeState(-2), payment.PaymeCancelledAfterPerform)
}
