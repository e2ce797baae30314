package e2e

import (
	"encoding/json"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// reservations is how many reservations the upstream catalog was asked for
// (0 on the built-in catalog, whose stock the tests read instead).
func (s *shop) reservations() int {
	if s.upstream == nil {
		return 0
	}
	return s.upstream.Calls("POST /reservations")
}

// pendingOf counts the user's pending_payment orders in the database.
func (s *shop) pendingOf(t *testing.T, userID string) int {
	t.Helper()
	var n int
	require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM orders WHERE user_id = $1 AND status = 'pending_payment'`, userID))
	return n
}

// API.md: a user may hold at most ORDER_MAX_UNPAID (default 5) orders in
// pending_payment; one more is 409 too_many_unpaid_orders and the stock is
// not touched.
func TestOrders_UnpaidLimit(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 100)
		var placed []string
		for range 5 {
			placed = append(placed, s.mustOrder(t, s.customer.Access, item(id, 2))["id"].(string))
		}
		assert.EqualValues(t, 90, s.stockOf(t, id))
		reserved := s.reservations()

		// The sixth: refused, with or without a key, from items or from the cart.
		expectProblem(t, s.placeOrder(t, s.customer.Access, orderOf(item(id, 2)), ""), http.StatusConflict, "too_many_unpaid_orders")
		expectProblem(t, s.placeOrder(t, s.customer.Access, orderOf(item(id, 2)), "sixth"), http.StatusConflict, "too_many_unpaid_orders")
		expectJSON(t, s.putCart(t, s.customer.Access, id, 3), http.StatusOK)
		expectProblem(t, s.placeOrder(t, s.customer.Access, orderOf(), ""), http.StatusConflict, "too_many_unpaid_orders")
		assert.Len(t, s.cart(t, s.customer.Access)["items"], 1, "the cart is kept")

		assert.EqualValues(t, 90, s.stockOf(t, id), "stock unchanged")
		assert.Equal(t, reserved, s.reservations(), "nothing was reserved upstream")
		assert.Equal(t, 5, s.pendingOf(t, s.customer.ID))

		// Per user: others still buy.
		s.mustOrder(t, s.seller.Access, item(id, 1))

		// Paying or cancelling one frees a slot; the key of the refused
		// request works once there is room.
		s.markPaid(t, placed[0], time.Now())
		r := s.placeOrder(t, s.customer.Access, orderOf(item(id, 2)), "sixth")
		expectJSON(t, r, http.StatusCreated)
		expectProblem(t, s.placeOrder(t, s.customer.Access, orderOf(item(id, 1)), ""), http.StatusConflict, "too_many_unpaid_orders")
		expectJSON(t, s.post(t, "/api/orders/"+placed[1]+"/cancel", s.customer.Access, nil), http.StatusOK)
		s.mustOrder(t, s.customer.Access) // from the cart
		assert.Equal(t, 5, s.pendingOf(t, s.customer.ID))

		// A replay of a completed key is no new order: it is answered at the limit too.
		again := s.placeOrder(t, s.customer.Access, orderOf(item(id, 2)), "sixth")
		expectJSON(t, again, http.StatusCreated)
		assert.Equal(t, asMap(t, r)["id"], asMap(t, again)["id"])
	})
}

func TestOrders_UnpaidLimitIsConfigurable(t *testing.T) {
	t.Parallel()
	g := newShop(t, builtinCatalog, func(c *config.Config) { c.OrderMaxUnpaid = 1 })
	id := g.newProduct(t, 1_000, 10)
	g.mustOrder(t, g.customer.Access, item(id, 1))
	expectProblem(t, g.placeOrder(t, g.customer.Access, orderOf(item(id, 1)), ""), http.StatusConflict, "too_many_unpaid_orders")
	assert.EqualValues(t, 9, g.stockOf(t, id))
}

// Two (here eight) placements racing for the last slot: exactly one wins,
// the others are refused before anything is reserved. The count is decided
// in Postgres, so this holds across instances as well.
func TestOrders_UnpaidLimitUnderConcurrency(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		const racers = 8
		id := s.newProduct(t, 1_000, 100)
		for range 4 {
			s.mustOrder(t, s.customer.Access, item(id, 1))
		}
		reserved := s.reservations()

		statuses := make([]int, racers)
		codes := make([]string, racers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range racers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := rawSend(s.BaseURL, req{Method: http.MethodPost, Path: "/api/orders", Token: s.customer.Access,
					Body: orderOf(item(id, 1))})
				if err != nil {
					return
				}
				statuses[i] = r.Status
				var p problem
				if r.Status != http.StatusCreated && json.Unmarshal(r.Body, &p) == nil {
					codes[i] = p.Code
				}
			}()
		}
		close(start)
		wg.Wait()

		created := 0
		for i, st := range statuses {
			switch st {
			case http.StatusCreated:
				created++
			case http.StatusConflict:
				assert.Equal(t, "too_many_unpaid_orders", codes[i])
			default:
				t.Errorf("racer %d got %d", i, st)
			}
		}
		assert.Equal(t, 1, created, "one slot was left")
		assert.Equal(t, 5, s.pendingOf(t, s.customer.ID))
		assert.EqualValues(t, 95, s.stockOf(t, id), "only the orders hold stock")
		if s.upstream != nil {
			assert.Equal(t, reserved+1, s.reservations(), "the refused ones reserved nothing")
		}
		var placements int
		require.NoError(t, s.DB.Get(&placements, `SELECT count(*) FROM order_placements`))
		assert.Zero(t, placements, "every slot was given back or became an order")
	})
}
