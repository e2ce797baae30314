package e2e

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// ids of a product list answer.
func listIDs(t *testing.T, r response) []string {
	t.Helper()
	expectJSON(t, r, http.StatusOK)
	body := asMap(t, r)
	assertKeys(t, body, listKeys, "product list")
	var ids []string
	for _, it := range body["items"].([]any) {
		p := it.(map[string]any)
		assertProductShape(t, p)
		ids = append(ids, p["id"].(string))
	}
	return ids
}

func TestProducts_LifeCycle(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		body := productBody(1_500_000, 7)
		p := s.createProduct(t, s.seller.Access, body)
		id := p["id"].(string)
		assert.Equal(t, s.seller.ID, p["seller_id"], "a seller's product is theirs")
		assert.Equal(t, true, p["active"], "active defaults to true")
		assert.Equal(t, body["name"], p["name"])
		assert.EqualValues(t, 1_500_000, num(t, p["price"]))
		assert.EqualValues(t, 7, num(t, p["stock"]))

		// Anyone reads it, by id and in the list.
		r := s.get(t, "/api/products/"+id, "")
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, p, asMap(t, r), "GET answers what POST did")
		assert.Contains(t, listIDs(t, s.get(t, "/api/products", "")), id)

		// The owner replaces it; another seller may not (403); an admin may.
		other := s.newAccount(t, roleSeller)
		change := productBody(2_000_000, 3)
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: other.Access, Body: change})
		expectProblem(t, r, http.StatusForbidden, "forbidden")
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.seller.Access, Body: change})
		expectJSON(t, r, http.StatusOK)
		got := asMap(t, r)
		assertProductShape(t, got)
		assert.EqualValues(t, 2_000_000, num(t, got["price"]))
		assert.EqualValues(t, 3, num(t, got["stock"]))
		assert.Equal(t, change["name"], got["name"])
		assert.Equal(t, s.seller.ID, got["seller_id"], "seller_id does not change")
		change["description"] = "Re-described by an admin"
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.admin.Access, Body: change})
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, "Re-described by an admin", asMap(t, r)["description"])

		// Only admins delete; afterwards it is gone (404) and out of lists.
		r = s.do(t, req{Method: http.MethodDelete, Path: "/api/products/" + id, Token: s.seller.Access})
		expectProblem(t, r, http.StatusForbidden, "forbidden")
		expectNoContent(t, s.do(t, req{Method: http.MethodDelete, Path: "/api/products/" + id, Token: s.admin.Access}))
		expectProblem(t, s.get(t, "/api/products/"+id, ""), http.StatusNotFound, "not_found")
		expectProblem(t, s.get(t, "/api/products/"+id, s.admin.Access), http.StatusNotFound, "not_found")
		assert.NotContains(t, listIDs(t, s.get(t, "/api/products", s.admin.Access)), id)
		r = s.do(t, req{Method: http.MethodDelete, Path: "/api/products/" + id, Token: s.admin.Access})
		expectProblem(t, r, http.StatusNotFound, "not_found")
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.admin.Access, Body: change})
		expectProblem(t, r, http.StatusNotFound, "not_found")
	})
}

func TestProducts_WhoMayWrite(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		expectProblem(t, s.post(t, "/api/products", "", productBody(100, 1)), http.StatusUnauthorized, "unauthorized")
		expectProblem(t, s.post(t, "/api/products", s.customer.Access, productBody(100, 1)), http.StatusForbidden, "forbidden")
		superAdmin := s.newAccount(t, roleSuperAdmin)
		s.createProduct(t, superAdmin.Access, productBody(100, 1))

		// A seller may name themselves, not another seller.
		own := productBody(100, 1)
		own["seller_id"] = s.seller.ID
		assert.Equal(t, s.seller.ID, s.createProduct(t, s.seller.Access, own)["seller_id"])
		theirs := productBody(100, 1)
		theirs["seller_id"] = s.admin.ID
		expectProblem(t, s.post(t, "/api/products", s.seller.Access, theirs), http.StatusForbidden, "forbidden")

		// An admin creates for any seller, or owns it when naming none.
		forSeller := productBody(100, 1)
		forSeller["seller_id"] = s.seller.ID
		assert.Equal(t, s.seller.ID, s.createProduct(t, s.admin.Access, forSeller)["seller_id"])
		assert.Equal(t, s.admin.ID, s.createProduct(t, s.admin.Access, productBody(100, 1))["seller_id"])

		// seller_id cannot change through PUT.
		id := s.newProduct(t, 100, 1)
		move := productBody(100, 1)
		move["seller_id"] = s.admin.ID
		r := s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.admin.Access, Body: move})
		expectValidation(t, r, "seller_id")
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.seller.Access, Body: move})
		expectProblem(t, r, http.StatusForbidden, "forbidden")
		r = s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.customer.Access, Body: productBody(1, 1)})
		expectProblem(t, r, http.StatusForbidden, "forbidden")
	})
}

func TestProducts_BoundsAre422(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		with := func(k string, v any) map[string]any {
			b := productBody(100, 1)
			if v == nil {
				delete(b, k)
			} else {
				b[k] = v
			}
			return b
		}
		bad := []struct {
			name  string
			body  any
			field string
		}{
			{"price 0", with("price", 0), "price"},
			{"price negative", with("price", -5), "price"},
			{"price over 10^12", with("price", int64(1_000_000_000_001)), "price"},
			{"price a float", with("price", 10.5), "price"},
			{"price a string", with("price", "100"), "price"},
			{"price missing", with("price", nil), "price"},
			{"stock negative", with("stock", -1), "stock"},
			{"stock over 10^6", with("stock", 1_000_001), "stock"},
			{"stock missing", with("stock", nil), "stock"},
			{"name empty", with("name", "  "), "name"},
			{"name over 200", with("name", strings.Repeat("n", 201)), "name"},
			{"category empty", with("category", ""), "category"},
			{"category over 100", with("category", strings.Repeat("c", 101)), "category"},
			{"description over 5000", with("description", strings.Repeat("d", 5001)), "description"},
			{"active a string", with("active", "yes"), "active"},
			{"unknown field", with("colour", "blue"), "colour"},
		}
		for _, c := range bad {
			t.Run(c.name, func(t *testing.T) {
				r := s.post(t, "/api/products", s.seller.Access, c.body)
				expectValidation(t, r, c.field)
			})
		}
		expectProblem(t, s.post(t, "/api/products", s.seller.Access, rawJSON(`{"name": "x",`)), http.StatusBadRequest, "bad_request")

		// The bounds themselves are fine.
		edge := productBody(1_000_000_000_000, 1_000_000)
		edge["name"], edge["category"], edge["description"] = strings.Repeat("n", 200), strings.Repeat("c", 100), strings.Repeat("d", 5000)
		p := s.createProduct(t, s.seller.Access, edge)
		assert.EqualValues(t, 1_000_000_000_000, num(t, p["price"]))
		p = s.createProduct(t, s.seller.Access, productBody(1, 0))
		assert.EqualValues(t, 0, num(t, p["stock"]))

		// PUT checks the same.
		r := s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + p["id"].(string), Token: s.seller.Access, Body: with("price", 0)})
		expectValidation(t, r, "price")
	})
}

// API.md: fields without "?" are required, even those that may be empty.
// A missing description is a 422 naming it, on POST and on PUT (which
// replaces every field: a forgotten one must not wipe the text), and the
// catalog is not asked (the upstream one sees no write at all).
func TestProducts_RequiredFieldsMayBeEmptyButNotMissing(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		without := func(k string) map[string]any {
			b := productBody(100, 1)
			delete(b, k)
			return b
		}
		p := s.createProduct(t, s.seller.Access, productBody(100, 1))
		id := p["id"].(string)
		writes := func() int {
			if s.upstream == nil {
				return 0
			}
			return s.upstream.Calls("POST /products") + s.upstream.Calls("PUT /products/{id}")
		}
		countProducts := func() int {
			return len(listIDs(t, s.get(t, "/api/products?page_size=100", s.admin.Access)))
		}
		before, products := writes(), countProducts()

		for _, field := range []string{"name", "description", "category", "price", "stock"} {
			expectValidation(t, s.post(t, "/api/products", s.seller.Access, without(field)), field)
			r := s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.seller.Access, Body: without(field)})
			expectValidation(t, r, field)
		}
		nullDescription := productBody(100, 1)
		nullDescription["description"] = nil
		expectValidation(t, s.post(t, "/api/products", s.seller.Access, nullDescription), "description")

		assert.Equal(t, before, writes(), "nothing refused reached the upstream catalog")
		assert.Equal(t, products, countProducts(), "nothing was created")
		assert.Equal(t, p, s.product(t, id), "nothing was replaced")

		// Empty is fine: the field is there.
		empty := productBody(100, 1)
		empty["description"] = ""
		assert.Equal(t, "", s.createProduct(t, s.seller.Access, empty)["description"])
		r := s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: s.seller.Access, Body: empty})
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, "", asMap(t, r)["description"])
	})
}

func TestProducts_InactiveVisibility(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		hidden := productBody(100, 5)
		hidden["active"] = false
		p := s.createProduct(t, s.seller.Access, hidden)
		id := p["id"].(string)
		assert.Equal(t, false, p["active"])
		visible := s.newProduct(t, 100, 5)
		other := s.newAccount(t, roleSeller)

		// By id: its seller and admins see it; everyone else gets 404.
		for _, token := range []string{"", s.customer.Access, other.Access} {
			expectProblem(t, s.get(t, "/api/products/"+id, token), http.StatusNotFound, "not_found")
		}
		for _, token := range []string{s.seller.Access, s.admin.Access} {
			r := s.get(t, "/api/products/"+id, token)
			expectJSON(t, r, http.StatusOK)
			assert.Equal(t, false, asMap(t, r)["active"])
		}

		// In lists: hidden except for its seller and admins.
		for _, token := range []string{"", s.customer.Access, other.Access} {
			ids := listIDs(t, s.get(t, "/api/products", token))
			assert.NotContains(t, ids, id)
			assert.Contains(t, ids, visible)
		}
		for _, token := range []string{s.seller.Access, s.admin.Access} {
			ids := listIDs(t, s.get(t, "/api/products", token))
			assert.Contains(t, ids, id)
			assert.Contains(t, ids, visible)
		}

		// Another seller cannot edit it either: it does not exist for them.
		r := s.do(t, req{Method: http.MethodPut, Path: "/api/products/" + id, Token: other.Access, Body: productBody(1, 1)})
		expectProblem(t, r, http.StatusNotFound, "not_found")
	})
}

func TestProducts_ListFiltersAndPaging(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		other := s.newAccount(t, roleSeller)
		plate := productBody(100, 1)
		plate["name"], plate["category"] = "Blue suzani plate", "ceramics"
		plateID := s.createProduct(t, s.seller.Access, plate)["id"].(string)
		rug := productBody(100, 1)
		rug["name"], rug["category"] = "Silk rug", "textiles"
		rugID := s.createProduct(t, other.Access, rug)["id"].(string)
		cup := productBody(100, 1)
		cup["name"], cup["category"] = "Tea cup", "ceramics"
		cupID := s.createProduct(t, s.seller.Access, cup)["id"].(string)

		assert.ElementsMatch(t, []string{plateID, cupID}, listIDs(t, s.get(t, "/api/products?category=ceramics", "")))
		assert.Equal(t, []string{rugID}, listIDs(t, s.get(t, "/api/products?seller_id="+other.ID, "")))
		assert.Equal(t, []string{plateID}, listIDs(t, s.get(t, "/api/products?q="+url.QueryEscape("suzani"), "")))
		assert.Empty(t, listIDs(t, s.get(t, "/api/products?seller_id="+uuid.NewString(), "")))

		r := s.get(t, "/api/products?page_size=2", "")
		expectJSON(t, r, http.StatusOK)
		page := asMap(t, r)
		assert.EqualValues(t, 1, num(t, page["page"]))
		assert.EqualValues(t, 2, num(t, page["page_size"]))
		assert.EqualValues(t, 3, num(t, page["total"]))
		assert.Len(t, page["items"], 2)
		r = s.get(t, "/api/products?page=2&page_size=2", "")
		expectJSON(t, r, http.StatusOK)
		page = asMap(t, r)
		assert.Len(t, page["items"], 1)
		assert.EqualValues(t, 3, num(t, page["total"]))
		assert.EqualValues(t, 20, num(t, asMap(t, s.get(t, "/api/products", ""))["page_size"]), "default page_size")

		for query, field := range map[string]string{
			"page=abc": "page", "page=0": "page", "page=1.5": "page",
			"page_size=0": "page_size", "page_size=101": "page_size", "page_size=x": "page_size",
			"seller_id=bob": "seller_id",
		} {
			t.Run(query, func(t *testing.T) {
				expectValidation(t, s.get(t, "/api/products?"+query, ""), field)
			})
		}
	})
}

func TestProducts_OptionalBearerAndPathIDs(t *testing.T) {
	t.Parallel()
	eachCatalog(t, nil, func(t *testing.T, s *shop) {
		id := s.newProduct(t, 100, 1)
		// A bearer that is sent must be valid: no silent fallback to anonymous.
		for _, path := range []string{"/api/products", "/api/products/" + id} {
			expectProblem(t, s.get(t, path, "not-a-token"), http.StatusUnauthorized, "unauthorized")
		}
		// Ids that are not UUIDs name nothing.
		for _, r := range []req{
			{Method: http.MethodGet, Path: "/api/products/123"},
			{Method: http.MethodPut, Path: "/api/products/123", Token: s.admin.Access, Body: productBody(1, 1)},
			{Method: http.MethodDelete, Path: "/api/products/x'or'1", Token: s.admin.Access},
		} {
			expectProblem(t, s.do(t, r), http.StatusNotFound, "not_found")
		}
		expectProblem(t, s.get(t, "/api/products/"+uuid.NewString(), ""), http.StatusNotFound, "not_found")
		require.NotEmpty(t, id)
	})
}
