package e2e

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi/openapi"
	"github.com/ultramarket/gateway/test/testapp"
)

// openAPIContract is the OpenAPI document (the embedded one, which
// /api/openapi.json serves), loaded and routed once for every test of the
// package.
type openAPIContract struct {
	doc    *openapi3.T
	router routers.Router
}

var loadOpenAPIContract = sync.OnceValues(func() (*openAPIContract, error) {
	doc, err := openapi3.NewLoader().LoadFromData(openapi.Spec().Body)
	if err != nil {
		return nil, err
	}
	if err := doc.Validate(context.Background()); err != nil {
		return nil, err
	}
	router, err := gorillamux.NewRouter(doc)
	if err != nil {
		return nil, err
	}
	// The docs page, read as text.
	openapi3filter.RegisterBodyDecoder("text/html", openapi3filter.PlainBodyDecoder)
	return &openAPIContract{doc: doc, router: router}, nil
})

// openAPIOptions: every status must be documented, every error is reported,
// and ids documented as uuid must be UUIDs in their canonical 36-character form.
var openAPIOptions = &openapi3filter.Options{
	IncludeResponseStatus: true,
	MultiError:            true,
	SchemaValidationOptions: []openapi3.SchemaValidationOption{
		openapi3.WithStringFormatValidator("uuid", openapi3.NewCallbackValidator(func(s string) error {
			if len(s) != 36 {
				return fmt.Errorf("not a canonical UUID: %q", s)
			}
			return uuid.Validate(s)
		})),
	},
}

// validateResponse checks one real response of the public listener against
// the OpenAPI document: that method and path (query included, e.g.
// "/api/orders?page=2") are documented, and that status, headers and body
// are what the document says for them. A 404 on a path the document does
// not have, and a 405 on a documented path with another method, are checked
// against the document's NotFound and MethodNotAllowed responses.
//
// Other tests can call it on any response they already have:
//
//	resp, body := get(t, a.BaseURL+"/api/auth/me", bearer)
//	validateResponse(t, http.MethodGet, "/api/auth/me", resp.StatusCode, resp.Header, body)
func validateResponse(t *testing.T, method, path string, status int, header http.Header, body []byte) {
	t.Helper()
	assert.NoError(t, checkResponse(method, path, status, header, body),
		"%s %s → %d does not match the OpenAPI document\nheaders: %v\nbody: %s",
		method, path, status, header, truncateBody(body))
}

// checkResponse is validateResponse's check, returning what does not match.
func checkResponse(method, path string, status int, header http.Header, body []byte) error {
	c, err := loadOpenAPIContract()
	if err != nil {
		return fmt.Errorf("load the OpenAPI document: %w", err)
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, nil)
	route, pathParams, err := c.router.FindRoute(req)
	switch {
	case err == nil:
	case errors.Is(err, routers.ErrPathNotFound) && status == http.StatusNotFound:
		route, err = c.componentRoute(req, status, "NotFound")
	case errors.Is(err, routers.ErrMethodNotAllowed) && status == http.StatusMethodNotAllowed:
		route, err = c.componentRoute(req, status, "MethodNotAllowed")
	default:
		return fmt.Errorf("%s %s (answered %d) is not in the OpenAPI document: %w", method, path, status, err)
	}
	if err != nil {
		return err
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{
			Request: req, PathParams: pathParams, Route: route, Options: openAPIOptions,
		},
		Status:  status,
		Header:  header,
		Options: openAPIOptions,
	}
	input.SetBodyBytes(body)
	return openapi3filter.ValidateResponse(context.Background(), input)
}

// componentRoute is a stand-in route whose only response is the document's
// components.responses[name], for answers no operation owns.
func (c *openAPIContract) componentRoute(req *http.Request, status int, name string) (*routers.Route, error) {
	ref := c.doc.Components.Responses[name]
	if ref == nil {
		return nil, fmt.Errorf("the document has no components.responses.%s", name)
	}
	op := openapi3.NewOperation()
	op.Responses = openapi3.NewResponses(openapi3.WithStatus(status, ref))
	return &routers.Route{Spec: c.doc, Path: req.URL.Path, Method: req.Method, Operation: op}, nil
}

func truncateBody(b []byte) string {
	if len(b) > 2000 {
		return string(b[:2000]) + "…"
	}
	return string(b)
}

// oaDo sends one request to the app and returns the answer, read.
func oaDo(t *testing.T, method, url string, header map[string]string, body any) (*answer, []byte) {
	t.Helper()
	var r io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		require.NoError(t, err)
		r = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, url, r)
	require.NoError(t, err)
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answerOf(resp), out
}

// oaCheck sends a request and validates the answer against the document.
func oaCheck(t *testing.T, a *testapp.RunningApp, method, path string, header map[string]string, body any, wantStatus int) []byte {
	t.Helper()
	resp, out := oaDo(t, method, a.BaseURL+path, header, body)
	require.Equal(t, wantStatus, resp.StatusCode, "%s %s: %s", method, path, truncateBody(out))
	validateResponse(t, method, path, resp.StatusCode, resp.Header, out)
	return out
}

// oaCheckBig sends a GET with a body over the 1 MiB limit and validates the
// 413 against the document.
func oaCheckBig(t *testing.T, a *testapp.RunningApp, path string) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, a.BaseURL+path,
		bytes.NewReader(make([]byte, 1<<20+1)))
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode, "GET %s with a 1 MiB body: %s", path, truncateBody(out))
	validateResponse(t, http.MethodGet, path, resp.StatusCode, resp.Header, out)
}

func TestOpenAPI_RealResponsesMatchTheDocument(t *testing.T) {
	a := testapp.StartApp(t, testapp.Config(t), "")

	oaCheck(t, a, http.MethodGet, "/health", nil, nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/health/ready", nil, nil, http.StatusOK)
	spec := oaCheck(t, a, http.MethodGet, "/api/openapi.json", nil, nil, http.StatusOK)
	assert.Equal(t, openapi.Spec().Body, spec, "the served document is the embedded one")
	oaCheck(t, a, http.MethodGet, "/docs", nil, nil, http.StatusOK)
	// The page's files are served but are no API routes: not in the document,
	// and a missing one is the document's ordinary 404.
	resp, _ := oaDo(t, http.MethodGet, a.BaseURL+"/docs/init.js", nil, nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	oaCheck(t, a, http.MethodGet, "/docs/no-such-asset.js", nil, nil, http.StatusNotFound)
	// Every route refuses a body over 1 MiB, the probes and the documents
	// included, as the document says.
	for _, path := range []string{"/health", "/health/ready", "/api/openapi.json", "/docs"} {
		oaCheckBig(t, a, path)
	}

	email := "oa-" + strings.ToLower(uuid.NewString()[:8]) + "@example.uz"
	password := "openapi-Contract-42"
	body := oaCheck(t, a, http.MethodPost, "/api/auth/register", nil, map[string]any{
		"email": email, "password": password, "full_name": "Document Checker",
	}, http.StatusCreated)
	var reg struct {
		User struct {
			Phone *string `json:"phone"`
		} `json:"user"`
		Tokens struct {
			AccessToken string `json:"access_token"`
		} `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal(body, &reg))
	assert.Nil(t, reg.User.Phone, "phone is null when not given")
	bearer := map[string]string{"Authorization": "Bearer " + reg.Tokens.AccessToken}

	oaCheck(t, a, http.MethodPost, "/api/auth/register", nil, map[string]any{
		"email": email, "password": password, "full_name": "Again",
	}, http.StatusConflict)
	oaCheck(t, a, http.MethodPost, "/api/auth/register", nil, map[string]any{
		"email": "x@example.uz", "password": password, "full_name": "X", "nickname": "unknown field",
	}, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodPost, "/api/auth/login", nil, map[string]any{
		"email": email, "password": "not-the-password-1",
	}, http.StatusUnauthorized)
	oaCheck(t, a, http.MethodPost, "/api/auth/login", nil, map[string]any{
		"email": email, "password": password,
	}, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/auth/me", bearer, nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/auth/me", nil, nil, http.StatusUnauthorized)
	oaCheck(t, a, http.MethodGet, "/api/auth/sessions", bearer, nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/admin/users", bearer, nil, http.StatusForbidden)
	oaCheck(t, a, http.MethodDelete, "/api/auth/sessions/"+uuid.NewString(), bearer, nil, http.StatusNotFound)

	// Answers no operation owns: an unknown path, a known path with another method.
	oaCheck(t, a, http.MethodGet, "/api/no-such-route", nil, nil, http.StatusNotFound)
	oaCheck(t, a, http.MethodDelete, "/api/auth/me", bearer, nil, http.StatusMethodNotAllowed)

	oaCheck(t, a, http.MethodPost, "/api/auth/logout", bearer, nil, http.StatusNoContent)
	oaCheck(t, a, http.MethodGet, "/api/auth/me", bearer, nil, http.StatusUnauthorized)
}

// The check must refuse what the document does not allow: a helper that
// accepted anything would let every caller pass unnoticed.
func TestOpenAPI_ValidateResponseRefusesDrift(t *testing.T) {
	h := http.Header{}
	h.Set("Content-Type", "application/json")
	h.Set("X-Request-ID", "abc")
	h.Set("Cache-Control", "no-store")
	problem := http.Header{}
	problem.Set("Content-Type", "application/problem+json")
	problem.Set("X-Request-ID", "abc")
	textPlain := h.Clone()
	textPlain.Set("Content-Type", "text/plain")
	ok := `{"status":"ok"}`
	require.NoError(t, checkResponse(http.MethodGet, "/health", 200, h, []byte(ok)), "the baseline passes")

	cases := map[string]struct {
		method, path string
		status       int
		header       http.Header
		body         string
	}{
		"undocumented field":   {http.MethodGet, "/health", 200, h, `{"status":"ok","uptime":1}`},
		"wrong enum":           {http.MethodGet, "/health", 200, h, `{"status":"fine"}`},
		"undocumented status":  {http.MethodGet, "/health", 201, h, ok},
		"missing X-Request-ID": {http.MethodGet, "/health", 200, http.Header{"Content-Type": {"application/json"}, "Cache-Control": {"no-store"}}, ok},
		"wrong content type":   {http.MethodGet, "/health", 200, textPlain, ok},
		"undocumented path":    {http.MethodGet, "/api/nowhere", 200, h, `{}`},
		"latency as a string": {http.MethodGet, "/health/ready", 200, h,
			`{"status":"ok","checks":{"postgres":{"status":"ok","latency_ms":"1"},"redis":{"status":"ok","latency_ms":0.5}}}`},
		"problem without code": {http.MethodGet, "/api/no-such-route", 404, problem,
			`{"type":"https://ultramarket.uz/problems/not-found","title":"Not found","status":404,"detail":"x","request_id":"abc"}`},
		"problem with another status's code": {http.MethodGet, "/api/no-such-route", 404, problem,
			`{"type":"https://ultramarket.uz/problems/conflict","title":"Conflict","status":404,"code":"conflict","detail":"x","request_id":"abc"}`},
		"id that is not a uuid": {http.MethodGet, "/api/auth/me", 200, h,
			`{"user":{"id":"42","email":"a@b.uz","full_name":"A","phone":null,"role":"customer","status":"active","created_at":"2025-06-01T12:00:00Z"}}`},
		"money as a float":        {http.MethodGet, "/api/cart", 200, h, `{"items":[],"total":1.5,"currency":"UZS"}`},
		"currency other than UZS": {http.MethodGet, "/api/cart", 200, h, `{"items":[],"total":0,"currency":"USD"}`},
	}
	require.NoError(t, checkResponse(http.MethodGet, "/api/cart", 200, h, []byte(`{"items":[],"total":0,"currency":"UZS"}`)))
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			err := checkResponse(tc.method, tc.path, tc.status, tc.header, []byte(tc.body))
			assert.Error(t, err, name)
		})
	}
}

// oaRaw sends a raw body (a webhook's) and returns the answer, read.
func oaRaw(t *testing.T, method, url, contentType string, header map[string]string, body []byte) (*answer, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), method, url, bytes.NewReader(body))
	require.NoError(t, err)
	req.Header.Set("Content-Type", contentType)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	out, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answerOf(resp), out
}

// The commerce, payment and analytics routes, and the two gateways'
// webhooks, answer what the document says, errors included.
func TestOpenAPI_CommerceResponsesMatchTheDocument(t *testing.T) {
	g := newPayGateway(t)
	a := g.RunningApp
	admin := g.newAccount(t, roleAdmin)
	seller := g.newAccount(t, roleSeller)
	buyer := g.newAccount(t, roleCustomer)
	as := func(acc account) map[string]string { return map[string]string{"Authorization": "Bearer " + acc.Access} }
	id := func(body []byte) string {
		var v struct {
			ID string `json:"id"`
		}
		require.NoError(t, json.Unmarshal(body, &v), string(body))
		require.NotEmpty(t, v.ID, string(body))
		return v.ID
	}

	// Products.
	product := map[string]any{"name": "Suzani pillow", "description": "Hand-embroidered", "category": "textile", "price": 12_500_000, "stock": 20}
	productID := id(oaCheck(t, a, http.MethodPost, "/api/products", as(seller), product, http.StatusCreated))
	oaCheck(t, a, http.MethodPost, "/api/products", as(buyer), product, http.StatusForbidden)
	oaCheck(t, a, http.MethodGet, "/api/products?page=1&page_size=5&category=textile", nil, nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/products?page_size=0", nil, nil, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/products/"+productID, nil, nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/products/"+uuid.NewString(), nil, nil, http.StatusNotFound)
	product["stock"] = 30
	oaCheck(t, a, http.MethodPut, "/api/products/"+productID, as(seller), product, http.StatusOK)
	spare := id(oaCheck(t, a, http.MethodPost, "/api/products", as(admin), product, http.StatusCreated))
	oaCheck(t, a, http.MethodDelete, "/api/products/"+spare, as(admin), nil, http.StatusNoContent)

	// Cart.
	oaCheck(t, a, http.MethodPut, "/api/cart/items/"+productID, as(buyer), map[string]any{"quantity": 2}, http.StatusOK)
	oaCheck(t, a, http.MethodPut, "/api/cart/items/"+productID, as(buyer), map[string]any{"quantity": 101}, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/cart", as(buyer), nil, http.StatusOK)
	oaCheck(t, a, http.MethodDelete, "/api/cart/items/"+productID, as(buyer), nil, http.StatusOK)
	oaCheck(t, a, http.MethodPut, "/api/cart/items/"+productID, as(buyer), map[string]any{"quantity": 1}, http.StatusOK)
	oaCheck(t, a, http.MethodDelete, "/api/cart", as(buyer), nil, http.StatusNoContent)

	// Orders.
	shipTo := map[string]any{"region": "Toshkent", "city": "Toshkent", "street": "Amir Temur 1", "phone": "+998901234567"}
	order := map[string]any{"items": []map[string]any{{"product_id": productID, "quantity": 1}}, "shipping_address": shipTo, "note": "OpenAPI"}
	key := map[string]string{"Authorization": "Bearer " + buyer.Access, "Idempotency-Key": "oa-" + uuid.NewString()}
	orderID := id(oaCheck(t, a, http.MethodPost, "/api/orders", key, order, http.StatusCreated))
	oaCheck(t, a, http.MethodPost, "/api/orders", key, order, http.StatusCreated) // the replay
	order["note"] = "another body"
	oaCheck(t, a, http.MethodPost, "/api/orders", key, order, http.StatusConflict)
	oaCheck(t, a, http.MethodPost, "/api/orders", as(buyer), map[string]any{
		"items": []map[string]any{{"product_id": productID, "quantity": 100}}, "shipping_address": shipTo,
	}, http.StatusConflict)
	oaCheck(t, a, http.MethodGet, "/api/orders?status=pending_payment", as(buyer), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/orders?status=lost", as(buyer), nil, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/orders/"+orderID, as(buyer), nil, http.StatusOK)
	oaCheck(t, a, http.MethodGet, "/api/orders/"+orderID, as(seller), nil, http.StatusNotFound)
	oaCheck(t, a, http.MethodPatch, "/api/orders/"+orderID+"/status", as(admin), map[string]any{"status": "shipped"}, http.StatusConflict)

	// Payments: a link, the transactions, and Payme paying the order.
	oaCheck(t, a, http.MethodPost, "/api/payments", as(buyer), map[string]any{"order_id": orderID, "provider": "payme"}, http.StatusCreated)
	oaCheck(t, a, http.MethodPost, "/api/payments", as(buyer), map[string]any{"order_id": orderID, "provider": "cash"}, http.StatusUnprocessableEntity)
	basic := map[string]string{"Authorization": "Basic " + base64.StdEncoding.EncodeToString([]byte("Paycom:"+payPaymeKey))}
	payme := func(method string, params map[string]any, header map[string]string) []byte {
		body, err := json.Marshal(map[string]any{"method": method, "params": params, "id": 7})
		require.NoError(t, err)
		resp, out := oaRaw(t, http.MethodPost, a.BaseURL+"/api/payments/payme", "text/json; charset=UTF-8", header, body)
		require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
		validateResponse(t, http.MethodPost, "/api/payments/payme", resp.StatusCode, resp.Header, out)
		return out
	}
	account := map[string]any{"order_id": orderID}
	payme("CheckPerformTransaction", map[string]any{"amount": 12_500_000, "account": account}, basic)
	payme("CheckPerformTransaction", map[string]any{"amount": 1, "account": account}, basic)
	paymeID := strings.ReplaceAll(uuid.NewString(), "-", "")[:24]
	now := time.Now().UnixMilli()
	payme("CreateTransaction", map[string]any{"id": paymeID, "time": now, "amount": 12_500_000, "account": account}, basic)
	payme("CheckTransaction", map[string]any{"id": paymeID}, basic)
	payme("PerformTransaction", map[string]any{"id": paymeID}, basic)
	payme("GetStatement", map[string]any{"from": now - 1000, "to": now + 1000}, basic)
	payme("ChangePassword", map[string]any{"password": "x"}, basic)
	// An order whose every line has its fiscal identity: CheckPerformTransaction
	// answers {"allow": true, "detail": {...}} (API.md, "Fiscal receipts").
	fiscalProduct := map[string]any{"name": "Rishton lagan", "description": "", "category": "ceramics", "price": 4_500_000,
		"stock": 5, "ikpu_code": "06912001001000000", "package_code": "1500447", "unit_code": 796}
	fiscalProductID := id(oaCheck(t, a, http.MethodPost, "/api/products", as(seller), fiscalProduct, http.StatusCreated))
	fiscalOrderID := id(oaCheck(t, a, http.MethodPost, "/api/orders", as(buyer), map[string]any{
		"items": []map[string]any{{"product_id": fiscalProductID, "quantity": 2}}, "shipping_address": shipTo,
	}, http.StatusCreated))
	allowed := payme("CheckPerformTransaction", map[string]any{"amount": 9_000_000, "account": map[string]any{"order_id": fiscalOrderID}}, basic)
	assert.Contains(t, string(allowed), `"result":{"allow":true,"detail":{"receipt_type":0,`, "the answer validated carries the fiscal detail")
	payme("CheckTransaction", map[string]any{"id": paymeID}, nil)
	resp, out := oaRaw(t, http.MethodPost, a.BaseURL+"/api/payments/payme", "application/json", basic, []byte("not json"))
	validateResponse(t, http.MethodPost, "/api/payments/payme", resp.StatusCode, resp.Header, out)
	oaCheck(t, a, http.MethodGet, "/api/payments?order_id="+orderID, as(buyer), nil, http.StatusOK)
	oaCheck(t, a, http.MethodPost, "/api/payments", as(buyer), map[string]any{"order_id": orderID, "provider": "click"}, http.StatusConflict)
	oaCheck(t, a, http.MethodPatch, "/api/orders/"+orderID+"/status", as(admin), map[string]any{"status": "shipped"}, http.StatusOK)

	// Click: Prepare and Complete of a second order, and a bad signature.
	second := id(oaCheck(t, a, http.MethodPost, "/api/orders", as(buyer), map[string]any{
		"items": []map[string]any{{"product_id": productID, "quantity": 2}}, "shipping_address": shipTo,
	}, http.StatusCreated))
	click := func(path string, form clickForm) clickAnswer {
		resp, out := oaRaw(t, http.MethodPost, a.BaseURL+path, "application/x-www-form-urlencoded", nil, []byte(form.Encode()))
		require.Equal(t, http.StatusOK, resp.StatusCode, string(out))
		validateResponse(t, http.MethodPost, path, resp.StatusCode, resp.Header, out)
		var ans clickAnswer
		require.NoError(t, json.Unmarshal(out, &ans))
		return ans
	}
	form := newClickForm(nextClickTransID(), second, somOf(25_000_000))
	prepared := click("/api/payments/click/prepare", form.signed(clickSecret))
	require.Zero(t, prepared.Error, "%s", prepared)
	require.NotNil(t, prepared.MerchantPrepareID)
	click("/api/payments/click/prepare", form.with("sign_string", strings.Repeat("0", 32)))
	done := click("/api/payments/click/complete", form.completing(*prepared.MerchantPrepareID, 0).signed(clickSecret))
	require.Zero(t, done.Error, "%s", done)
	click("/api/payments/click/complete", form.completing(*prepared.MerchantPrepareID, 0).signed(clickSecret)) // -4
	oaCheck(t, a, http.MethodGet, "/api/payments?order_id="+second, as(buyer), nil, http.StatusOK)             // a Click transaction
	click("/api/payments/click/complete", newClickForm(nextClickTransID(), second, "1.00").with("action", "1"))

	// A third order, cancelled by its owner.
	third := id(oaCheck(t, a, http.MethodPost, "/api/orders", as(buyer), map[string]any{
		"items": []map[string]any{{"product_id": productID, "quantity": 1}}, "shipping_address": shipTo,
	}, http.StatusCreated))
	oaCheck(t, a, http.MethodPost, "/api/orders/"+third+"/cancel", as(buyer), nil, http.StatusOK)
	oaCheck(t, a, http.MethodPost, "/api/orders/"+third+"/cancel", as(buyer), nil, http.StatusConflict)
	oaCheck(t, a, http.MethodGet, "/api/orders?user_id="+buyer.ID, as(admin), nil, http.StatusOK)

	// Admin and analytics.
	oaCheck(t, a, http.MethodGet, "/api/admin/users?role=customer&page_size=2", as(admin), nil, http.StatusOK)
	oaCheck(t, a, http.MethodPatch, "/api/admin/users/"+buyer.ID+"/role", as(admin), map[string]any{"role": "seller"}, http.StatusForbidden)
	oaCheck(t, a, http.MethodPatch, "/api/admin/users/"+seller.ID+"/status", as(admin), map[string]any{"status": "blocked"}, http.StatusOK)
	oaCheck(t, a, http.MethodPatch, "/api/admin/users/"+seller.ID+"/status", as(admin), map[string]any{"status": "gone"}, http.StatusUnprocessableEntity)
	for _, path := range []string{"/api/analytics/sales?interval=week", "/api/analytics/orders", "/api/analytics/payments", "/api/analytics/top-products?limit=5"} {
		oaCheck(t, a, http.MethodGet, path, as(admin), nil, http.StatusOK)
	}
	oaCheck(t, a, http.MethodGet, "/api/analytics/sales?interval=year", as(admin), nil, http.StatusUnprocessableEntity)
	oaCheck(t, a, http.MethodGet, "/api/analytics/orders", as(buyer), nil, http.StatusForbidden)
}

// checkRequest validates a JSON request body against what the OpenAPI
// document says the operation takes.
func checkRequest(method, path string, body []byte) error {
	c, err := loadOpenAPIContract()
	if err != nil {
		return fmt.Errorf("load the OpenAPI document: %w", err)
	}
	req := httptest.NewRequestWithContext(context.Background(), method, path, bytes.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	route, pathParams, err := c.router.FindRoute(req)
	if err != nil {
		return err
	}
	return openapi3filter.ValidateRequestBody(context.Background(), &openapi3filter.RequestValidationInput{
		Request: req, PathParams: pathParams, Route: route, Options: openAPIOptions,
	}, route.Operation.RequestBody.Value)
}

// A body the document accepts is one the service accepts, and one it refuses
// the service refuses (422) too, at the edges of the documented limits.
func TestOpenAPI_DocumentedRequestLimitsAreTheServices(t *testing.T) {
	a := testapp.StartApp(t, testapp.Config(t), "")
	register := func(fullName string) []byte {
		b, err := json.Marshal(map[string]any{
			"email": "limits-" + uuid.NewString() + "@example.uz", "password": "Tr0ub4dor&3x-limits", "full_name": fullName,
		})
		require.NoError(t, err)
		return b
	}
	for _, tc := range []struct {
		name string
		body []byte
		want int
	}{
		{"full_name of 200 characters", register(strings.Repeat("a", 200)), http.StatusCreated},
		{"full_name of 201 characters", register(strings.Repeat("a", 201)), http.StatusUnprocessableEntity},
	} {
		resp, out := oaRaw(t, http.MethodPost, a.BaseURL+"/api/auth/register", "application/json", nil, tc.body)
		require.Equal(t, tc.want, resp.StatusCode, "%s: %s", tc.name, truncateBody(out))
		docErr := checkRequest(http.MethodPost, "/api/auth/register", tc.body)
		if tc.want == http.StatusCreated {
			assert.NoError(t, docErr, "%s: the service takes it, the document must too", tc.name)
		} else {
			assert.Error(t, docErr, "%s: the service refuses it, the document must too", tc.name)
		}
	}
}
