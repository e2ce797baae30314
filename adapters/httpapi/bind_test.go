package httpapi_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
)

type addressDTO struct {
	City  string `json:"city"`
	Phone string `json:"phone"`
}

type orderDTO struct {
	Note            *string    `json:"note"`
	Quantity        int        `json:"quantity"`
	ShippingAddress addressDTO `json:"shipping_address"`
	Items           []struct {
		ProductID string `json:"product_id"`
		Quantity  int    `json:"quantity"`
	} `json:"items"`
}

func bindServer(t *testing.T) (fixture, *orderDTO) {
	t.Helper()
	f := newFixture(t, nil)
	got := &orderDTO{}
	f.e.POST("/api/orders", func(c echo.Context) error {
		var dto orderDTO
		if err := httpapi.Bind(c, &dto); err != nil {
			return err
		}
		*got = dto
		return c.NoContent(http.StatusNoContent)
	})
	return f, got
}

func postJSON(h http.Handler, body string) *httptest.ResponseRecorder {
	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/orders", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	return serve(h, req)
}

func TestBind_Decodes(t *testing.T) {
	f, got := bindServer(t)

	rec := postJSON(f.e, `{"quantity": 3, "shipping_address": {"city": "Tashkent", "phone": "+998901234567"}, "items": [{"product_id": "p1", "quantity": 2}]}`)

	require.Equal(t, http.StatusNoContent, rec.Code, rec.Body.String())
	assert.Equal(t, 3, got.Quantity)
	assert.Equal(t, "Tashkent", got.ShippingAddress.City)
	assert.Nil(t, got.Note)
	require.Len(t, got.Items, 1)
	assert.Equal(t, 2, got.Items[0].Quantity)
}

func TestBind_EmptyBodyIsAnEmptyObject(t *testing.T) {
	f, _ := bindServer(t)
	for _, body := range []string{"", "  \n", "{}"} {
		assert.Equal(t, http.StatusNoContent, postJSON(f.e, body).Code, "%q", body)
	}
}

func TestBind_MalformedIsBadRequest(t *testing.T) {
	f, _ := bindServer(t)
	for name, body := range map[string]string{
		"syntax error":    `{"quantity": 3,}`,
		"truncated":       `{"quantity": 3`,
		"trailing data":   `{"quantity": 3} {"quantity": 4}`,
		"trailing junk":   `{"quantity": 3}x`,
		"array":           `[{"quantity": 3}]`,
		"string":          `"hello"`,
		"null":            `null`,
		"not json at all": `quantity=3`,
	} {
		t.Run(name, func(t *testing.T) {
			rec := postJSON(f.e, body)
			assert.Equal(t, http.StatusBadRequest, rec.Code, name)
			assert.Equal(t, "bad_request", decodeProblem(t, rec).Code, name)
		})
	}
}

func TestBind_UnknownFieldIs422NamingIt(t *testing.T) {
	f, _ := bindServer(t)

	rec := postJSON(f.e, `{"quantity": 1, "price": 100}`)

	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "validation_failed", p.Code)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "price", p.Errors[0].Field)
	assert.Equal(t, "unknown field", p.Errors[0].Message)
}

func TestBind_WrongTypeIs422NamingTheField(t *testing.T) {
	f, _ := bindServer(t)
	cases := []struct {
		body, field, message string
	}{
		{`{"quantity": "three"}`, "quantity", "must be an integer"},
		{`{"quantity": 1.5}`, "quantity", "must be a whole number within range"},
		{`{"quantity": 99999999999999999999}`, "quantity", "must be a whole number within range"},
		{`{"note": 5}`, "note", "must be a string"},
		{`{"shipping_address": {"phone": 998901234567}}`, "shipping_address.phone", "must be a string"},
		{`{"shipping_address": "Tashkent"}`, "shipping_address", "must be an object"},
		{`{"items": {"product_id": "p1"}}`, "items", "must be an array"},
		{`{"items": [{"quantity": 1}, {"quantity": "2"}]}`, "items[1].quantity", "must be an integer"},
	}
	for _, tc := range cases {
		t.Run(tc.body, func(t *testing.T) {
			rec := postJSON(f.e, tc.body)
			assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, tc.body)
			p := decodeProblem(t, rec)
			require.Len(t, p.Errors, 1, tc.body)
			assert.Equal(t, tc.field, p.Errors[0].Field, tc.body)
			assert.Equal(t, tc.message, p.Errors[0].Message, tc.body)
			assert.Equal(t, "1 field is invalid", p.Detail)
		})
	}
}

func TestBind_UnknownNestedFieldIsNamedByItsPath(t *testing.T) {
	f, _ := bindServer(t)
	cases := map[string]string{
		`{"shipping_address":{"city":"Tashkent","zip":"100000"}}`:      "shipping_address.zip",
		`{"items":[{"product_id":"a","quantity":1},{"colour":"red"}]}`: "items[1].colour",
		`{"Quantity":1,"extra":true}`:                                  "extra",
	}
	for in, want := range cases {
		t.Run(in, func(t *testing.T) {
			rec := postJSON(f.e, in)
			assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, in)
			p := decodeProblem(t, rec)
			require.Len(t, p.Errors, 1, in)
			assert.Equal(t, want, p.Errors[0].Field, in)
			assert.Equal(t, "unknown field", p.Errors[0].Message, in)
		})
	}
}

func TestBind_TrailingDataIs400EvenWhenTheObjectMisfits(t *testing.T) {
	f, _ := bindServer(t)
	for _, in := range []string{`{"a":1}{}`, `{"quantity":"x"} x`, `{} x`, `{"quantity":1}[]`} {
		rec := postJSON(f.e, in)
		assert.Equal(t, http.StatusBadRequest, rec.Code, in)
		assert.Equal(t, "bad_request", decodeProblem(t, rec).Code, in)
	}
}
