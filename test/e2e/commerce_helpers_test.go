package e2e

// Shared helpers of the commerce end-to-end tests (products, cart, orders,
// analytics, the upstream catalog). Every behaviour API.md fixes for those
// routes is checked against both catalogs: the built-in one (Postgres) and
// the HTTP client of the upstream microservice, talking to the fake in
// test/fakes/catalog.

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	fakecatalog "github.com/ultramarket/gateway/test/fakes/catalog"
)

// Keys of the commerce bodies API.md fixes, exactly.
var (
	productKeys = []string{"id", "name", "description", "category", "price", "currency", "stock", "seller_id", "active",
		"ikpu_code", "package_code", "unit_code", "vat_percent", "created_at", "updated_at"}
	cartKeys     = []string{"items", "total", "currency"}
	cartItemKeys = []string{"product_id", "name", "unit_price", "quantity", "line_total", "available"}
	orderKeys    = []string{"id", "user_id", "status", "items", "total", "currency", "shipping_address", "note", "receipts",
		"created_at", "updated_at", "paid_at", "cancelled_at", "refund_authorized_at"}
	orderItemKeys = []string{"product_id", "name", "unit_price", "quantity", "line_total", "vat_percent", "vat_amount"}
	addressKeys   = []string{"region", "city", "street", "phone"}
)

// catalogKind names which catalog a shop runs on.
type catalogKind string

const (
	builtinCatalog  catalogKind = "builtin"
	upstreamCatalog catalogKind = "upstream"
)

var bothCatalogs = []catalogKind{builtinCatalog, upstreamCatalog}

// shop is a gateway with its catalog and an account of every role.
type shop struct {
	*gateway
	kind     catalogKind
	upstream *fakecatalog.Server // nil on the built-in catalog

	customer, seller, admin account
}

// newShop boots a gateway on kind of catalog (the fake upstream is started
// for it), adjusted by mod, and makes a customer, a seller and an admin.
func newShop(t *testing.T, kind catalogKind, mod func(*config.Config)) *shop {
	t.Helper()
	cfg := identityConfig(t)
	s := &shop{kind: kind}
	if kind == upstreamCatalog {
		s.upstream = fakecatalog.New()
		t.Cleanup(s.upstream.Close)
		cfg.CatalogURL = s.upstream.URL()
	}
	if mod != nil {
		mod(&cfg)
	}
	s.gateway = startGateway(t, cfg, "")
	s.customer = s.newAccount(t, roleCustomer)
	s.seller = s.newAccount(t, roleSeller)
	s.admin = s.newAccount(t, roleAdmin)
	return s
}

// eachCatalog runs fn as a parallel subtest on a fresh shop of each catalog.
func eachCatalog(t *testing.T, mod func(*config.Config), fn func(t *testing.T, s *shop)) {
	t.Helper()
	for _, kind := range bothCatalogs {
		t.Run(string(kind), func(t *testing.T) {
			t.Parallel()
			fn(t, newShop(t, kind, mod))
		})
	}
}

var productSeq atomic.Int64

// productBody is a valid POST /api/products body.
func productBody(price, stock int64) map[string]any {
	n := productSeq.Add(1)
	return map[string]any{
		"name": fmt.Sprintf("Rishton lagan %d", n), "description": "Hand-painted ceramic plate",
		"category": "ceramics", "price": price, "stock": stock,
	}
}

// createProduct posts body as token and requires 201.
func (s *shop) createProduct(t *testing.T, token string, body map[string]any) map[string]any {
	t.Helper()
	r := s.post(t, "/api/products", token, body)
	expectJSON(t, r, http.StatusCreated)
	p := asMap(t, r)
	assertProductShape(t, p)
	return p
}

// newProduct is an active product of the shop's seller; it returns the id.
func (s *shop) newProduct(t *testing.T, price, stock int64) string {
	t.Helper()
	return s.createProduct(t, s.seller.Access, productBody(price, stock))["id"].(string)
}

// product is GET /api/products/:id as the admin (who sees inactive ones too).
func (s *shop) product(t *testing.T, id string) map[string]any {
	t.Helper()
	r := s.get(t, "/api/products/"+id, s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	return asMap(t, r)
}

// stockOf is the product's stock as the API shows it.
func (s *shop) stockOf(t *testing.T, id string) int64 {
	t.Helper()
	return num(t, s.product(t, id)["stock"])
}

// setActive switches a product on or off as the admin.
func (s *shop) setActive(t *testing.T, id string, active bool) {
	t.Helper()
	p := s.product(t, id)
	r := s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.admin.Access, Body: map[string]any{
		"name": p["name"], "description": p["description"], "category": p["category"],
		"price": p["price"], "stock": p["stock"], "active": active,
	}})
	expectJSON(t, r, http.StatusOK)
}

// address is a valid shipping_address.
func address() map[string]any {
	return map[string]any{"region": "Toshkent", "city": "Toshkent", "street": "Amir Temur 108", "phone": "+998901234567"}
}

// item is one line of an order body.
func item(productID string, quantity int64) map[string]any {
	return map[string]any{"product_id": productID, "quantity": quantity}
}

// orderOf is a POST /api/orders body of items (none: order the cart).
func orderOf(items ...map[string]any) map[string]any {
	body := map[string]any{"shipping_address": address()}
	if len(items) > 0 {
		body["items"] = items
	}
	return body
}

// placeOrder posts body as token with an optional Idempotency-Key.
func (s *shop) placeOrder(t *testing.T, token string, body any, key string) response {
	t.Helper()
	r := req{Method: http.MethodPost, Path: "/api/orders", Token: token, Body: body}
	if key != "" {
		r.Header = map[string]string{"Idempotency-Key": key}
	}
	return s.do(t, r)
}

// mustOrder places an order and requires 201; it returns the order.
func (s *shop) mustOrder(t *testing.T, token string, items ...map[string]any) map[string]any {
	t.Helper()
	r := s.placeOrder(t, token, orderOf(items...), "")
	expectJSON(t, r, http.StatusCreated)
	o := asMap(t, r)
	assertOrderShape(t, o)
	return o
}

// order is GET /api/orders/:id as token.
func (s *shop) order(t *testing.T, token, id string) map[string]any {
	t.Helper()
	r := s.get(t, "/api/orders/"+id, token)
	expectJSON(t, r, http.StatusOK)
	return asMap(t, r)
}

// markPaid makes a pending order paid straight in the database, as a
// payment gateway's success would (paid_at = at).
func (s *shop) markPaid(t *testing.T, id string, at time.Time) {
	t.Helper()
	res, err := s.DB.Exec(`UPDATE orders SET status = 'paid', paid_at = $2, updated_at = $2
		WHERE id = $1 AND status = 'pending_payment'`, id, at)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "order %s was not pending", id)
}

// patchStatus is PATCH /api/orders/:id/status.
func (s *shop) patchStatus(t *testing.T, token, id, status string) response {
	t.Helper()
	return s.do(t, req{Method: http.MethodPatch, Path: "/api/orders/" + id + "/status", Token: token,
		Body: map[string]any{"status": status}})
}

// cart is GET /api/cart as token.
func (s *shop) cart(t *testing.T, token string) map[string]any {
	t.Helper()
	r := s.get(t, "/api/cart", token)
	expectJSON(t, r, http.StatusOK)
	c := asMap(t, r)
	assertCartShape(t, c)
	return c
}

// putCart is PUT /api/cart/items/:id {quantity}.
func (s *shop) putCart(t *testing.T, token, productID string, quantity any) response {
	t.Helper()
	return s.do(t, req{Method: http.MethodPut, Path: "/api/cart/items/" + productID, Token: token,
		Body: map[string]any{"quantity": quantity}})
}

// peek is one field of GET path as token, or nil; it never fails the test,
// so it is safe in require.Eventually's condition (another goroutine).
func (s *shop) peek(token, path, field string) any {
	r, err := rawSend(s.BaseURL, req{Method: http.MethodGet, Path: path, Token: token})
	if err != nil || r.Status != http.StatusOK {
		return nil
	}
	var m map[string]any
	if json.Unmarshal(r.Body, &m) != nil {
		return nil
	}
	return m[field]
}

// num reads a JSON number that must be an integer.
func num(t *testing.T, v any) int64 {
	t.Helper()
	f, ok := v.(float64)
	require.True(t, ok, "a number: %#v", v)
	require.Equal(t, float64(int64(f)), f, "an integer: %v", f)
	return int64(f)
}

// ---------------------------------------------------------------------------
// Shapes

func assertProductShape(t *testing.T, p map[string]any) {
	t.Helper()
	assertKeys(t, p, productKeys, "product")
	assert.Regexp(t, uuidRe, p["id"], "product.id")
	assert.Regexp(t, uuidRe, p["seller_id"], "product.seller_id")
	assert.Equal(t, "UZS", p["currency"])
	assert.Greater(t, num(t, p["price"]), int64(0))
	assert.GreaterOrEqual(t, num(t, p["stock"]), int64(0))
	assert.IsType(t, true, p["active"])
	assertUTCTime(t, p["created_at"].(string), "product.created_at")
	assertUTCTime(t, p["updated_at"].(string), "product.updated_at")
}

func assertCartShape(t *testing.T, c map[string]any) {
	t.Helper()
	assertKeys(t, c, cartKeys, "cart")
	assert.Equal(t, "UZS", c["currency"])
	items, ok := c["items"].([]any)
	require.True(t, ok, "cart.items is an array: %#v", c["items"])
	for _, it := range items {
		assertKeys(t, it.(map[string]any), cartItemKeys, "cart item")
	}
}

func assertOrderShape(t *testing.T, o map[string]any) {
	t.Helper()
	if refunds, admin := o["refunds"]; admin { // the refund audit, which only admins see
		assert.IsType(t, []any{}, refunds, "order.refunds")
		assertKeys(t, o, append(slices.Clone(orderKeys), "refunds"), "order")
	} else {
		assertKeys(t, o, orderKeys, "order")
	}
	assert.Regexp(t, uuidRe, o["id"], "order.id")
	assert.Regexp(t, uuidRe, o["user_id"], "order.user_id")
	assert.Equal(t, "UZS", o["currency"])
	assertKeys(t, o["shipping_address"].(map[string]any), addressKeys, "shipping_address")
	var sum int64
	for _, it := range o["items"].([]any) {
		line := it.(map[string]any)
		assertKeys(t, line, orderItemKeys, "order item")
		assert.Equal(t, num(t, line["unit_price"])*num(t, line["quantity"]), num(t, line["line_total"]), "line_total")
		sum += num(t, line["line_total"])
	}
	assert.Equal(t, sum, num(t, o["total"]), "total is the sum of the lines")
	assertUTCTime(t, o["created_at"].(string), "order.created_at")
	assertUTCTime(t, o["updated_at"].(string), "order.updated_at")
	for _, k := range []string{"paid_at", "cancelled_at", "refund_authorized_at"} {
		if v := o[k]; v != nil {
			assertUTCTime(t, v.(string), "order."+k)
		}
	}
}
