package payment_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
)

var clickStates = []payment.ClickState{
	payment.ClickPrepared, payment.ClickConfirmed, payment.ClickCancelled, payment.ClickCancelledAfterConfirm,
}

func intPtr(n int) *int { return &n }

func clickIn(s payment.ClickState) *payment.ClickTransaction {
	var confirmed, cancelled time.Time
	var clickErr *int
	switch s {
	case payment.ClickConfirmed:
		confirmed = t0.Add(time.Minute)
	case payment.ClickCancelled:
		cancelled, clickErr = t0.Add(time.Minute), intPtr(-5017)
	case payment.ClickCancelledAfterConfirm:
		confirmed, cancelled, clickErr = t0.Add(time.Minute), t0.Add(2*time.Minute), intPtr(-5017)
	}
	return payment.RestoreClickTransaction("c4ca4238-a0b9-4382-8dcc-509a6f75849b", 7, 111, 222, 333, "o1", money.MustTiyin(5000000), "50000.00", s, clickErr, t0, confirmed, cancelled)
}

type clickSnap struct {
	state                                payment.ClickState
	clickErr                             *int
	preparedAt, confirmedAt, cancelledAt time.Time
}

func csnap(tx *payment.ClickTransaction) clickSnap {
	return clickSnap{tx.State(), tx.ClickError(), tx.PreparedAt(), tx.ConfirmedAt(), tx.CancelledAt()}
}

func TestNewClickTransaction(t *testing.T) {
	tx, err := payment.NewClickTransaction("c4ca4238-a0b9-4382-8dcc-509a6f75849b", 111, 222, 333, "o1", money.MustTiyin(5000000), "50000", t0)
	require.NoError(t, err)
	assert.Equal(t, "c4ca4238-a0b9-4382-8dcc-509a6f75849b", tx.ID(), "ours, a UUID")
	assert.Zero(t, tx.PrepareID(), "assigned by the database")
	assert.Equal(t, int64(111), tx.ClickTransID())
	assert.Equal(t, int64(222), tx.ClickPaydocID())
	assert.Equal(t, int64(333), tx.ServiceID())
	assert.Equal(t, "o1", tx.OrderID())
	assert.Equal(t, int64(5000000), tx.Amount().Tiyin())
	assert.Equal(t, "50000", tx.AmountRaw(), "raw string kept for the signature")
	assert.Equal(t, payment.ClickPrepared, tx.State())
	assert.Nil(t, tx.ClickError())
	assert.Equal(t, t0, tx.PreparedAt())
	assert.True(t, tx.ConfirmedAt().IsZero())
	assert.True(t, tx.CancelledAt().IsZero())
	assert.Equal(t, payment.ClientPending, tx.ClientState())

	tx.SetPrepareID(42)
	assert.Equal(t, int64(42), tx.PrepareID())

	_, err = payment.NewClickTransaction("c4ca4238-a0b9-4382-8dcc-509a6f75849b", 1, 2, 3, "o", money.Money{}, "0", t0)
	assert.ErrorIs(t, err, payment.ErrAmountMismatch)
}

func TestRestoreClickCopiesError(t *testing.T) {
	e := -9
	tx := payment.RestoreClickTransaction("c4ca4238-a0b9-4382-8dcc-509a6f75849b", 1, 2, 3, 4, "o", money.MustTiyin(1), "0.01", payment.ClickCancelled, &e, t0, time.Time{}, t0)
	e = 0
	require.NotNil(t, tx.ClickError())
	assert.Equal(t, -9, *tx.ClickError())
	*tx.ClickError() = 5
	assert.Equal(t, -9, *tx.ClickError())
	assert.Equal(t, int64(1), tx.PrepareID())
}

func TestClickConfirm(t *testing.T) {
	now := t0.Add(time.Hour)
	want := map[payment.ClickState]error{
		payment.ClickPrepared:              nil,
		payment.ClickConfirmed:             payment.ErrAlreadyPaid,
		payment.ClickCancelled:             payment.ErrClickCancelled,
		payment.ClickCancelledAfterConfirm: payment.ErrClickCancelled,
	}
	for _, s := range clickStates {
		t.Run(fmt.Sprintf("state %d", s), func(t *testing.T) {
			tx := clickIn(s)
			before := csnap(tx)
			err := tx.Confirm(now)
			if want[s] == nil {
				require.NoError(t, err)
				assert.Equal(t, payment.ClickConfirmed, tx.State())
				assert.Equal(t, now, tx.ConfirmedAt())
				assert.Equal(t, payment.ClientCompleted, tx.ClientState())
				return
			}
			assert.ErrorIs(t, err, want[s])
			assert.Equal(t, before, csnap(tx))
		})
	}
}

func TestClickCancel(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, s := range clickStates {
		t.Run(fmt.Sprintf("state %d", s), func(t *testing.T) {
			tx := clickIn(s)
			before := csnap(tx)
			wasConfirmed, err := tx.Cancel(-9, now)
			require.NoError(t, err)
			switch s {
			case payment.ClickPrepared:
				assert.False(t, wasConfirmed)
				assert.Equal(t, payment.ClickCancelled, tx.State())
				assert.Equal(t, payment.ClientCancelled, tx.ClientState())
				assert.True(t, tx.ConfirmedAt().IsZero())
			case payment.ClickConfirmed:
				assert.True(t, wasConfirmed)
				assert.Equal(t, payment.ClickCancelledAfterConfirm, tx.State())
				assert.Equal(t, payment.ClientRefunded, tx.ClientState())
				assert.Equal(t, before.confirmedAt, tx.ConfirmedAt())
			default:
				assert.False(t, wasConfirmed)
				assert.Equal(t, before, csnap(tx), "already cancelled: no change")
				return
			}
			require.NotNil(t, tx.ClickError())
			assert.Equal(t, -9, *tx.ClickError())
			assert.Equal(t, now, tx.CancelledAt())
		})
	}
}

func TestClickAbandon(t *testing.T) {
	now := t0.Add(time.Hour)
	for _, s := range clickStates {
		t.Run(fmt.Sprintf("state %d", s), func(t *testing.T) {
			tx := clickIn(s)
			before := csnap(tx)
			changed := tx.Abandon(now)
			if s != payment.ClickPrepared {
				assert.False(t, changed)
				assert.Equal(t, before, csnap(tx), "only a prepared attempt is abandoned")
				return
			}
			assert.True(t, changed)
			assert.Equal(t, payment.ClickCancelled, tx.State())
			assert.Equal(t, payment.ClientCancelled, tx.ClientState())
			assert.Nil(t, tx.ClickError(), "Click sent no error: we ended it")
			assert.Equal(t, now, tx.CancelledAt())
			assert.True(t, tx.ConfirmedAt().IsZero())
			assert.ErrorIs(t, tx.Confirm(now), payment.ErrClickCancelled, "a later Complete is refused")
			assert.False(t, tx.Abandon(now.Add(time.Minute)), "once")
		})
	}
}

func TestClickConfirmAfterCancelIsMinus9(t *testing.T) {
	tx := clickIn(payment.ClickPrepared)
	_, err := tx.Cancel(-9, t0)
	require.NoError(t, err)
	assert.ErrorIs(t, tx.Confirm(t0.Add(time.Second)), payment.ErrClickCancelled)
}

func TestClickClientState(t *testing.T) {
	want := map[payment.ClickState]payment.ClientState{
		payment.ClickPrepared:              payment.ClientPending,
		payment.ClickConfirmed:             payment.ClientCompleted,
		payment.ClickCancelled:             payment.ClientCancelled,
		payment.ClickCancelledAfterConfirm: payment.ClientRefunded,
	}
	for s, cs := range want {
		t.Run(fmt.Sprintf("state %d", s), func(t *testing.T) {
			assert.Equal(t, cs, clickIn(s).ClientState(), "state %d", s)
		})
	}
	assert.Equal(t, payment.ClickState(1), payment.ClickPrepared)
	assert.Equal(t, payment.ClickState(2), payment.ClickConfirmed)
	assert.Equal(t, payment.ClickState(-1), payment.ClickCancelled)
	assert.Equal(t, payment.ClickState(-2), payment.ClickCancelledAfterConfirm)
}
