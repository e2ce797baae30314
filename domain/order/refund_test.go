package order_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/order"
)

func TestAuthorizeRefundFromEveryStatus(t *testing.T) {
	for _, s := range allStatuses {
		t.Run(string(s), func(t *testing.T) {
			o := inStatus(s)
			changed, err := o.AuthorizeRefund(t1)
			switch s {
			case order.StatusPaid, order.StatusShipped, order.StatusDelivered:
				require.NoError(t, err)
				assert.True(t, changed)
				assert.Equal(t, t1, o.RefundAuthorizedAt())
				assert.Equal(t, t1, o.UpdatedAt())

				again, err := o.AuthorizeRefund(t1.Add(time.Hour))
				require.NoError(t, err)
				assert.False(t, again, "a second authorization changes nothing")
				assert.Equal(t, t1, o.RefundAuthorizedAt(), "the first time stands")
			default:
				assert.ErrorIs(t, err, order.ErrNotRefundable)
				assert.False(t, changed)
				assert.True(t, o.RefundAuthorizedAt().IsZero())
			}
		})
	}
}

func TestRefundAfterShippingNeedsAnAuthorization(t *testing.T) {
	for _, s := range []order.Status{order.StatusShipped, order.StatusDelivered} {
		t.Run(string(s), func(t *testing.T) {
			o := inStatus(s)
			require.ErrorIs(t, o.Refund(t1), order.ErrCannotRefund)
			assert.Equal(t, s, o.Status())

			_, err := o.AuthorizeRefund(t1)
			require.NoError(t, err)
			require.NoError(t, o.Refund(t1.Add(time.Minute)))
			assert.Equal(t, order.StatusRefunded, o.Status())
			assert.Equal(t, t1.Add(time.Minute), o.RefundedAt())
			assert.ErrorIs(t, o.CheckRefundable(), order.ErrNotRefundable, "refunded once")
		})
	}
}

func TestRestoreRefundAuthorization(t *testing.T) {
	o := inStatus(order.StatusDelivered).RestoreRefundAuthorization(t1)
	assert.Equal(t, t1, o.RefundAuthorizedAt())
	require.NoError(t, o.Refund(t1))
}
