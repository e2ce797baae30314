package e2e

// The gateway in front of the upstream catalog microservice (CATALOG_URL):
// what a client sees when it fails, slows down or refuses, and what the
// upstream sees of the client.

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// timed sends r and returns the answer and how long it took.
func (s *shop) timed(t *testing.T, r req) (response, time.Duration) {
	t.Helper()
	start := time.Now()
	out := s.do(t, r)
	return out, time.Since(start)
}

func TestCatalogUpstream_DownOpensTheCircuitThenRecovers(t *testing.T) {
	t.Parallel()
	const failures, open = 4, 1500 * time.Millisecond
	s := newShop(t, upstreamCatalog, func(cfg *config.Config) {
		cfg.CatalogBreakerFailures = failures
		cfg.CatalogBreakerOpen = open
		cfg.CatalogTimeout = 500 * time.Millisecond
	})
	id := s.newProduct(t, 1_000, 5)
	list := req{Method: http.MethodGet, Path: "/api/products"}

	s.upstream.SetDown(true)
	s.upstream.ResetCounters()
	// The first list tries 3 times (a GET is retried), the second once more:
	// that is the 4th failure in a row and the circuit opens.
	for range 2 {
		r, took := s.timed(t, list)
		expectProblem(t, r, http.StatusServiceUnavailable, "upstream_unavailable")
		assert.Less(t, took, 3*time.Second, "never a hang")
	}
	require.Equal(t, failures, s.upstream.Requests(), "the circuit opened after %d failures", failures)

	// Open: every call fails at once without reaching the upstream, whatever the route.
	for _, r := range []req{
		list,
		{Method: http.MethodGet, Path: "/api/products/" + id},
		{Method: http.MethodPost, Path: "/api/products", Token: s.seller.Access, Body: productBody(1, 1)},
		{Method: http.MethodPut, Path: "/api/cart/items/" + id, Token: s.customer.Access, Body: map[string]any{"quantity": 1}},
		{Method: http.MethodPost, Path: "/api/orders", Token: s.customer.Access, Body: orderOf(item(id, 1))},
	} {
		got, took := s.timed(t, r)
		expectProblem(t, got, http.StatusServiceUnavailable, "upstream_unavailable")
		assert.Less(t, took, 250*time.Millisecond, "%s %s answers fast while the circuit is open", r.Method, r.Path)
	}
	assert.Equal(t, failures, s.upstream.Requests(), "nothing reached the upstream while open")
	var orders int
	require.NoError(t, s.DB.Get(&orders, `SELECT count(*) FROM orders`))
	assert.Zero(t, orders, "no order without the catalog")

	// The upstream comes back; after CATALOG_BREAKER_OPEN a trial call closes the circuit.
	s.upstream.SetDown(false)
	time.Sleep(open + 200*time.Millisecond)
	r := s.do(t, list)
	assert.Contains(t, listIDs(t, r), id)
	assert.Greater(t, s.upstream.Requests(), failures, "the trial call reached the upstream")
	expectJSON(t, s.get(t, "/api/products/"+id, ""), http.StatusOK)
	s.mustOrder(t, s.customer.Access, item(id, 1))
}

func TestCatalogUpstream_SlowIs503Fast(t *testing.T) {
	t.Parallel()
	s := newShop(t, upstreamCatalog, func(cfg *config.Config) {
		cfg.CatalogTimeout = 200 * time.Millisecond
		cfg.CatalogBreakerFailures = 100 // keep the circuit closed: this is about timeouts
	})
	id := s.newProduct(t, 1_000, 5)
	expectJSON(t, s.putCart(t, s.customer.Access, id, 1), http.StatusOK)

	// Far slower than CATALOG_TIMEOUT. (Not slower still: the fake only
	// notices a client that gave up on a POST when its delay ends, and its
	// Close waits for that.)
	s.upstream.SetDelay(2 * time.Second)
	r, took := s.timed(t, req{Method: http.MethodGet, Path: "/api/products/" + id})
	expectProblem(t, r, http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Less(t, took, 1500*time.Millisecond, "3 attempts of CATALOG_TIMEOUT, not the upstream's 2 s")
	r, took = s.timed(t, req{Method: http.MethodPost, Path: "/api/orders", Token: s.customer.Access, Body: orderOf()})
	expectProblem(t, r, http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Less(t, took, 1500*time.Millisecond)
	assert.Len(t, s.cart(t, s.admin.Access)["items"], 0, "an empty cart needs no catalog")

	s.upstream.SetDelay(0)
	expectJSON(t, s.get(t, "/api/products/"+id, ""), http.StatusOK)
	assert.Len(t, s.cart(t, s.customer.Access)["items"], 1, "the failed order left the cart alone")
}

func TestCatalogUpstream_GoneIs503AndTheOpsCheckSaysSo(t *testing.T) {
	t.Parallel()
	s := newShop(t, upstreamCatalog, func(cfg *config.Config) {
		cfg.CatalogBreakerFailures = 100 // keep the circuit closed: this is about refused connections
	})
	id := s.newProduct(t, 1_000, 5)
	expectJSON(t, s.putCart(t, s.customer.Access, id, 1), http.StatusOK)

	s.upstream.Close()
	r, took := s.timed(t, req{Method: http.MethodGet, Path: "/api/cart", Token: s.customer.Access})
	expectProblem(t, r, http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Less(t, took, 2*time.Second)
	resp, body := get(t, s.OpsURL+"/health/detailed", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode, string(body))
	var detailed struct {
		Checks map[string]struct {
			Status string `json:"status"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(body, &detailed))
	assert.Equal(t, "down", detailed.Checks["catalog"].Status)
	assert.Equal(t, "ok", detailed.Checks["postgres"].Status)
	resp, body = get(t, s.BaseURL+"/health/ready", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, "readiness is Postgres and Redis only: %s", body)

	s.upstream.Restart()
	require.Eventually(t, func() bool {
		r, err := rawSend(s.BaseURL, req{Method: http.MethodGet, Path: "/api/products/" + id})
		return err == nil && r.Status == http.StatusOK
	}, 5*time.Second, 50*time.Millisecond)
	resp, body = get(t, s.OpsURL+"/health/detailed", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
}

func TestCatalogUpstream_4xxPassesThrough(t *testing.T) {
	t.Parallel()
	s := newShop(t, upstreamCatalog, nil)
	id := s.newProduct(t, 1_000, 5)

	s.upstream.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		switch {
		case r.Method == http.MethodGet && r.URL.Path == "/products/"+id:
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusForbidden)
			_, _ = w.Write([]byte(`{"type":"https://catalog.example/problems/seller-suspended","title":"Seller suspended",` +
				`"status":403,"code":"seller_suspended","detail":"The seller of this product is suspended."}`))
			return true
		case r.Method == http.MethodPost && r.URL.Path == "/products":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusConflict)
			_, _ = w.Write([]byte(`{"title":"Duplicate product","status":409,"code":"duplicate_product",` +
				`"detail":"This seller already sells a product with this name."}`))
			return true
		case r.Method == http.MethodGet && r.URL.Path == "/products":
			w.Header().Set("Content-Type", "application/problem+json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			_, _ = w.Write([]byte(`{"title":"Validation failed","status":422,"code":"validation_failed",` +
				`"errors":[{"field":"q","message":"too short"}]}`))
			return true
		case r.Method == http.MethodDelete:
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(http.StatusNotFound)
			_, _ = w.Write([]byte("404 page not found\nat handler.go:12"))
			return true
		}
		return false
	})

	p := expectProblem(t, s.get(t, "/api/products/"+id, ""), http.StatusForbidden, "seller_suspended")
	assert.Equal(t, "Seller suspended", p.Title)
	assert.Equal(t, "The seller of this product is suspended.", p.Detail)
	assert.Equal(t, "https://ultramarket.uz/problems/seller-suspended", p.Type)

	p = expectProblem(t, s.post(t, "/api/products", s.seller.Access, productBody(1, 1)), http.StatusConflict, "duplicate_product")
	assert.Equal(t, "Duplicate product", p.Title)
	assert.Equal(t, "This seller already sells a product with this name.", p.Detail)

	p = expectValidation(t, s.get(t, "/api/products?q=a", ""), "q")
	assert.Equal(t, "too short", p.Errors[0].Message)

	// A 4xx without a problem body: the status's own code; the body is never shown.
	r := s.do(t, req{Method: http.MethodDelete, Path: "/api/products/" + id, Token: s.admin.Access})
	p = expectProblem(t, r, http.StatusNotFound, "not_found")
	assert.NotContains(t, string(r.Body), "handler.go")

	// 4xx answers are the upstream alive: they never open the circuit.
	for range 10 {
		expectProblem(t, s.get(t, "/api/products/"+id, ""), http.StatusForbidden, "seller_suspended")
	}
	s.upstream.SetFault(nil)
	expectJSON(t, s.get(t, "/api/products/"+id, ""), http.StatusOK)
}

func TestCatalogUpstream_ForwardsTheCallersIdentity(t *testing.T) {
	t.Parallel()
	s := newShop(t, upstreamCatalog, nil)
	id := s.newProduct(t, 1_000, 5)

	r := s.do(t, req{Method: http.MethodGet, Path: "/api/products", Token: s.seller.Access,
		Header: map[string]string{"X-Request-ID": "trace-products-1"}})
	expectJSON(t, r, http.StatusOK)
	h := s.upstream.LastHeaders()
	assert.Equal(t, "trace-products-1", h.Get("X-Request-ID"))
	assert.Equal(t, s.seller.ID, h.Get("X-User-Id"))
	assert.Equal(t, "seller", h.Get("X-User-Role"))

	// Anonymous: no user, and the id the gateway made for the request.
	r = s.do(t, req{Method: http.MethodGet, Path: "/api/products/" + id})
	expectJSON(t, r, http.StatusOK)
	h = s.upstream.LastHeaders()
	assert.Empty(t, h.Get("X-User-Id"))
	assert.Empty(t, h.Get("X-User-Role"))
	assert.Equal(t, r.Header.Get("X-Request-ID"), h.Get("X-Request-ID"))
	assert.NotEmpty(t, h.Get("X-Request-ID"))

	// An order's reservation carries the buyer; an insane request id is replaced, not forwarded.
	r = s.do(t, req{Method: http.MethodPost, Path: "/api/orders", Token: s.customer.Access, Body: orderOf(item(id, 1)),
		Header: map[string]string{"X-Request-ID": "bad id\twith tab"}})
	expectJSON(t, r, http.StatusCreated)
	assert.Equal(t, 1, s.upstream.Calls("POST /reservations"))
	h = s.upstream.LastHeaders()
	assert.Equal(t, s.customer.ID, h.Get("X-User-Id"))
	assert.Equal(t, "customer", h.Get("X-User-Role"))
	assert.Equal(t, r.Header.Get("X-Request-ID"), h.Get("X-Request-ID"))
	assert.False(t, strings.ContainsAny(h.Get("X-Request-ID"), " \t"))

	// The reservation is the upstream's, and the cancel gives it back there.
	orderID := asMap(t, r)["id"].(string)
	assert.Equal(t, map[string]int64{id: 1}, s.upstream.Reservation(orderID))
	expectJSON(t, s.post(t, "/api/orders/"+orderID+"/cancel", s.customer.Access, nil), http.StatusOK)
	assert.Nil(t, s.upstream.Reservation(orderID))
	assert.Equal(t, s.customer.ID, s.upstream.LastHeaders().Get("X-User-Id"))
}
