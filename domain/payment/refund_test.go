package payment_test

import (
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
)

func TestNewRefundChecksTheReason(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	for _, reason := range []string{"", "   ", strings.Repeat("я", 501)} {
		_, err := payment.NewRefund("r", "o", payment.ProviderClick, payment.RefundReversed, reason, "a", now)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr)
		assert.Equal(t, "reason", verr.Fields[0].Field)
	}
	r, err := payment.NewRefund("r", "o", payment.ProviderPayme, payment.RefundAuthorized, "  "+strings.Repeat("я", 500)+" ", "a", now)
	require.NoError(t, err)
	assert.Equal(t, strings.Repeat("я", 500), r.Reason(), "trimmed, counted in characters")
	assert.Equal(t, now, r.CreatedAt())
}

func TestRefundRefusedErrorIsARefusal(t *testing.T) {
	err := &payment.RefundRefusedError{OrderID: "o", Note: "too late"}
	assert.ErrorIs(t, err, payment.ErrRefundRefused)
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.ErrorIs(t, payment.ErrGatewayUnavailable, domain.ErrUpstreamUnavailable)
}

func TestClickReverse(t *testing.T) {
	now := time.Date(2026, 5, 1, 10, 0, 0, 0, time.UTC)
	attempt := func(state payment.ClickState) *payment.ClickTransaction {
		var confirmed, cancelled time.Time
		if state == payment.ClickConfirmed || state == payment.ClickCancelledAfterConfirm {
			confirmed = now.Add(-time.Hour)
		}
		if state < 0 {
			cancelled = now.Add(-time.Minute)
		}
		return payment.RestoreClickTransaction("id", 1, 2, 3, 4, "o", money.MustTiyin(100), "1", state, nil,
			now.Add(-2*time.Hour), confirmed, cancelled)
	}
	t.Run("confirmed", func(t *testing.T) {
		c := attempt(payment.ClickConfirmed)
		changed, err := c.Reverse(now)
		require.NoError(t, err)
		assert.True(t, changed)
		assert.Equal(t, payment.ClientRefunded, c.ClientState())
		assert.Nil(t, c.ClickError(), "Click sent no error: cancel_reason null")
		assert.Equal(t, now, c.CancelledAt())
	})
	t.Run("reversed already", func(t *testing.T) {
		changed, err := attempt(payment.ClickCancelledAfterConfirm).Reverse(now)
		require.NoError(t, err)
		assert.False(t, changed)
	})
	for _, s := range []payment.ClickState{payment.ClickPrepared, payment.ClickCancelled} {
		_, err := attempt(s).Reverse(now)
		assert.ErrorIs(t, err, payment.ErrBadState)
	}
}
