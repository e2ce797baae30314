package e2e

import (
	"encoding/json"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func TestOrders_PlacePricedByTheCatalogAndReservesStock(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		plate, cup := s.newProduct(t, 150_000, 5), s.newProduct(t, 20_000, 10)

		body := orderOf(item(plate, 2), item(cup, 3))
		body["note"] = "  Call before delivery  "
		r := s.placeOrder(t, s.customer.Access, body, "")
		expectJSON(t, r, http.StatusCreated)
		o := asMap(t, r)
		assertOrderShape(t, o)
		id := o["id"].(string)
		assert.Equal(t, "/api/orders/"+id, r.Header.Get("Location"))
		assert.Equal(t, s.customer.ID, o["user_id"])
		assert.Equal(t, "pending_payment", o["status"])
		assert.EqualValues(t, 2*150_000+3*20_000, num(t, o["total"]))
		assert.Equal(t, "Call before delivery", o["note"])
		assert.Nil(t, o["paid_at"])
		assert.Nil(t, o["cancelled_at"])
		assert.Equal(t, address(), o["shipping_address"])
		lines := o["items"].([]any)
		require.Len(t, lines, 2)
		first := lines[0].(map[string]any)
		assert.Equal(t, plate, first["product_id"])
		assert.EqualValues(t, 150_000, num(t, first["unit_price"]), "the catalog's price")
		assert.Equal(t, s.product(t, plate)["name"], first["name"])

		// Stock is reserved at once.
		assert.EqualValues(t, 3, s.stockOf(t, plate))
		assert.EqualValues(t, 7, s.stockOf(t, cup))

		// The owner and admins see it; anyone else is told it does not exist.
		assert.Equal(t, o, s.order(t, s.customer.Access, id))
		asAdmin := s.order(t, s.admin.Access, id)
		assert.Equal(t, []any{}, asAdmin["refunds"], "admins also see the refund audit, empty so far")
		delete(asAdmin, "refunds")
		assert.Equal(t, o, asAdmin)
		expectProblem(t, s.get(t, "/api/orders/"+id, s.seller.Access), http.StatusNotFound, "not_found")
		expectProblem(t, s.get(t, "/api/orders/"+id, ""), http.StatusUnauthorized, "unauthorized")
		expectProblem(t, s.get(t, "/api/orders/"+uuid.NewString(), s.customer.Access), http.StatusNotFound, "not_found")
		expectProblem(t, s.get(t, "/api/orders/12", s.admin.Access), http.StatusNotFound, "not_found")

		// A later price change does not touch the order.
		p := s.product(t, plate)
		p["price"] = 999_999
		delete(p, "id")
		for _, k := range []string{"currency", "seller_id", "created_at", "updated_at"} {
			delete(p, k)
		}
		expectJSON(t, s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + plate, Token: s.seller.Access, Body: p}), http.StatusOK)
		assert.EqualValues(t, 2*150_000+3*20_000, num(t, s.order(t, s.customer.Access, id)["total"]))

		// Any role may buy.
		s.mustOrder(t, s.seller.Access, item(cup, 1))
	})
}

func TestOrders_FromTheCartEmptiesIt(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		a, b := s.newProduct(t, 1_000, 5), s.newProduct(t, 2_500, 5)
		expectJSON(t, s.putCart(t, s.customer.Access, a, 2), http.StatusOK)
		expectJSON(t, s.putCart(t, s.customer.Access, b, 1), http.StatusOK)

		o := s.mustOrder(t, s.customer.Access) // no items: the cart
		assert.EqualValues(t, 2*1_000+2_500, num(t, o["total"]))
		lines := o["items"].([]any)
		require.Len(t, lines, 2)
		assert.Equal(t, a, lines[0].(map[string]any)["product_id"], "the cart's order")
		assert.Empty(t, s.cart(t, s.customer.Access)["items"], "the cart was emptied")
		assert.EqualValues(t, 3, s.stockOf(t, a))

		// An empty cart cannot be ordered; items: [] neither.
		expectValidation(t, s.placeOrder(t, s.customer.Access, orderOf(), ""), "items")
		body := orderOf()
		body["items"] = []any{}
		expectValidation(t, s.placeOrder(t, s.customer.Access, body, ""), "items")

		// An order with items leaves the cart alone.
		expectJSON(t, s.putCart(t, s.customer.Access, a, 1), http.StatusOK)
		s.mustOrder(t, s.customer.Access, item(b, 1))
		assert.Len(t, s.cart(t, s.customer.Access)["items"], 1)

		// A cart with a line over the stock is refused as a whole, and kept.
		expectJSON(t, s.putCart(t, s.customer.Access, b, 50), http.StatusOK)
		expectProblem(t, s.placeOrder(t, s.customer.Access, orderOf(), ""), http.StatusConflict, "insufficient_stock")
		assert.Len(t, s.cart(t, s.customer.Access)["items"], 2)
	})
}

func TestOrders_Refusals(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 2)
		hidden := productBody(1_000, 5)
		hidden["active"] = false
		inactive := s.createProduct(t, s.seller.Access, hidden)["id"].(string)
		buyer := s.customer.Access

		expectValidation(t, s.placeOrder(t, buyer, orderOf(item(uuid.NewString(), 1)), ""), "items[0].product_id")
		expectValidation(t, s.placeOrder(t, buyer, orderOf(item(id, 1), item(inactive, 1)), ""), "items[1].product_id")
		expectValidation(t, s.placeOrder(t, buyer, orderOf(item("not-a-uuid", 1)), ""), "items[0].product_id")
		expectValidation(t, s.placeOrder(t, buyer, orderOf(item(id, 0)), ""), "items[0].quantity")
		expectValidation(t, s.placeOrder(t, buyer, orderOf(item(id, 101)), ""), "items[0].quantity")
		expectProblem(t, s.placeOrder(t, buyer, orderOf(item(id, 3)), ""), http.StatusConflict, "insufficient_stock")
		// Two lines of one product add up.
		expectProblem(t, s.placeOrder(t, buyer, orderOf(item(id, 2), item(id, 1)), ""), http.StatusConflict, "insufficient_stock")

		// Prices never come from the client.
		withPrice := orderOf(map[string]any{"product_id": id, "quantity": 1, "unit_price": 1})
		expectValidation(t, s.placeOrder(t, buyer, withPrice, ""), "items[0].unit_price")
		withTotal := orderOf(item(id, 1))
		withTotal["total"] = 1
		expectValidation(t, s.placeOrder(t, buyer, withTotal, ""), "total")

		// shipping_address: every field, the phone format, nothing else.
		noAddress := map[string]any{"items": []any{item(id, 1)}}
		expectValidation(t, s.placeOrder(t, buyer, noAddress, ""),
			"shipping_address.region", "shipping_address.city", "shipping_address.street", "shipping_address.phone")
		for field, value := range map[string]any{
			"phone": "+99890123456", "region": "", "city": strings.Repeat("c", 101), "street": strings.Repeat("s", 201),
		} {
			t.Run("shipping_address."+field, func(t *testing.T) {
				body := orderOf(item(id, 1))
				addr := address()
				addr[field] = value
				body["shipping_address"] = addr
				expectValidation(t, s.placeOrder(t, buyer, body, ""), "shipping_address."+field)
			})
		}
		extra := orderOf(item(id, 1))
		addr := address()
		addr["zip"] = "100000"
		extra["shipping_address"] = addr
		expectValidation(t, s.placeOrder(t, buyer, extra, ""), "shipping_address.zip")
		long := orderOf(item(id, 1))
		long["note"] = strings.Repeat("n", 1001)
		expectValidation(t, s.placeOrder(t, buyer, long, ""), "note")
		expectProblem(t, s.placeOrder(t, buyer, rawJSON(`{"items": [`), ""), http.StatusBadRequest, "bad_request")
		expectProblem(t, s.placeOrder(t, "", orderOf(item(id, 1)), ""), http.StatusUnauthorized, "unauthorized")

		// Nothing was reserved by any of them.
		assert.EqualValues(t, 2, s.stockOf(t, id))
		var n int
		require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM orders`))
		assert.Zero(t, n)
	})
}

func TestOrders_CancelGivesTheStockBack(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 5)
		o := s.mustOrder(t, s.customer.Access, item(id, 3))
		orderID := o["id"].(string)
		assert.EqualValues(t, 2, s.stockOf(t, id))

		// Not the owner, not an admin: the order does not exist for them.
		r := s.post(t, "/api/orders/"+orderID+"/cancel", s.seller.Access, nil)
		expectProblem(t, r, http.StatusNotFound, "not_found")
		expectProblem(t, s.post(t, "/api/orders/nope/cancel", s.customer.Access, nil), http.StatusNotFound, "not_found")

		r = s.post(t, "/api/orders/"+orderID+"/cancel", s.customer.Access, nil)
		expectJSON(t, r, http.StatusOK)
		cancelled := asMap(t, r)
		assertOrderShape(t, cancelled)
		assert.Equal(t, "cancelled", cancelled["status"])
		assertUTCTime(t, cancelled["cancelled_at"].(string), "cancelled_at")
		assert.Nil(t, cancelled["paid_at"])
		assert.EqualValues(t, 5, s.stockOf(t, id), "the reservation was given back")

		// Only while pending_payment.
		expectProblem(t, s.post(t, "/api/orders/"+orderID+"/cancel", s.customer.Access, map[string]any{}), http.StatusConflict, "conflict")
		assert.EqualValues(t, 5, s.stockOf(t, id), "given back once")

		// An admin cancels anyone's pending order.
		other := s.mustOrder(t, s.customer.Access, item(id, 1))
		r = s.post(t, "/api/orders/"+other["id"].(string)+"/cancel", s.admin.Access, nil)
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, "cancelled", asMap(t, r)["status"])

		// A paid order cannot be cancelled, by anyone.
		paid := s.mustOrder(t, s.customer.Access, item(id, 1))
		s.markPaid(t, paid["id"].(string), time.Now())
		for _, token := range []string{s.customer.Access, s.admin.Access} {
			r = s.post(t, "/api/orders/"+paid["id"].(string)+"/cancel", token, nil)
			expectProblem(t, r, http.StatusConflict, "conflict")
		}
		assert.EqualValues(t, 4, s.stockOf(t, id))
	})
}

func TestOrders_StatusMachine(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 10)
		pending := s.mustOrder(t, s.customer.Access, item(id, 1))["id"].(string)
		paid := s.mustOrder(t, s.customer.Access, item(id, 1))["id"].(string)
		s.markPaid(t, paid, time.Now())
		superAdmin := s.newAccount(t, roleSuperAdmin)

		// Only admins move orders; others are refused before anything is looked at.
		for _, token := range []string{s.customer.Access, s.seller.Access} {
			expectProblem(t, s.patchStatus(t, token, paid, "shipped"), http.StatusForbidden, "forbidden")
		}
		expectValidation(t, s.patchStatus(t, s.admin.Access, paid, "lost"), "status")
		expectValidation(t, s.patchStatus(t, s.admin.Access, paid, ""), "status")
		expectProblem(t, s.patchStatus(t, s.admin.Access, uuid.NewString(), "shipped"), http.StatusNotFound, "not_found")
		expectProblem(t, s.patchStatus(t, s.admin.Access, "12", "shipped"), http.StatusNotFound, "not_found")

		// pending_payment: nothing the admin can set (cancel is POST /cancel).
		for _, target := range []string{"paid", "shipped", "delivered", "cancelled", "refunded", "pending_payment"} {
			expectProblem(t, s.patchStatus(t, s.admin.Access, pending, target), http.StatusConflict, "conflict")
		}
		// paid → shipped → delivered, and nothing else.
		for _, target := range []string{"paid", "delivered", "cancelled", "refunded", "pending_payment"} {
			expectProblem(t, s.patchStatus(t, s.admin.Access, paid, target), http.StatusConflict, "conflict")
		}
		r := s.patchStatus(t, s.admin.Access, paid, "shipped")
		expectJSON(t, r, http.StatusOK)
		o := asMap(t, r)
		assertOrderShape(t, o)
		assert.Equal(t, "shipped", o["status"])
		for _, target := range []string{"paid", "shipped", "cancelled", "refunded", "pending_payment"} {
			expectProblem(t, s.patchStatus(t, s.admin.Access, paid, target), http.StatusConflict, "conflict")
		}
		r = s.patchStatus(t, superAdmin.Access, paid, "delivered")
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, "delivered", asMap(t, r)["status"])
		for _, target := range []string{"paid", "shipped", "delivered", "cancelled", "refunded", "pending_payment"} {
			expectProblem(t, s.patchStatus(t, s.admin.Access, paid, target), http.StatusConflict, "conflict")
		}
		assert.Equal(t, "delivered", s.order(t, s.customer.Access, paid)["status"])
		assert.Equal(t, "pending_payment", s.order(t, s.customer.Access, pending)["status"])
	})
}

func TestOrders_List(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 50)
		other := s.newAccount(t, roleCustomer)
		mine := []string{
			s.mustOrder(t, s.customer.Access, item(id, 1))["id"].(string),
			s.mustOrder(t, s.customer.Access, item(id, 1))["id"].(string),
			s.mustOrder(t, s.customer.Access, item(id, 1))["id"].(string),
		}
		theirs := s.mustOrder(t, other.Access, item(id, 1))["id"].(string)
		s.markPaid(t, mine[1], time.Now())

		ids := func(r response) ([]string, map[string]any) {
			t.Helper()
			expectJSON(t, r, http.StatusOK)
			body := asMap(t, r)
			assertKeys(t, body, listKeys, "order list")
			var out []string
			for _, it := range body["items"].([]any) {
				o := it.(map[string]any)
				assertOrderShape(t, o)
				out = append(out, o["id"].(string))
			}
			return out, body
		}
		got, body := ids(s.get(t, "/api/orders", s.customer.Access))
		assert.Equal(t, []string{mine[2], mine[1], mine[0]}, got, "own orders, newest first")
		assert.EqualValues(t, 3, num(t, body["total"]))
		assert.EqualValues(t, 1, num(t, body["page"]))
		assert.EqualValues(t, 20, num(t, body["page_size"]))

		got, _ = ids(s.get(t, "/api/orders?status=paid", s.customer.Access))
		assert.Equal(t, []string{mine[1]}, got)
		got, body = ids(s.get(t, "/api/orders?page=2&page_size=2", s.customer.Access))
		assert.Equal(t, []string{mine[0]}, got)
		assert.EqualValues(t, 3, num(t, body["total"]))
		got, _ = ids(s.get(t, "/api/orders?user_id="+other.ID, s.customer.Access))
		assert.Len(t, got, 3, "user_id is an admin's filter: a customer still sees their own")

		got, body = ids(s.get(t, "/api/orders", s.admin.Access))
		assert.Len(t, got, 4, "admins see every order")
		assert.EqualValues(t, 4, num(t, body["total"]))
		got, _ = ids(s.get(t, "/api/orders?user_id="+other.ID, s.admin.Access))
		assert.Equal(t, []string{theirs}, got)
		got, _ = ids(s.get(t, "/api/orders?user_id="+s.customer.ID+"&status=pending_payment", s.admin.Access))
		assert.ElementsMatch(t, []string{mine[0], mine[2]}, got)

		got, _ = ids(s.get(t, "/api/orders", s.seller.Access))
		assert.Empty(t, got)

		for query, field := range map[string]string{
			"status=lost": "status", "page=0": "page", "page=abc": "page", "page_size=101": "page_size",
			"page_size=0": "page_size", "user_id=someone": "user_id",
		} {
			t.Run(query, func(t *testing.T) {
				expectValidation(t, s.get(t, "/api/orders?"+query, s.admin.Access), field)
			})
		}
		expectProblem(t, s.get(t, "/api/orders", ""), http.StatusUnauthorized, "unauthorized")
	})
}

func TestOrders_IdempotencyKey(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 10)
		body := orderOf(item(id, 2))

		r := s.placeOrder(t, s.customer.Access, body, "checkout-1")
		expectJSON(t, r, http.StatusCreated)
		first := asMap(t, r)

		// The same key and body: the same order, the same status, no new stock taken.
		r = s.placeOrder(t, s.customer.Access, body, "checkout-1")
		expectJSON(t, r, http.StatusCreated)
		assert.Equal(t, first, asMap(t, r))
		assert.EqualValues(t, 8, s.stockOf(t, id))
		// The same body written another way is the same request.
		reordered := rawJSON(`{"shipping_address":{"phone":"+998901234567","street":"Amir Temur 108","city":"Toshkent","region":"Toshkent"},` +
			`"items":[{"quantity":2,"product_id":"` + id + `"}]}`)
		r = s.placeOrder(t, s.customer.Access, reordered, "checkout-1")
		expectJSON(t, r, http.StatusCreated)
		assert.Equal(t, first["id"], asMap(t, r)["id"])

		// The same key with another body.
		r = s.placeOrder(t, s.customer.Access, orderOf(item(id, 3)), "checkout-1")
		expectProblem(t, r, http.StatusConflict, "idempotency_key_reused")
		assert.EqualValues(t, 8, s.stockOf(t, id))

		// Keys are per user.
		r = s.placeOrder(t, s.seller.Access, body, "checkout-1")
		expectJSON(t, r, http.StatusCreated)
		assert.NotEqual(t, first["id"], asMap(t, r)["id"])

		// A failed request is not remembered: its key works again once it can succeed.
		r = s.placeOrder(t, s.customer.Access, orderOf(item(id, 9)), "checkout-2")
		expectProblem(t, r, http.StatusConflict, "insufficient_stock")
		r = s.placeOrder(t, s.customer.Access, orderOf(item(id, 1)), "checkout-2")
		expectJSON(t, r, http.StatusCreated)

		// 255 characters is the longest key.
		expectJSON(t, s.placeOrder(t, s.customer.Access, orderOf(item(id, 1)), strings.Repeat("k", 255)), http.StatusCreated)
		r = s.placeOrder(t, s.customer.Access, orderOf(item(id, 1)), strings.Repeat("k", 256))
		expectValidation(t, r, "Idempotency-Key")

		// The order from the cart: replayed too, and the cart is not touched again.
		expectJSON(t, s.putCart(t, s.admin.Access, id, 1), http.StatusOK)
		r = s.placeOrder(t, s.admin.Access, orderOf(), "from-cart")
		expectJSON(t, r, http.StatusCreated)
		fromCart := asMap(t, r)["id"]
		expectJSON(t, s.putCart(t, s.admin.Access, id, 1), http.StatusOK)
		r = s.placeOrder(t, s.admin.Access, orderOf(), "from-cart")
		expectJSON(t, r, http.StatusCreated)
		assert.Equal(t, fromCart, asMap(t, r)["id"])
		assert.Len(t, s.cart(t, s.admin.Access)["items"], 1, "a replay changes nothing")
	})
}

func TestOrders_ExpireAfterThePaymentTTL(t *testing.T) {
	t.Parallel()
	ttl := func(cfg *config.Config) {
		cfg.OrderPaymentTTL = 1500 * time.Millisecond
		cfg.ExpirySweepInterval = 100 * time.Millisecond
	}
	eachCatalog(t, ttl, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 1_000, 5)
		unpaid := s.mustOrder(t, s.customer.Access, item(id, 2))["id"].(string)
		paid := s.mustOrder(t, s.customer.Access, item(id, 1))["id"].(string)
		s.markPaid(t, paid, time.Now())
		assert.EqualValues(t, 2, s.stockOf(t, id))

		require.Eventually(t, func() bool {
			return s.peek(s.customer.Access, "/api/orders/"+unpaid, "status") == "cancelled"
		}, 10*time.Second, 50*time.Millisecond, "the unpaid order expires")
		o := s.order(t, s.customer.Access, unpaid)
		assertUTCTime(t, o["cancelled_at"].(string), "cancelled_at")
		require.Eventually(t, func() bool { return s.peek(s.admin.Access, "/api/products/"+id, "stock") == float64(4) },
			5*time.Second, 50*time.Millisecond, "its stock comes back")
		assert.Equal(t, "paid", s.order(t, s.customer.Access, paid)["status"], "a paid order never expires")
		expectProblem(t, s.post(t, "/api/orders/"+unpaid+"/cancel", s.customer.Access, nil), http.StatusConflict, "conflict")
	})
}

func TestOrders_ConcurrentOrdersNeverOversell(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		const stock, buyers = 3, 12
		id := s.newProduct(t, 1_000, stock)
		tokens := make([]string, buyers)
		for i := range tokens {
			tokens[i] = s.newAccount(t, roleCustomer).Access
		}

		statuses := make([]int, buyers)
		codes := make([]string, buyers)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range buyers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				r, err := rawSend(s.BaseURL, req{Method: http.MethodPost, Path: "/api/orders", Token: tokens[i], Body: orderOf(item(id, 1))})
				if err != nil {
					return
				}
				statuses[i] = r.Status
				if r.Status != http.StatusCreated {
					var p problem
					if jsonErr := json.Unmarshal(r.Body, &p); jsonErr == nil {
						codes[i] = p.Code
					}
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
				assert.Equal(t, "insufficient_stock", codes[i])
			default:
				t.Errorf("buyer %d got %d", i, st)
			}
		}
		assert.Equal(t, stock, created, "exactly the stock is sold")
		assert.EqualValues(t, 0, s.stockOf(t, id))
		var n int
		require.NoError(t, s.DB.Get(&n, `SELECT count(*) FROM orders`))
		assert.Equal(t, stock, n)
	})
}

func TestOrders_IdempotencyRaceMakesOneOrder(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		const n = 10
		id := s.newProduct(t, 1_000, 50)
		body := orderOf(item(id, 2))

		results := make([]response, n)
		errs := make([]error, n)
		var wg sync.WaitGroup
		start := make(chan struct{})
		for i := range n {
			wg.Add(1)
			go func() {
				defer wg.Done()
				<-start
				results[i], errs[i] = rawSend(s.BaseURL, req{Method: http.MethodPost, Path: "/api/orders", Token: s.customer.Access,
					Body: body, Header: map[string]string{"Idempotency-Key": "race-1"}})
			}()
		}
		close(start)
		wg.Wait()

		ids := map[string]bool{}
		for i, r := range results {
			require.NoError(t, errs[i])
			switch r.Status {
			case http.StatusCreated:
				var o struct {
					ID string `json:"id"`
				}
				require.NoError(t, json.Unmarshal(r.Body, &o))
				ids[o.ID] = true
			case http.StatusConflict:
				var p problem
				require.NoError(t, json.Unmarshal(r.Body, &p))
				assert.Equal(t, "conflict", p.Code, "the key's first request is still running")
			default:
				t.Errorf("request %d: %s", i, r)
			}
		}
		assert.Len(t, ids, 1, "every 201 is the same order")
		var count int
		require.NoError(t, s.DB.Get(&count, `SELECT count(*) FROM orders`))
		assert.Equal(t, 1, count)
		assert.EqualValues(t, 48, s.stockOf(t, id), "reserved once")

		// Afterwards the key answers with that order.
		r := s.placeOrder(t, s.customer.Access, body, "race-1")
		expectJSON(t, r, http.StatusCreated)
		assert.True(t, ids[asMap(t, r)["id"].(string)])
	})
}
