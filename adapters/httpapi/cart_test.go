package httpapi_test

import (
	"net/http"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

const goneID = "1a2b3c4d-0000-4000-8000-00000000a0ff"

func TestCart_GetIsPricedFromTheCatalog(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return([]ports.CartLine{
		{ProductID: phoneID, Quantity: 2, AddedAt: now},
		{ProductID: caseID, Quantity: 5, AddedAt: now},
		{ProductID: goneID, Quantity: 1, AddedAt: now},
	}, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{phoneID, caseID, goneID}, gomock.Any()).Return([]*product.Product{
		storedProduct(phoneID, bobID, 150_000, 10, true),
		storedProduct(caseID, bobID, 1_000, 4, true), // 5 wanted, 4 left
	}, nil)

	rec := f.call(http.MethodGet, "/api/cart", token, "")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	body := object(t, rec)
	assert.Equal(t, cartKeys, keysOf(body))
	items := body["items"].([]any)
	require.Len(t, items, 3)
	for _, it := range items {
		assert.Equal(t, cartItemKeys, keysOf(it))
	}
	assert.JSONEq(t, `{
		"items": [
			{"product_id":"`+phoneID+`","name":"Product a001","unit_price":150000,"quantity":2,"line_total":300000,"available":true},
			{"product_id":"`+caseID+`","name":"Product a002","unit_price":1000,"quantity":5,"line_total":5000,"available":false},
			{"product_id":"`+goneID+`","name":"","unit_price":0,"quantity":1,"line_total":0,"available":false}
		],
		"total": 300000, "currency": "UZS"}`, rec.Body.String())
}

func TestCart_EmptyCartIsAnEmptyList(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleSeller) // any role has a cart
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return(nil, nil)
	rec := f.call(http.MethodGet, "/api/cart", token, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[],"total":0,"currency":"UZS"}`, rec.Body.String())
}

func TestCart_NeedsABearer(t *testing.T) {
	f := newCommerce(t)
	for _, r := range []struct{ method, path string }{
		{http.MethodGet, "/api/cart"},
		{http.MethodDelete, "/api/cart"},
		{http.MethodPut, "/api/cart/items/" + phoneID},
		{http.MethodDelete, "/api/cart/items/" + phoneID},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			rec := f.call(r.method, r.path, "", "")
			assert.Equal(t, http.StatusUnauthorized, rec.Code, r.path)
		})
	}
}

func TestCart_SetItem(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return(nil, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{phoneID}, gomock.Any()).Return([]*product.Product{storedProduct(phoneID, bobID, 150_000, 10, true)}, nil)
	f.carts.EXPECT().Set(gomock.Any(), annID, phoneID, int64(3), now).Return(nil)

	rec := f.call(http.MethodPut, "/api/cart/items/"+phoneID, token, `{"quantity":3}`)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[{"product_id":"`+phoneID+`","name":"Product a001","unit_price":150000,"quantity":3,"line_total":450000,"available":true}],
		"total":450000,"currency":"UZS"}`, rec.Body.String())
}

func TestCart_SetItemRefusals(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return(nil, nil).Times(2)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{caseID}, gomock.Any()).Return(nil, nil)
	f.catalog.EXPECT().Lookup(gomock.Any(), []string{phoneID}, gomock.Any()).Return([]*product.Product{storedProduct(phoneID, bobID, 1, 1, false)}, nil)
	cases := []struct {
		name, path, body string
		status           int
		code             string
		fields           []string
	}{
		{"no quantity", "/api/cart/items/" + phoneID, `{}`, 422, "validation_failed", []string{"quantity"}},
		{"null quantity", "/api/cart/items/" + phoneID, `{"quantity":null}`, 422, "validation_failed", []string{"quantity"}},
		{"quantity a string", "/api/cart/items/" + phoneID, `{"quantity":"2"}`, 422, "validation_failed", []string{"quantity"}},
		{"quantity over 100", "/api/cart/items/" + phoneID, `{"quantity":101}`, 422, "validation_failed", []string{"quantity"}},
		{"negative quantity", "/api/cart/items/" + phoneID, `{"quantity":-1}`, 422, "validation_failed", []string{"quantity"}},
		{"unknown field", "/api/cart/items/" + phoneID, `{"quantity":1,"price":1}`, 422, "validation_failed", []string{"price"}},
		{"non-UUID product", "/api/cart/items/phone", `{"quantity":1}`, 404, "not_found", nil},
		{"unknown product", "/api/cart/items/" + caseID, `{"quantity":1}`, 404, "not_found", nil},
		{"inactive product", "/api/cart/items/" + phoneID, `{"quantity":1}`, 422, "validation_failed", nil},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			rec := f.call(http.MethodPut, c.path, token, c.body)
			require.Equal(t, c.status, rec.Code, "%s: %s", c.name, rec.Body.String())
			p := decodeProblem(t, rec)
			assert.Equal(t, c.code, p.Code, c.name)
			if c.fields != nil {
				assert.Equal(t, c.fields, fieldNames(p), c.name)
			}
		})
	}
}

func TestCart_ZeroRemovesAndDeleteItemAnswersTheCart(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.carts.EXPECT().Remove(gomock.Any(), annID, phoneID).Return(nil).Times(2)
	f.carts.EXPECT().Lines(gomock.Any(), annID).Return(nil, nil).Times(2)

	rec := f.call(http.MethodPut, "/api/cart/items/"+phoneID, token, `{"quantity":0}`)
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[],"total":0,"currency":"UZS"}`, rec.Body.String())

	rec = f.call(http.MethodDelete, "/api/cart/items/"+phoneID, token, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[],"total":0,"currency":"UZS"}`, rec.Body.String())

	rec = f.call(http.MethodDelete, "/api/cart/items/nope", token, "")
	assert.Equal(t, http.StatusNotFound, rec.Code)
}

func TestCart_Clear(t *testing.T) {
	f := newCommerce(t)
	token := f.bearer(annID, sessionID, user.RoleCustomer)
	f.carts.EXPECT().Clear(gomock.Any(), annID).Return(nil)
	rec := f.call(http.MethodDelete, "/api/cart", token, "")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Empty(t, rec.Body.String())
}
