package e2e

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// TestExpiry_GoesOnPastOrdersPaymeHolds: the oldest overdue orders, a whole
// batch of the expiry job, are held by live Payme transactions (buyers in
// the middle of paying). A younger overdue order behind them must still be
// cancelled within a sweep or two, and its stock come back, rather than
// wait hours for Payme's 12-hour timeout to free the batch in front.
func TestExpiry_GoesOnPastOrdersPaymeHolds(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) {
		c.OrderPaymentTTL = 1500 * time.Millisecond
		c.ExpirySweepInterval = 100 * time.Millisecond
		c.PaymeMerchantID, c.PaymeKey = payPaymeMerchant, payPaymeKey
	})
	holder := g.newAccount(t, roleCustomer)
	buyer := g.newAccount(t, roleCustomer)

	// One full batch of old pending orders, each with a live (state 1,
	// created just now by Payme's clock) Payme transaction.
	held := orders.DefaultExpiryBatch
	_, err := g.DB.Exec(`WITH o AS (
			INSERT INTO orders (id, user_id, total, shipping_region, shipping_city, shipping_street, shipping_phone, created_at, updated_at)
			SELECT gen_random_uuid(), $1, 1000, 'Toshkent', 'Toshkent', 'Amir Temur 1', '+998901234567',
				now() - interval '2 hours' + n * interval '1 second', now() - interval '2 hours'
			FROM generate_series(1, $2::int) AS n
			RETURNING id),
		i AS (
			INSERT INTO order_items (order_id, product_id, position, name, unit_price, quantity, line_total, vat_amount)
			SELECT id, gen_random_uuid(), 0, 'Held', 1000, 1, 1000, 107 FROM o)
		INSERT INTO payme_transactions (payme_id, payme_time, order_id, amount, create_time)
		SELECT 'held-' || id, (extract(epoch FROM now()) * 1000)::bigint, id, 1000, (extract(epoch FROM now()) * 1000)::bigint
		FROM o`, holder.ID, held)
	require.NoError(t, err)

	// A younger order, placed through the API, holding one unit of stock.
	young := g.clickTestOrder(t, buyer, clickDefaultTotal)
	require.EqualValues(t, 9, g.clickProductStock(t, young))

	require.Eventually(t, func() bool { return g.clickOrderStatus(t, young) == "cancelled" },
		15*time.Second, 50*time.Millisecond, "the younger overdue order expires behind the held batch")
	require.Eventually(t, func() bool { return g.clickProductStock(t, young) == 10 },
		5*time.Second, 50*time.Millisecond, "and its stock comes back")
	var pending int
	require.NoError(t, g.DB.Get(&pending, `SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'pending_payment'`, holder.ID))
	assert.Equal(t, held, pending, "orders a live Payme transaction holds do not expire")
}
