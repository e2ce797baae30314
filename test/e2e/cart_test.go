package e2e

import (
	"net/http"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// cartLine finds the line of productID in a cart body.
func cartLine(t *testing.T, c map[string]any, productID string) map[string]any {
	t.Helper()
	for _, it := range c["items"].([]any) {
		if l := it.(map[string]any); l["product_id"] == productID {
			return l
		}
	}
	t.Fatalf("no line of %s in %v", productID, c)
	return nil
}

func TestCart_PricedFromTheCatalogWithAvailability(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		buyer := s.customer.Access
		empty := s.cart(t, buyer)
		assert.Empty(t, empty["items"])
		assert.EqualValues(t, 0, num(t, empty["total"]))

		plate := s.newProduct(t, 150_000, 3)
		cup := s.newProduct(t, 20_000, 10)

		r := s.putCart(t, buyer, plate, 2)
		expectJSON(t, r, http.StatusOK)
		c := asMap(t, r)
		assertCartShape(t, c)
		line := cartLine(t, c, plate)
		assert.EqualValues(t, 150_000, num(t, line["unit_price"]))
		assert.EqualValues(t, 2, num(t, line["quantity"]))
		assert.EqualValues(t, 300_000, num(t, line["line_total"]))
		assert.Equal(t, true, line["available"])
		assert.NotEmpty(t, line["name"])
		assert.EqualValues(t, 300_000, num(t, c["total"]))

		// Over the stock: kept, shown unavailable, left out of the total.
		r = s.putCart(t, buyer, cup, 11)
		expectJSON(t, r, http.StatusOK)
		c = asMap(t, r)
		assert.Equal(t, false, cartLine(t, c, cup)["available"])
		assert.EqualValues(t, 220_000, num(t, cartLine(t, c, cup)["line_total"]))
		assert.EqualValues(t, 300_000, num(t, c["total"]))

		// Back within the stock; the quantity is replaced, not added.
		c = asMap(t, s.putCart(t, buyer, cup, 10))
		assert.Equal(t, true, cartLine(t, c, cup)["available"])
		assert.EqualValues(t, 500_000, num(t, c["total"]))
		assert.Len(t, c["items"], 2)

		// Priced at the time of the request: a new price shows at once.
		p := s.product(t, plate)
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + plate, Token: s.seller.Access, Body: map[string]any{
			"name": p["name"], "description": p["description"], "category": p["category"], "price": 100_000, "stock": 3,
		}})
		expectJSON(t, r, http.StatusOK)
		c = s.cart(t, buyer)
		assert.EqualValues(t, 100_000, num(t, cartLine(t, c, plate)["unit_price"]))
		assert.EqualValues(t, 400_000, num(t, c["total"]))

		// An inactive product stays in the cart but cannot be bought.
		s.setActive(t, cup, false)
		c = s.cart(t, buyer)
		assert.Equal(t, false, cartLine(t, c, cup)["available"])
		assert.EqualValues(t, 200_000, num(t, c["total"]))

		// A deleted product stays, unavailable.
		expectNoContent(t, s.do(t, req{Method: http.MethodDelete, Path: "/api/products/" + plate, Token: s.admin.Access}))
		c = s.cart(t, buyer)
		assert.Equal(t, false, cartLine(t, c, plate)["available"])
		assert.EqualValues(t, 0, num(t, c["total"]))

		// Carts are per user.
		assert.Empty(t, s.cart(t, s.seller.Access)["items"])
	})
}

func TestCart_Refusals(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		buyer := s.customer.Access
		id := s.newProduct(t, 1_000, 5)

		expectProblem(t, s.putCart(t, buyer, uuid.NewString(), 1), http.StatusNotFound, "not_found")
		expectProblem(t, s.putCart(t, buyer, "not-a-uuid", 1), http.StatusNotFound, "not_found")
		expectValidation(t, s.putCart(t, buyer, id, 101), "quantity")
		expectValidation(t, s.putCart(t, buyer, id, -1), "quantity")
		expectValidation(t, s.putCart(t, buyer, id, 1.5), "quantity")
		expectValidation(t, s.putCart(t, buyer, id, "2"), "quantity")
		expectValidation(t, s.do(t, req{Method: http.MethodPut, Path: "/api/cart/items/" + id, Token: buyer, Body: map[string]any{}}), "quantity")
		expectValidation(t, s.do(t, req{Method: http.MethodPut, Path: "/api/cart/items/" + id, Token: buyer,
			Body: map[string]any{"quantity": 1, "price": 1}}), "price")

		hidden := productBody(1_000, 5)
		hidden["active"] = false
		inactive := s.createProduct(t, s.seller.Access, hidden)["id"].(string)
		expectValidation(t, s.putCart(t, buyer, inactive, 1), "product_id")

		assert.Empty(t, s.cart(t, buyer)["items"], "nothing refused was stored")

		for _, r := range []req{
			{Method: http.MethodGet, Path: "/api/cart"},
			{Method: http.MethodDelete, Path: "/api/cart"},
			{Method: http.MethodPut, Path: "/api/cart/items/" + id, Body: map[string]any{"quantity": 1}},
			{Method: http.MethodDelete, Path: "/api/cart/items/" + id},
		} {
			expectProblem(t, s.do(t, r), http.StatusUnauthorized, "unauthorized")
		}
	})
}

func TestCart_RemoveAndClear(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		buyer := s.customer.Access
		a, b := s.newProduct(t, 1_000, 5), s.newProduct(t, 2_000, 5)
		expectJSON(t, s.putCart(t, buyer, a, 1), http.StatusOK)
		expectJSON(t, s.putCart(t, buyer, b, 2), http.StatusOK)

		// Quantity 0 removes.
		c := asMap(t, s.putCart(t, buyer, a, 0))
		require.Len(t, c["items"], 1)
		assert.EqualValues(t, 4_000, num(t, c["total"]))

		// DELETE of a line that is not there: 200, the cart unchanged.
		r := s.do(t, req{Method: http.MethodDelete, Path: "/api/cart/items/" + a, Token: buyer})
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, c, asMap(t, r))
		r = s.do(t, req{Method: http.MethodDelete, Path: "/api/cart/items/" + uuid.NewString(), Token: buyer})
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, c, asMap(t, r))

		// DELETE of a line that is there: 200 with what is left.
		r = s.do(t, req{Method: http.MethodDelete, Path: "/api/cart/items/" + b, Token: buyer})
		expectJSON(t, r, http.StatusOK)
		assert.Empty(t, asMap(t, r)["items"])

		expectJSON(t, s.putCart(t, buyer, a, 3), http.StatusOK)
		expectNoContent(t, s.do(t, req{Method: http.MethodDelete, Path: "/api/cart", Token: buyer}))
		assert.Empty(t, s.cart(t, buyer)["items"])
		expectNoContent(t, s.do(t, req{Method: http.MethodDelete, Path: "/api/cart", Token: buyer}))
	})
}
