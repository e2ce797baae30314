package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

const orderBody = `{"items":[{"product_id":"` + phoneID + `","quantity":2}],
	"shipping_address":{"region":"Toshkent","city":"Toshkent","street":"Amir Temur 1","phone":"+998901234567"},
	"note":"ring twice"}`

// expectPlaced expects the catalog and the repository calls of one order of
// 2 × phoneID at 150 000 tiyin.
func (f commerce) expectPlaced(userID string) {
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{phoneID}, gomock.Any()).
		Return([]*product.Product{storedProduct(phoneID, bobID, 150_000, 5, true)}, nil)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderOne, []ports.ReservationItem{{ProductID: phoneID, Quantity: 2}}, gomock.Any()).Return(nil)
	f.orders.EXPECT().Create(gomock.Any(), gomock.Any()).DoAndReturn(func(_ context.Context, o *order.Order) error {
		if o.UserID() != userID {
			panic("order of the wrong user")
		}
		return nil
	})
}

func TestOrders_PlaceAnswers201WithTheOrder(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.expectPlaced(annID)

	rec := f.call(http.MethodPost, "/api/orders", token, orderBody)

	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "/api/orders/"+orderOne, rec.Header().Get("Location"))
	assert.Empty(t, rec.Header().Get("Idempotent-Replayed"))
	body := object(t, rec)
	assert.Equal(t, orderKeys, keysOf(body))
	assert.Equal(t, addressKeys, keysOf(body["shipping_address"]))
	items := body["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, orderItemKeys, keysOf(items[0]))
	assert.JSONEq(t, `{
		"id":"`+orderOne+`","user_id":"`+annID+`","status":"pending_payment",
		"items":[{"product_id":"`+phoneID+`","name":"Product a001","unit_price":150000,"quantity":2,"line_total":300000,
			"vat_percent":12,"vat_amount":32143}],
		"total":300000,"currency":"UZS","receipts":[],
		"shipping_address":{"region":"Toshkent","city":"Toshkent","street":"Amir Temur 1","phone":"+998901234567"},
		"note":"ring twice",
		"created_at":"`+utcMicros(now)+`","updated_at":"`+utcMicros(now)+`","paid_at":null,"cancelled_at":null,"refund_authorized_at":null}`, rec.Body.String())
}

func TestOrders_PlaceFromTheCartEmptiesIt(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return([]ports.CartLine{{ProductID: phoneID, Quantity: 2, AddedAt: now}}, nil)
	f.expectPlaced(annID)
	f.carts.EXPECT().Clear(gomock.Any(), annID).Return(nil)

	rec := f.call(http.MethodPost, "/api/orders", token,
		`{"shipping_address":{"region":"Toshkent","city":"Toshkent","street":"Amir Temur 1","phone":"+998901234567"}}`)

	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Nil(t, object(t, rec)["note"], "no note is null")
}

func TestOrders_PlaceRefusals(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{caseID}, gomock.Any()).Return([]*product.Product{storedProduct(caseID, bobID, 1, 1, false)}, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{phoneID}, gomock.Any()).Return([]*product.Product{storedProduct(phoneID, bobID, 1, 1, true)}, nil)
	f.catalog.EXPECT().Reserve(gomock.Any(), orderOne, gomock.Any(), gomock.Any()).Return(&product.InsufficientStockError{ProductID: phoneID})
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{"x"}, gomock.Any()).Return(nil, nil)
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return(nil, nil)
	const addr = `"shipping_address":{"region":"R","city":"C","street":"S","phone":"+998901234567"}`
	cases := []struct {
		name, body string
		header     []string
		status     int
		code       string
		fields     []string
	}{
		{"inactive product", `{"items":[{"product_id":"` + caseID + `","quantity":1}],` + addr + `}`, nil, 422, "validation_failed", []string{"items[0].product_id"}},
		{"insufficient stock", `{"items":[{"product_id":"` + phoneID + `","quantity":1}],` + addr + `}`, nil, 409, "insufficient_stock", nil},
		{"empty cart", `{` + addr + `}`, nil, 422, "validation_failed", []string{"items"}},
		{"empty items", `{"items":[],` + addr + `}`, nil, 422, "validation_failed", []string{"items"}},
		{"bad address", `{"items":[{"product_id":"x","quantity":0}],"shipping_address":{"region":"","city":"C","street":"S","phone":"+7"}}`, nil, 422, "validation_failed",
			[]string{"items[0].product_id", "items[0].quantity", "shipping_address.region", "shipping_address.phone"}},
		{"extra address field", `{"items":[],"shipping_address":{"zip":"100000"}}`, nil, 422, "validation_failed", []string{"shipping_address.zip"}},
		{"quantity a string", `{"items":[{"product_id":"` + phoneID + `","quantity":"1"}],` + addr + `}`, nil, 422, "validation_failed", []string{"items[0].quantity"}},
		{"price from the client", `{"items":[{"product_id":"` + phoneID + `","quantity":1,"unit_price":1}],` + addr + `}`, nil, 422, "validation_failed", []string{"items[0].unit_price"}},
		{"key too long", `{}`, []string{"Idempotency-Key", strings.Repeat("k", 256)}, 422, "validation_failed", []string{"Idempotency-Key"}},
		{"malformed", `{"items":`, nil, 400, "bad_request", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.call(http.MethodPost, "/api/orders", token, c.body, c.header...)
			require.Equal(t, c.status, rec.Code, "%s: %s", c.name, rec.Body.String())
			p := decodeProblem(t, rec)
			assert.Equal(t, c.code, p.Code, c.name)
			if c.fields != nil {
				assert.Equal(t, c.fields, fieldNames(p), c.name)
			}
		})
	}
}

func TestOrders_IdempotencyKeyHeaderTwiceIs422(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/orders", strings.NewReader(orderBody))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+token)
	req.Header.Add("Idempotency-Key", "a")
	req.Header.Add("Idempotency-Key", "b")
	rec := serve(f.e, req)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, []string{"Idempotency-Key"}, fieldNames(decodeProblem(t, rec)))
}

// claimOne names the claim of the first request with a key.
const claimOne = "c1a1c1a1-0000-4000-8000-00000000c1a1"

func TestOrders_IdempotencyKeyReplaysReusesAndConflicts(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	var hashes []string
	capture := func(rec ports.IdempotencyRecord, claimed bool) func(context.Context, string, string, string, time.Time, time.Duration, time.Duration) (ports.IdempotencyRecord, bool, error) {
		return func(_ context.Context, _, _, hash string, _ time.Time, _, _ time.Duration) (ports.IdempotencyRecord, bool, error) {
			hashes = append(hashes, hash)
			return rec, claimed, nil
		}
	}
	// First: claimed, placed, completed.
	f.keys.EXPECT().Begin(gomock.Any(), annID, "k1", gomock.Any(), now, 24*time.Hour, time.Minute).DoAndReturn(capture(ports.IdempotencyRecord{Claim: claimOne}, true))
	f.expectPlaced(annID)
	f.keys.EXPECT().Complete(gomock.Any(), annID, "k1", claimOne, orderOne).Return(nil)

	rec := f.call(http.MethodPost, "/api/orders", token, orderBody, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	require.Len(t, hashes, 1)
	first := hashes[0]
	assert.Len(t, first, 64, "hex SHA-256")

	// The same body written differently: same hash, the stored order again.
	f.keys.EXPECT().Begin(gomock.Any(), annID, "k1", first, now, gomock.Any(), gomock.Any()).
		Return(ports.IdempotencyRecord{RequestHash: first, ResourceID: orderOne}, false, nil)
	f.orders.EXPECT().Get(gomock.Any(), orderOne).Return(storedOrder(orderOne, annID, order.StatusPendingPayment, "ring twice"), nil)
	reordered := `{"note":"ring twice","shipping_address":{"phone":"+998901234567","street":"Amir Temur 1","city":"Toshkent","region":"Toshkent"},` +
		`"items":[{"quantity":2,"product_id":"` + phoneID + `"}]}`
	rec = f.call(http.MethodPost, "/api/orders", token, reordered, "Idempotency-Key", "k1")
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "true", rec.Header().Get("Idempotent-Replayed"))
	assert.Equal(t, orderOne, object(t, rec)["id"])

	// Another body with the key: reused.
	f.keys.EXPECT().Begin(gomock.Any(), annID, "k1", gomock.Any(), now, gomock.Any(), gomock.Any()).
		DoAndReturn(capture(ports.IdempotencyRecord{RequestHash: first, ResourceID: orderOne}, false))
	rec = f.call(http.MethodPost, "/api/orders", token, strings.Replace(orderBody, `"quantity":2`, `"quantity":3`, 1), "Idempotency-Key", "k1")
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Equal(t, "idempotency_key_reused", decodeProblem(t, rec).Code)
	assert.NotEqual(t, first, hashes[len(hashes)-1])

	// The first request still running: conflict.
	f.keys.EXPECT().Begin(gomock.Any(), annID, "k2", first, now, gomock.Any(), gomock.Any()).
		Return(ports.IdempotencyRecord{RequestHash: first}, false, nil)
	rec = f.call(http.MethodPost, "/api/orders", token, orderBody, "Idempotency-Key", "k2")
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Equal(t, "conflict", decodeProblem(t, rec).Code)
}

func TestOrders_RequestHashTellsCartOrdersFromEmptyOnes(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	var hashes []string
	f.keys.EXPECT().Begin(gomock.Any(), annID, gomock.Any(), gomock.Any(), now, gomock.Any(), gomock.Any()).
		DoAndReturn(func(_ context.Context, _, _, hash string, _ time.Time, _, _ time.Duration) (ports.IdempotencyRecord, bool, error) {
			hashes = append(hashes, hash)
			return ports.IdempotencyRecord{RequestHash: "other", ResourceID: orderOne}, false, nil
		}).Times(4)
	const addr = `"shipping_address":{"region":"R","city":"C","street":"S","phone":"+998901234567"}`
	for _, body := range []string{
		`{` + addr + `}`,
		`{"items":null,` + addr + `,"note":""}`, // the same request as the first
		`{"items":[],` + addr + `}`,
		`{` + addr + `,"note":"x"}`,
	} {
		rec := f.call(http.MethodPost, "/api/orders", token, body, "Idempotency-Key", "k")
		require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	}
	require.Len(t, hashes, 4)
	assert.Equal(t, hashes[0], hashes[1])
	assert.NotEqual(t, hashes[0], hashes[2])
	assert.NotEqual(t, hashes[0], hashes[3])
}

func TestOrders_List(t *testing.T) {
	f := newCommerce(t)
	customer := f.bearer(annID, sessionID, user.RoleCustomer)
	admin := f.bearer(bobID, otherSID, user.RoleAdmin)
	gomock.InOrder(
		// A customer's user_id filter is ignored: the list is always their own.
		f.orders.EXPECT().List(gomock.Any(), ports.OrderFilter{UserID: annID, Status: order.StatusPaid, Page: 2, PageSize: 1}).
			Return([]*order.Order{storedOrder(orderOne, annID, order.StatusPaid, "")}, 3, nil),
		f.orders.EXPECT().List(gomock.Any(), ports.OrderFilter{UserID: annID, Page: 1, PageSize: 20}).Return(nil, 0, nil),
		f.orders.EXPECT().List(gomock.Any(), ports.OrderFilter{Page: 1, PageSize: 20}).Return(nil, 0, nil),
	)

	rec := f.call(http.MethodGet, "/api/orders?status=paid&page=2&page_size=1&user_id="+bobID, customer, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, pageKeys, keysOf(body))
	assert.Equal(t, float64(3), body["total"])
	items := body["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, orderKeys, keysOf(items[0]))
	assert.Equal(t, utcMicros(now.Add(-time.Minute)), items[0].(map[string]any)["paid_at"])

	rec = f.call(http.MethodGet, "/api/orders?user_id="+annID, admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[],"page":1,"page_size":20,"total":0}`, rec.Body.String())
	rec = f.call(http.MethodGet, "/api/orders", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func TestOrders_ListBadParamsAre422NamingThem(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleAdmin)
	cases := map[string][]string{
		"status=lost":           {"status"},
		"page=one":              {"page"},
		"page=0":                {"page"},
		"page_size=1000":        {"page_size"},
		"page_size=2.5":         {"page_size"},
		"user_id=ann":           {"user_id"},
		"status=paid&status=x":  {"status"},
		"page=x&user_id=nobody": {"user_id", "page"},
	}
	for query, fields := range cases {
		t.Run(query, func(t *testing.T) {
			rec := f.call(http.MethodGet, "/api/orders?"+query, token, "")
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, query)
			p := decodeProblem(t, rec)
			assert.ElementsMatch(t, fields, fieldNames(p), query)
		})
	}
}

func TestOrders_GetIsForTheOwnerAndAdmins(t *testing.T) {
	f := newCommerce(t)
	owner := f.bearer(annID, sessionID, user.RoleCustomer)
	stranger := f.bearer(bobID, otherSID, user.RoleSeller)
	f.orders.EXPECT().Get(gomock.Any(), orderOne).Return(storedOrder(orderOne, annID, order.StatusPendingPayment, ""), nil).Times(2)

	rec := f.call(http.MethodGet, "/api/orders/"+orderOne, owner, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, orderKeys, keysOf(object(t, rec)))

	rec = f.call(http.MethodGet, "/api/orders/"+orderOne, stranger, "")
	require.Equal(t, http.StatusNotFound, rec.Code, rec.Body.String())
	assert.Equal(t, "not_found", decodeProblem(t, rec).Code)

	for _, path := range []string{"/api/orders/42", "/api/orders/42/cancel"} {
		method := http.MethodGet
		if strings.HasSuffix(path, "cancel") {
			method = http.MethodPost
		}
		rec = f.call(method, path, owner, "")
		assert.Equal(t, http.StatusNotFound, rec.Code, path)
	}
}

func TestOrders_Cancel(t *testing.T) {
	f := newCommerce(t)
	owner := f.bearer(annID, sessionID, user.RoleCustomer)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderOne).Return(storedOrder(orderOne, annID, order.StatusPendingPayment, ""), nil)
	f.orders.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
	f.clicks.EXPECT().ListByOrderForUpdate(gomock.Any(), orderOne).Return(nil, nil)
	f.catalog.EXPECT().Release(gomock.Any(), orderOne, gomock.Any()).Return(nil)

	rec := f.call(http.MethodPost, "/api/orders/"+orderOne+"/cancel", owner, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, "cancelled", body["status"])
	assert.Equal(t, utcMicros(now), body["cancelled_at"])

	// A paid order cannot be cancelled.
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderOne).Return(storedOrder(orderOne, annID, order.StatusPaid, ""), nil)
	rec = f.call(http.MethodPost, "/api/orders/"+orderOne+"/cancel", owner, "{}")
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Equal(t, "conflict", decodeProblem(t, rec).Code)

	rec = f.call(http.MethodPost, "/api/orders/"+orderOne+"/cancel", owner, `{"reason":"x"}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
}

func TestOrders_ChangeStatus(t *testing.T) {
	f := newCommerce(t)
	customer := f.bearer(annID, sessionID, user.RoleCustomer)
	admin := f.bearer(bobID, otherSID, user.RoleSuperAdmin)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderOne).Return(storedOrder(orderOne, annID, order.StatusPaid, ""), nil)
	f.orders.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
	f.orders.EXPECT().GetForUpdate(gomock.Any(), orderOne).Return(storedOrder(orderOne, annID, order.StatusPaid, ""), nil)

	rec := f.call(http.MethodPatch, "/api/orders/"+orderOne+"/status", customer, `{"status":"shipped"}`)
	assert.Equal(t, http.StatusForbidden, rec.Code)

	rec = f.call(http.MethodPatch, "/api/orders/"+orderOne+"/status", admin, `{"status":"shipped"}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "shipped", object(t, rec)["status"])

	rec = f.call(http.MethodPatch, "/api/orders/"+orderOne+"/status", admin, `{"status":"delivered"}`)
	require.Equal(t, http.StatusConflict, rec.Code, rec.Body.String())
	assert.Equal(t, "conflict", decodeProblem(t, rec).Code)

	rec = f.call(http.MethodPatch, "/api/orders/"+orderOne+"/status", admin, `{"status":"teleported"}`)
	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	assert.Equal(t, []string{"status"}, fieldNames(decodeProblem(t, rec)))

	rec = f.call(http.MethodPatch, "/api/orders/nope/status", admin, `{"status":"shipped"}`)
	assert.Equal(t, http.StatusNotFound, rec.Code)
}
