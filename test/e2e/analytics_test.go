package e2e

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// salesPoint is one point of GET /api/analytics/sales.
type salesPoint struct {
	PeriodStart string `json:"period_start"`
	Orders      int64  `json:"orders"`
	Revenue     int64  `json:"revenue"`
}

func TestAnalytics_SalesOrdersAndTopProducts(t *testing.T) {
	t.Parallel()
	s := newShop(t, builtinCatalog, nil)
	plate, cup, rug := s.newProduct(t, 100_000, 50), s.newProduct(t, 30_000, 50), s.newProduct(t, 500_000, 50)

	// Paid today: 2 plates + 1 cup, and 5 cups. Paid and then shipped: 1 plate.
	// Refunded, pending and cancelled orders do not count as revenue.
	now := time.Now().UTC()
	a := s.mustOrder(t, s.customer.Access, item(plate, 2), item(cup, 1))["id"].(string)
	b := s.mustOrder(t, s.customer.Access, item(cup, 5))["id"].(string)
	c := s.mustOrder(t, s.seller.Access, item(plate, 1))["id"].(string)
	for _, id := range []string{a, b, c} {
		s.markPaid(t, id, now)
	}
	expectJSON(t, s.patchStatus(t, s.admin.Access, c, "shipped"), http.StatusOK)
	refunded := s.mustOrder(t, s.customer.Access, item(rug, 3))["id"].(string)
	s.markPaid(t, refunded, now)
	_, err := s.DB.Exec(`UPDATE orders SET status = 'refunded', refunded_at = now() WHERE id = $1`, refunded)
	require.NoError(t, err)
	s.mustOrder(t, s.customer.Access, item(rug, 1)) // pending
	cancelled := s.mustOrder(t, s.customer.Access, item(rug, 1))["id"].(string)
	expectJSON(t, s.post(t, "/api/orders/"+cancelled+"/cancel", s.customer.Access, nil), http.StatusOK)
	// Paid 40 days ago: outside the default range.
	old := s.mustOrder(t, s.customer.Access, item(rug, 1))["id"].(string)
	s.markPaid(t, old, now.AddDate(0, 0, -40))

	const revenueToday = 2*100_000 + 30_000 + 5*30_000 + 100_000

	// Sales, by default the last 30 days by day in Asia/Tashkent.
	r := s.get(t, "/api/analytics/sales", s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	body := asMap(t, r)
	assertKeys(t, body, []string{"currency", "points"}, "sales")
	assert.Equal(t, "UZS", body["currency"])
	points := decode[struct {
		Points []salesPoint `json:"points"`
	}](t, r).Points
	require.Len(t, points, 30)
	tashkent, err := time.LoadLocation("Asia/Tashkent")
	require.NoError(t, err)
	var prev time.Time
	var total int64
	for i, p := range points {
		assertKeys(t, body["points"].([]any)[i].(map[string]any), []string{"period_start", "orders", "revenue"}, "sales point")
		start := assertUTCTime(t, p.PeriodStart, "period_start")
		local := start.In(tashkent)
		assert.Zero(t, local.Hour()*60+local.Minute(), "a period starts at midnight in Tashkent: %s", p.PeriodStart)
		if i > 0 {
			assert.Equal(t, prev.AddDate(0, 0, 1), local, "one day after another, in time order")
		}
		prev = local
		total += p.Revenue
	}
	today := points[len(points)-1]
	y, m, d := now.In(tashkent).Date()
	assert.Equal(t, time.Date(y, m, d, 0, 0, 0, 0, tashkent).UTC().Format(time.RFC3339), today.PeriodStart)
	assert.EqualValues(t, 3, today.Orders)
	assert.EqualValues(t, revenueToday, today.Revenue)
	assert.EqualValues(t, revenueToday, total, "nothing else in range")

	// A month of that order's day, by month: one point holding it; by week, Mondays.
	day := now.In(tashkent).Format("2006-01-02")
	r = s.get(t, "/api/analytics/sales?from="+day+"&to="+day+"&interval=month&tz=Asia/Tashkent", s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	points = decode[struct {
		Points []salesPoint `json:"points"`
	}](t, r).Points
	require.Len(t, points, 1)
	assert.EqualValues(t, revenueToday, points[0].Revenue)
	start, err := time.Parse(time.RFC3339, points[0].PeriodStart)
	require.NoError(t, err)
	assert.Equal(t, 1, start.In(tashkent).Day(), "a month starts on the 1st")
	r = s.get(t, "/api/analytics/sales?interval=week&tz=UTC&from="+now.AddDate(0, 0, -60).Format(time.RFC3339)+"&to="+now.Add(time.Hour).Format(time.RFC3339), s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	points = decode[struct {
		Points []salesPoint `json:"points"`
	}](t, r).Points
	total = 0
	for _, p := range points {
		start, err := time.Parse(time.RFC3339, p.PeriodStart)
		require.NoError(t, err)
		assert.Equal(t, time.Monday, start.Weekday(), "weeks start on Monday: %s", p.PeriodStart)
		total += p.Revenue
	}
	assert.EqualValues(t, revenueToday+500_000, total, "the old order is in a 60-day range")

	for query, field := range map[string]string{
		"interval=hour": "interval", "tz=Nowhere/City": "tz", "from=soon": "from", "to=2026-02-30": "to",
		"from=2026-05-02&to=2026-05-01": "from",
	} {
		t.Run(query, func(t *testing.T) {
			expectValidation(t, s.get(t, "/api/analytics/sales?"+query, s.admin.Access), field)
		})
	}

	// Orders by status: every status, zeros included.
	r = s.get(t, "/api/analytics/orders", s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	byStatus := decode[struct {
		ByStatus map[string]int64 `json:"by_status"`
	}](t, r).ByStatus
	assert.Equal(t, map[string]int64{
		"pending_payment": 1, "paid": 3, "shipped": 1, "delivered": 0, "cancelled": 1, "refunded": 1,
	}, byStatus)

	// Payments by provider: none were made through a gateway.
	r = s.get(t, "/api/analytics/payments", s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	assert.JSONEq(t, `{"by_provider":{"payme":{"count":0,"amount":0},"click":{"count":0,"amount":0}}}`, string(r.Body))

	// Top products by revenue: the rug's only counting order is the old one.
	r = s.get(t, "/api/analytics/top-products", s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	type top struct {
		ProductID string `json:"product_id"`
		Name      string `json:"name"`
		Quantity  int64  `json:"quantity"`
		Revenue   int64  `json:"revenue"`
	}
	items := decode[struct {
		Items []top `json:"items"`
	}](t, r).Items
	require.Len(t, items, 3)
	assert.Equal(t, top{ProductID: rug, Name: s.product(t, rug)["name"].(string), Quantity: 1, Revenue: 500_000}, items[0])
	assert.Equal(t, top{ProductID: plate, Name: s.product(t, plate)["name"].(string), Quantity: 3, Revenue: 300_000}, items[1])
	assert.Equal(t, top{ProductID: cup, Name: s.product(t, cup)["name"].(string), Quantity: 6, Revenue: 180_000}, items[2])
	for _, it := range asMap(t, r)["items"].([]any) {
		assertKeys(t, it.(map[string]any), []string{"product_id", "name", "quantity", "revenue"}, "top product")
	}
	r = s.get(t, "/api/analytics/top-products?limit=1", s.admin.Access)
	expectJSON(t, r, http.StatusOK)
	assert.Len(t, asMap(t, r)["items"], 1)
	for _, q := range []string{"limit=0", "limit=101", "limit=x"} {
		expectValidation(t, s.get(t, "/api/analytics/top-products?"+q, s.admin.Access), "limit")
	}
}

func TestAnalytics_AdminsOnly(t *testing.T) {
	t.Parallel()
	s := newShop(t, builtinCatalog, nil)
	superAdmin := s.newAccount(t, roleSuperAdmin)
	for _, path := range []string{"/api/analytics/sales", "/api/analytics/orders", "/api/analytics/payments", "/api/analytics/top-products"} {
		expectProblem(t, s.get(t, path, ""), http.StatusUnauthorized, "unauthorized")
		expectProblem(t, s.get(t, path, s.customer.Access), http.StatusForbidden, "forbidden")
		expectProblem(t, s.get(t, path, s.seller.Access), http.StatusForbidden, "forbidden")
		expectJSON(t, s.get(t, path, s.admin.Access), http.StatusOK)
		expectJSON(t, s.get(t, path, superAdmin.Access), http.StatusOK)
	}
}
