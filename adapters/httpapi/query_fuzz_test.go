package httpapi_test

import (
	"context"
	"encoding/json"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/golang/mock/gomock"

	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// FuzzListQuery sends arbitrary query strings to the three list routes that
// parse them — GET /api/admin/users (as an admin), GET /api/orders (as a
// customer and as an admin) and GET /api/products (anonymous) — on the real
// handlers and use cases, repositories mocked. For every query it checks
// the answer against an independent model of API.md's list rules (page ≥ 1,
// page_size 1..100, role/status among the known values, ids UUIDs, each
// parameter at most once, q ≤ 200 and category ≤ 100 characters):
//   - no panic, and the answer is 200 or 422 validation_failed, never
//     anything else;
//   - 422 exactly when the model finds a bad parameter, naming only bad
//     parameters (at least one);
//   - on 200 the repository got the filter the query means (defaults page 1,
//     page_size 20), and a customer's order list is always their own,
//     whatever user_id says.
//
// The seed corpus is in testdata/fuzz/FuzzListQuery.
func FuzzListQuery(f *testing.F) {
	for _, seed := range []string{
		"", "page=2&page_size=5", "page=0", "page=-1", "page=+3", "page=1.5", "page_size=101", "page_size=100",
		"page=99999999999999999999", "page=&page_size=", "page=1&page=2", "role=admin&status=blocked",
		"role=Admin", "status=paid&user_id=6f1c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f", "status=PAID",
		"user_id=6F1C9A52-3B7E-4D0A-9C1E-2A4B5C6D7E8F", "user_id=x", "seller_id=6f1c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f",
		"q=%20bob%20", "q=" + strings.Repeat("ж", 201), "category=" + strings.Repeat("c", 101), "%zz&page=2",
		"a;b=c&page=3", "q=%00%ff", "status=&role=", "page_size=1e2",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fx := newCommerce(t)
		var users ports.UserFilter
		var orders ports.OrderFilter
		var products ports.ProductQuery
		fx.users.EXPECT().List(gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, f ports.UserFilter) ([]*user.User, int, error) { users = f; return nil, 0, nil }).AnyTimes()
		fx.orders.EXPECT().List(gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, f ports.OrderFilter) ([]*order.Order, int, error) {
				orders = f
				return nil, 0, nil
			}).AnyTimes()
		fx.catalog.EXPECT().List(gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, q ports.ProductQuery, _ user.Actor) (ports.ProductPage, error) {
				products = q
				return ports.ProductPage{}, nil
			}).AnyTimes()
		admin := fx.bearer(annID, sessionID, user.RoleAdmin)
		customer := fx.bearer(bobID, otherSID, user.RoleCustomer)
		q, _ := url.ParseQuery(raw) // what the handlers see: malformed pairs dropped

		// Admin list of users.
		m := newQueryModel(q)
		m.text("q", 200)
		m.oneOf("role", "customer", "seller", "admin", "super_admin")
		m.oneOf("status", "active", "blocked")
		if checkList(t, fx, "/api/admin/users", raw, admin, m) {
			want := ports.UserFilter{Query: strings.TrimSpace(m.value("q")), Role: user.Role(m.value("role")),
				Status: user.Status(m.value("status")), Page: m.page, PageSize: m.pageSize}
			if users != want {
				t.Fatalf("users filter for %q: got %+v, want %+v", raw, users, want)
			}
		}

		// Orders: a customer's own, an admin's any user's.
		for _, who := range []struct {
			token, userID string
			admin         bool
		}{{customer, bobID, false}, {admin, annID, true}} {
			m := newQueryModel(q)
			m.oneOf("status", "pending_payment", "paid", "shipped", "delivered", "cancelled", "refunded")
			m.uuid("user_id")
			orders = ports.OrderFilter{}
			if checkList(t, fx, "/api/orders", raw, who.token, m) {
				want := ports.OrderFilter{UserID: who.userID, Status: order.Status(m.value("status")), Page: m.page, PageSize: m.pageSize}
				if who.admin {
					want.UserID = m.value("user_id")
				}
				if orders != want {
					t.Fatalf("orders filter for %q (admin %v): got %+v, want %+v", raw, who.admin, orders, want)
				}
			}
		}

		// Products, anonymous.
		m = newQueryModel(q)
		m.text("q", 200)
		m.text("category", 100)
		m.uuid("seller_id")
		if checkList(t, fx, "/api/products", raw, "", m) {
			want := ports.ProductQuery{Q: strings.TrimSpace(m.value("q")), Category: strings.TrimSpace(m.value("category")),
				SellerID: m.value("seller_id"), Page: m.page, PageSize: m.pageSize}
			if products != want {
				t.Fatalf("product query for %q: got %+v, want %+v", raw, products, want)
			}
		}
	})
}

// checkList calls path?raw and checks the answer against the model: 200
// when it finds nothing wrong (reported true), else 422 naming bad
// parameters only.
func checkList(t *testing.T, fx commerce, path, raw, token string, m *queryModel) bool {
	t.Helper()
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
	req.URL.RawQuery = raw
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	rec := serve(fx.e, req)
	bad := m.invalid()
	if len(bad) == 0 {
		if rec.Code != http.StatusOK {
			t.Fatalf("GET %s?%s: want 200, got %d %s", path, raw, rec.Code, rec.Body)
		}
		var page struct {
			Page     int `json:"page"`
			PageSize int `json:"page_size"`
		}
		if err := json.Unmarshal(rec.Body.Bytes(), &page); err != nil || page.Page != m.page || page.PageSize != m.pageSize {
			t.Fatalf("GET %s?%s: page %d/%d expected, got %s", path, raw, m.page, m.pageSize, rec.Body)
		}
		return true
	}
	p := expectFuzzProblem(t, rec, []byte(path+"?"+raw), http.StatusUnprocessableEntity, "validation_failed")
	named := fieldNames(p)
	slices.Sort(named)
	named = slices.Compact(named)
	// Every named parameter is bad. Not every bad one is always named: a
	// value that does not parse is reported by the handler before the use
	// case checks ranges and names (?page=0&page_size=A names page_size only).
	if len(named) == 0 {
		t.Fatalf("GET %s?%s: a 422 names the bad parameters %v: %s", path, raw, bad, rec.Body)
	}
	for _, name := range named {
		if !slices.Contains(bad, name) {
			t.Fatalf("GET %s?%s: 422 names %q, which is not bad (bad: %v): %s", path, raw, name, bad, rec.Body)
		}
	}
	return false
}

// queryModel is API.md's list rules written independently of the handlers.
type queryModel struct {
	q              url.Values
	bad            map[string]bool
	page, pageSize int
}

var uuidPattern = regexp.MustCompile(`^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$`)

func newQueryModel(q url.Values) *queryModel {
	m := &queryModel{q: q, bad: map[string]bool{}, page: 1, pageSize: 20}
	m.page = m.integer("page", 1, math.MaxInt, 1)
	m.pageSize = m.integer("page_size", 1, 100, 20)
	return m
}

// value is the parameter's one value, "" when absent or given twice.
func (m *queryModel) value(name string) string {
	if vs := m.q[name]; len(vs) == 1 {
		return vs[0]
	}
	return ""
}

// given marks a parameter given more than once as bad and reports whether
// it has a non-empty value to check.
func (m *queryModel) given(name string) bool {
	if len(m.q[name]) > 1 {
		m.bad[name] = true
		return false
	}
	return m.value(name) != ""
}

func (m *queryModel) integer(name string, lo, hi, def int) int {
	if !m.given(name) {
		return def
	}
	n, err := strconv.Atoi(m.value(name))
	if err != nil || n < lo || n > hi {
		m.bad[name] = true
		return def
	}
	return n
}

func (m *queryModel) oneOf(name string, values ...string) {
	if m.given(name) && !slices.Contains(values, m.value(name)) {
		m.bad[name] = true
	}
}

func (m *queryModel) uuid(name string) {
	if m.given(name) && !uuidPattern.MatchString(m.value(name)) {
		m.bad[name] = true
	}
}

func (m *queryModel) text(name string, maxChars int) {
	if m.given(name) && utf8.RuneCountInString(strings.TrimSpace(m.value(name))) > maxChars {
		m.bad[name] = true
	}
}

// invalid is the sorted names of the bad parameters.
func (m *queryModel) invalid() []string {
	out := make([]string, 0, len(m.bad))
	for k := range m.bad {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// FuzzAnalyticsQuery sends arbitrary query strings to GET
// /api/analytics/sales (from, to: RFC 3339 or dates; interval; tz, an IANA
// name that reaches time.LoadLocation) and /api/analytics/top-products
// (limit) as an admin. No panic; the answer is 200 or 422 validation_failed
// only; on 200 the repository got a sane question: from not after to, a known
// interval, a real zone (never the host's Local), a limit in 1..100 (10 by
// default, as API.md says) and the 422 of a bad limit names it. The seed
// corpus is in testdata/fuzz/FuzzAnalyticsQuery.
func FuzzAnalyticsQuery(f *testing.F) {
	for _, seed := range []string{
		"", "from=2026-01-01&to=2026-01-31&interval=week&tz=Asia/Tashkent", "from=2026-01-31&to=2026-01-01",
		"from=2026-01-01T00:00:00Z&to=2026-01-01T00:00:00Z", "from=0001-01-01&interval=day", "to=9999-12-31",
		"tz=Local", "tz=../../etc/passwd", "tz=UTC&interval=month", "interval=year", "from=2026-02-30",
		"from=2026-01-01T00:00:00+14:00", "limit=0", "limit=100", "limit=101", "limit=-1", "limit=1&limit=2",
		"from=1&to=2", "tz=%00", "to=2026-03-01T12:00:00.123456789Z",
	} {
		f.Add(seed)
	}
	f.Fuzz(func(t *testing.T, raw string) {
		fx := newCommerce(t)
		admin := fx.bearer(annID, sessionID, user.RoleAdmin)
		var sales struct {
			called   bool
			from, to time.Time
			interval ports.Interval
			loc      *time.Location
		}
		fx.stats.EXPECT().Sales(gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, from, to time.Time, interval ports.Interval, loc *time.Location) ([]ports.SalesPoint, error) {
				sales.called, sales.from, sales.to, sales.interval, sales.loc = true, from, to, interval, loc
				return nil, nil
			}).AnyTimes()
		limit := 0
		fx.stats.EXPECT().TopProducts(gomock.Any(), gomock.Any()).DoAndReturn(
			func(_ context.Context, n int) ([]ports.TopProduct, error) { limit = n; return nil, nil }).AnyTimes()

		get := func(path string) *httptest.ResponseRecorder {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
			req.URL.RawQuery = raw
			req.Header.Set("Authorization", "Bearer "+admin)
			return serve(fx.e, req)
		}

		rec := get("/api/analytics/sales")
		switch rec.Code {
		case http.StatusOK:
			if !sales.called || sales.from.After(sales.to) || sales.loc == nil || sales.loc == time.Local ||
				!slices.Contains([]ports.Interval{ports.IntervalDay, ports.IntervalWeek, ports.IntervalMonth}, sales.interval) {
				t.Fatalf("sales?%s answered 200 after asking %+v", raw, sales)
			}
		case http.StatusUnprocessableEntity:
			p := expectFuzzProblem(t, rec, []byte(raw), http.StatusUnprocessableEntity, "validation_failed")
			for _, name := range fieldNames(p) {
				if !slices.Contains([]string{"from", "to", "interval", "tz"}, name) {
					t.Fatalf("sales?%s: 422 names %q: %s", raw, name, rec.Body)
				}
			}
		default:
			t.Fatalf("sales?%s: want 200 or 422, got %d %s", raw, rec.Code, rec.Body)
		}

		m := newQueryModel(mustParseQuery(raw))
		want := m.integer("limit", 1, 100, 10)
		rec = get("/api/analytics/top-products")
		if len(m.invalid()) == 0 {
			if rec.Code != http.StatusOK || limit != want {
				t.Fatalf("top-products?%s: want 200 with limit %d, got %d (limit %d) %s", raw, want, rec.Code, limit, rec.Body)
			}
			return
		}
		p := expectFuzzProblem(t, rec, []byte(raw), http.StatusUnprocessableEntity, "validation_failed")
		if !slices.Equal(fieldNames(p), []string{"limit"}) {
			t.Fatalf("top-products?%s: 422 must name limit: %s", raw, rec.Body)
		}
	})
}

func mustParseQuery(raw string) url.Values {
	q, _ := url.ParseQuery(raw) // what the handlers see: malformed pairs dropped
	return q
}
