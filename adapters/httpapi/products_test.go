package httpapi_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	upstream "github.com/ultramarket/gateway/adapters/catalogclient"
	"github.com/ultramarket/gateway/adapters/requestid"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

func TestProducts_ListIsAPageOfProducts(t *testing.T) {
	f := newCommerce(t)
	f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Q: "phone", Category: "phones", SellerID: bobID, Page: 2, PageSize: 5}, gomock.Any()).
		DoAndReturn(func(ctx context.Context, _ ports.ProductQuery, c user.Actor) (ports.ProductPage, error) {
			assert.Equal(t, user.Actor{}, c, "anonymous")
			assert.Equal(t, "list-1", requestid.FromContext(ctx), "the request id travels to the catalog")
			return ports.ProductPage{Items: []*product.Product{storedProduct(phoneID, bobID, 1_500_000, 7, true)}, Total: 6}, nil
		})

	rec := f.call(http.MethodGet, "/api/products?q=phone&category=phones&seller_id="+bobID+"&page=2&page_size=5", "", "",
		"X-Request-ID", "list-1")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, pageKeys, keysOf(body))
	assert.Equal(t, float64(2), body["page"])
	assert.Equal(t, float64(5), body["page_size"])
	assert.Equal(t, float64(6), body["total"])
	items := body["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, productKeys, keysOf(items[0]))
	p := items[0].(map[string]any)
	assert.Equal(t, phoneID, p["id"])
	assert.Equal(t, float64(1_500_000), p["price"])
	assert.Equal(t, "UZS", p["currency"])
	assert.Equal(t, float64(7), p["stock"])
	assert.Equal(t, bobID, p["seller_id"])
	assert.Equal(t, true, p["active"])
	assert.Contains(t, rec.Header().Values("Vary"), "Authorization")
}

func TestProducts_ListDefaultsAndEmptyList(t *testing.T) {
	f := newCommerce(t)
	f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Page: 1, PageSize: 20}, gomock.Any()).Return(ports.ProductPage{}, nil).Times(2)
	for _, path := range []string{"/api/products", "/api/products?q=&category=&seller_id=&page=&page_size="} {
		rec := f.call(http.MethodGet, path, "", "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{"items":[],"page":1,"page_size":20,"total":0}`, rec.Body.String(), path)
	}
}

func TestProducts_ListBadParamsAre422NamingThem(t *testing.T) {
	f := newCommerce(t) // List is never reached
	cases := map[string][]string{
		"page=abc":                  {"page"},
		"page=1.5":                  {"page"},
		"page=0":                    {"page"},
		"page=99999999999999999999": {"page"},
		"page_size=101":             {"page_size"},
		"page_size=0":               {"page_size"},
		"page_size=x":               {"page_size"},
		"seller_id=bob":             {"seller_id"},
		"page=1&page=2":             {"page"},
		"page=x&page_size=y":        {"page", "page_size"},
	}
	for query, fields := range cases {
		t.Run(query, func(t *testing.T) {
			rec := f.call(http.MethodGet, "/api/products?"+query, "", "")
			assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, query)
			p := decodeProblem(t, rec)
			assert.Equal(t, "validation_failed", p.Code, query)
			assert.Equal(t, fields, fieldNames(p), query)
		})
	}
}

func TestProducts_ListWithABearerShowsTheCallersInactiveProducts(t *testing.T) {
	f := newCommerce(t)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	admin := f.bearer(annID, otherSID, user.RoleAdmin)
	gomock.InOrder(
		f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Page: 1, PageSize: 20, InactiveOfSeller: bobID}, gomock.Any()).Return(ports.ProductPage{}, nil),
		f.catalog.EXPECT().List(gomock.Any(), ports.ProductQuery{Page: 1, PageSize: 20, IncludeInactive: true}, gomock.Any()).Return(ports.ProductPage{}, nil),
	)
	rec := f.call(http.MethodGet, "/api/products", seller, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "private, no-store", rec.Header().Get("Cache-Control"))
	rec = f.call(http.MethodGet, "/api/products", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
}

func TestProducts_AnInvalidBearerIs401NotAnonymous(t *testing.T) {
	f := newCommerce(t) // the catalog is never asked
	f.tokens.EXPECT().ParseAccess("forged").Return(ports.AccessClaims{}, session.ErrTokenInvalid).Times(2)
	for _, path := range []string{"/api/products", "/api/products/" + phoneID} {
		rec := f.call(http.MethodGet, path, "forged", "")
		require.Equal(t, http.StatusUnauthorized, rec.Code, path)
		assert.Equal(t, "unauthorized", decodeProblem(t, rec).Code)
	}
}

func TestProducts_GetOne(t *testing.T) {
	f := newCommerce(t)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil)
	rec := f.call(http.MethodGet, "/api/products/"+phoneID, "", "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, productKeys, keysOf(object(t, rec)))
}

func TestProducts_InactiveIsNotFoundToOthersButVisibleToItsSeller(t *testing.T) {
	f := newCommerce(t)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	other := f.bearer(annID, otherSID, user.RoleSeller)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, false), nil).Times(3)

	assert.Equal(t, http.StatusNotFound, f.call(http.MethodGet, "/api/products/"+phoneID, "", "").Code)
	assert.Equal(t, http.StatusNotFound, f.call(http.MethodGet, "/api/products/"+phoneID, other, "").Code)
	rec := f.call(http.MethodGet, "/api/products/"+phoneID, seller, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, false, object(t, rec)["active"])
}

func TestProducts_NonUUIDIdIs404BeforeTheCatalog(t *testing.T) {
	f := newCommerce(t) // no catalog call
	admin := f.bearer(annID, sessionID, user.RoleAdmin)
	for _, r := range []struct{ method, body string }{
		{http.MethodGet, ""},
		{http.MethodPut, `{"name":"x","description":"","category":"c","price":1,"stock":1}`},
		{http.MethodDelete, ""},
	} {
		t.Run(r.method, func(t *testing.T) {
			rec := f.call(r.method, "/api/products/not-a-uuid", admin, r.body)
			assert.Equal(t, http.StatusNotFound, rec.Code, r.method)
			assert.Equal(t, "not_found", decodeProblem(t, rec).Code, r.method)
		})
	}
}

func TestProducts_CreateBySellerOwnsTheProductAndDefaultsActive(t *testing.T) {
	f := newCommerce(t)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	f.catalog.EXPECT().Create(gomock.Any(), product.Draft{
		Name: "Phone", Description: "", Category: "phones", SellerID: bobID, Price: 1_500_000, Stock: 3, Active: true,
	}, gomock.Any()).DoAndReturn(func(_ any, d product.Draft, c user.Actor) (*product.Product, error) {
		assert.Equal(t, bobID, c.ID)
		assert.Equal(t, user.RoleSeller, c.Role)
		return storedProduct(phoneID, d.SellerID, d.Price, d.Stock, d.Active), nil
	})

	rec := f.call(http.MethodPost, "/api/products", seller, `{"name":"Phone","description":"","category":"phones","price":1500000,"stock":3}`)

	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
	assert.Equal(t, "/api/products/"+phoneID, rec.Header().Get("Location"))
	body := object(t, rec)
	assert.Equal(t, productKeys, keysOf(body))
	assert.Equal(t, bobID, body["seller_id"])
}

func TestProducts_CreateRefusals(t *testing.T) {
	f := newCommerce(t) // the catalog is never reached
	customer := f.bearer(annID, otherSID, user.RoleCustomer)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	const valid = `"name":"Phone","description":"","category":"phones","price":100,"stock":1`
	cases := []struct {
		name, token, body string
		status            int
		code              string
		fields            []string
	}{
		{"no token", "", `{` + valid + `}`, 401, "unauthorized", nil},
		{"customer", customer, `{` + valid + `}`, 403, "forbidden", nil},
		{"seller naming another seller", seller, `{` + valid + `,"seller_id":"` + annID + `"}`, 403, "forbidden", nil},
		{"price and stock missing", seller, `{"name":"Phone","description":"","category":"phones"}`, 422, "validation_failed", []string{"price", "stock"}},
		{"description missing", seller, `{"name":"Phone","category":"phones","price":100,"stock":1}`, 422, "validation_failed", []string{"description"}},
		{"description null", seller, `{"name":"Phone","description":null,"category":"phones","price":100,"stock":1}`, 422, "validation_failed", []string{"description"}},
		{"every required field missing", seller, `{}`, 422, "validation_failed", []string{"description", "price", "stock"}},
		{"price zero", seller, `{"name":"Phone","description":"","category":"phones","price":0,"stock":1}`, 422, "validation_failed", []string{"price"}},
		{"price over 10^12", seller, `{"name":"Phone","description":"","category":"phones","price":1000000000001,"stock":1}`, 422, "validation_failed", []string{"price"}},
		{"price a float", seller, `{"name":"Phone","description":"","category":"phones","price":1.5,"stock":1}`, 422, "validation_failed", []string{"price"}},
		{"price a string", seller, `{"name":"Phone","description":"","category":"phones","price":"100","stock":1}`, 422, "validation_failed", []string{"price"}},
		{"stock negative", seller, `{"name":"Phone","description":"","category":"phones","price":1,"stock":-1}`, 422, "validation_failed", []string{"stock"}},
		{"stock over 10^6", seller, `{"name":"Phone","description":"","category":"phones","price":1,"stock":1000001}`, 422, "validation_failed", []string{"stock"}},
		{"empty name and category", seller, `{"name":" ","description":"","category":"","price":1,"stock":1}`, 422, "validation_failed", []string{"name", "category"}},
		{"unknown field", seller, `{` + valid + `,"colour":"red"}`, 422, "validation_failed", []string{"colour"}},
		{"malformed", seller, `{"name":`, 400, "bad_request", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.call(http.MethodPost, "/api/products", c.token, c.body)
			require.Equal(t, c.status, rec.Code, "%s: %s", c.name, rec.Body.String())
			p := decodeProblem(t, rec)
			assert.Equal(t, c.code, p.Code, c.name)
			if c.fields != nil {
				assert.Equal(t, c.fields, fieldNames(p), c.name)
			}
		})
	}
}

func TestProducts_AdminCreatesForAnySellerAndInactive(t *testing.T) {
	f := newCommerce(t)
	admin := f.bearer(annID, sessionID, user.RoleAdmin)
	f.catalog.EXPECT().Create(gomock.Any(), product.Draft{Name: "Case", Category: "cases", SellerID: bobID, Price: 100, Stock: 0, Active: false}, gomock.Any()).
		Return(storedProduct(caseID, bobID, 100, 0, false), nil)
	rec := f.call(http.MethodPost, "/api/products", admin, `{"name":"Case","description":"","category":"cases","price":100,"stock":0,"active":false,"seller_id":"`+bobID+`"}`)
	require.Equal(t, http.StatusCreated, rec.Code, rec.Body.String())
}

func TestProducts_ReplaceOwnOnly(t *testing.T) {
	f := newCommerce(t)
	owner := f.bearer(bobID, sessionID, user.RoleSeller)
	other := f.bearer(annID, otherSID, user.RoleSeller)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).Return(storedProduct(phoneID, bobID, 100, 1, true), nil).Times(2)
	f.catalog.EXPECT().Replace(gomock.Any(), phoneID, product.Draft{Name: "Phone 2", Category: "phones", SellerID: bobID, Price: 200, Stock: 2, Active: true}, gomock.Any()).
		Return(storedProduct(phoneID, bobID, 200, 2, true), nil)
	const body = `{"name":"Phone 2","description":"","category":"phones","price":200,"stock":2}`

	rec := f.call(http.MethodPut, "/api/products/"+phoneID, other, body)
	require.Equal(t, http.StatusForbidden, rec.Code, rec.Body.String())
	assert.Equal(t, "forbidden", decodeProblem(t, rec).Code)

	rec = f.call(http.MethodPut, "/api/products/"+phoneID, owner, body)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, float64(200), object(t, rec)["price"])
}

func TestProducts_ReplaceWithoutDescriptionIsRefusedBeforeTheCatalog(t *testing.T) {
	f := newCommerce(t) // no catalog call: the text must not be wiped by a forgotten field
	owner := f.bearer(bobID, sessionID, user.RoleSeller)

	rec := f.call(http.MethodPut, "/api/products/"+phoneID, owner, `{"name":"Phone 2","category":"phones","price":200,"stock":2}`)

	require.Equal(t, http.StatusUnprocessableEntity, rec.Code, rec.Body.String())
	p := decodeProblem(t, rec)
	assert.Equal(t, "validation_failed", p.Code)
	assert.Equal(t, []string{"description"}, fieldNames(p))
}

func TestProducts_DeleteIsForAdmins(t *testing.T) {
	f := newCommerce(t)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	admin := f.bearer(annID, otherSID, user.RoleSuperAdmin)
	f.catalog.EXPECT().Delete(gomock.Any(), phoneID, gomock.Any()).Return(nil)
	f.catalog.EXPECT().Delete(gomock.Any(), caseID, gomock.Any()).Return(product.ErrNotFound)

	rec := f.call(http.MethodDelete, "/api/products/"+phoneID, seller, "")
	assert.Equal(t, http.StatusForbidden, rec.Code)
	rec = f.call(http.MethodDelete, "/api/products/"+phoneID, admin, "")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Empty(t, rec.Body.String())
	rec = f.call(http.MethodDelete, "/api/products/"+caseID, admin, "")
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

func TestProducts_UpstreamAnswersPassThrough(t *testing.T) {
	f := newCommerce(t)
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	f.catalog.EXPECT().Get(gomock.Any(), phoneID, gomock.Any()).
		Return(nil, &upstream.UpstreamProblem{Status: 410, Code: "product_retired", Title: "Gone", Detail: "Retired in 2024."})
	f.catalog.EXPECT().Create(gomock.Any(), gomock.Any(), gomock.Any()).
		Return(nil, &upstream.UpstreamProblem{Status: 422, Code: "validation_failed", Title: "Validation failed",
			Errors: []upstream.FieldError{{Field: "category", Message: "unknown category"}}})
	f.catalog.EXPECT().Get(gomock.Any(), caseID, gomock.Any()).Return(nil, domain.ErrUpstreamUnavailable)

	rec := f.call(http.MethodGet, "/api/products/"+phoneID, "", "")
	require.Equal(t, 410, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "product_retired", p.Code)
	assert.Equal(t, "Gone", p.Title)
	assert.Equal(t, "Retired in 2024.", p.Detail)
	assert.Equal(t, "https://ultramarket.uz/problems/product-retired", p.Type)

	rec = f.call(http.MethodPost, "/api/products", seller, `{"name":"Phone","description":"","category":"nope","price":1,"stock":1}`)
	require.Equal(t, 422, rec.Code)
	p = decodeProblem(t, rec)
	assert.Equal(t, "validation_failed", p.Code)
	assert.Equal(t, []string{"category"}, fieldNames(p))
	assert.Equal(t, "1 field is invalid", p.Detail)

	rec = f.call(http.MethodGet, "/api/products/"+caseID, "", "")
	require.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "upstream_unavailable", decodeProblem(t, rec).Code)
}
