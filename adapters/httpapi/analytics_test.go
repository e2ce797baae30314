package httpapi_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

func TestAnalytics_AdminsOnly(t *testing.T) {
	f := newCommerce(t) // nothing reaches the analytics port
	seller := f.bearer(bobID, sessionID, user.RoleSeller)
	for _, path := range []string{"/api/analytics/sales", "/api/analytics/orders", "/api/analytics/payments", "/api/analytics/top-products"} {
		assert.Equal(t, http.StatusUnauthorized, f.call(http.MethodGet, path, "", "").Code, path)
		rec := f.call(http.MethodGet, path, seller, "")
		assert.Equal(t, http.StatusForbidden, rec.Code, path)
		assert.Equal(t, "forbidden", decodeProblem(t, rec).Code, path)
	}
}

func TestAnalytics_Sales(t *testing.T) {
	f := newCommerce(t)
	admin := f.bearer(annID, sessionID, user.RoleAdmin)
	tashkentTZ, err := time.LoadLocation("Asia/Tashkent")
	require.NoError(t, err)
	may1 := time.Date(2026, 5, 1, 0, 0, 0, 0, tashkentTZ)
	f.stats.EXPECT().Sales(gomock.Any(), may1, time.Date(2026, 6, 1, 0, 0, 0, 0, tashkentTZ), ports.IntervalMonth, gomock.Any()).
		Return([]ports.SalesPoint{{PeriodStart: may1, Orders: 3, Revenue: money.MustTiyin(450_000)}}, nil)

	rec := f.call(http.MethodGet, "/api/analytics/sales?from=2026-05-01&to=2026-05-31&interval=month&tz=Asia/Tashkent", admin, "")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	// period_start is midnight in Tashkent, written in UTC like every timestamp.
	assert.JSONEq(t, `{"currency":"UZS","points":[{"period_start":"2026-04-30T19:00:00Z","orders":3,"revenue":450000}]}`, rec.Body.String())
}

func TestAnalytics_SalesEmptyAndBadParams(t *testing.T) {
	f := newCommerce(t)
	admin := f.bearer(annID, sessionID, user.RoleAdmin)
	f.stats.EXPECT().Sales(gomock.Any(), gomock.Any(), now, ports.IntervalDay, gomock.Any()).Return(nil, nil)
	rec := f.call(http.MethodGet, "/api/analytics/sales", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"currency":"UZS","points":[]}`, rec.Body.String())

	cases := map[string][]string{
		"from=yesterday":                   {"from"},
		"to=2026-13-01":                    {"to"},
		"interval=hour":                    {"interval"},
		"tz=Mars/Olympus":                  {"tz"},
		"from=2026-05-02&to=2026-05-01":    {"from"},
		"interval=day&interval=week":       {"interval"},
		"from=2026-05-01T00:00:00":         {"from"},
		"from=1900-01-01&interval=day&tz=": {"from"},
	}
	for query, fields := range cases {
		t.Run(query, func(t *testing.T) {
			rec := f.call(http.MethodGet, "/api/analytics/sales?"+query, admin, "")
			require.Equal(t, http.StatusUnprocessableEntity, rec.Code, query)
			assert.Equal(t, fields, fieldNames(decodeProblem(t, rec)), query)
		})
	}
}

func TestAnalytics_OrdersByStatusNamesEveryStatus(t *testing.T) {
	f := newCommerce(t)
	admin := f.bearer(annID, sessionID, user.RoleSuperAdmin)
	f.stats.EXPECT().OrdersByStatus(gomock.Any()).Return(map[order.Status]int64{order.StatusPaid: 2, order.StatusCancelled: 1}, nil)
	rec := f.call(http.MethodGet, "/api/analytics/orders", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"by_status":{"pending_payment":0,"paid":2,"shipped":0,"delivered":0,"cancelled":1,"refunded":0}}`, rec.Body.String())
}

func TestAnalytics_PaymentsByProvider(t *testing.T) {
	f := newCommerce(t)
	admin := f.bearer(annID, sessionID, user.RoleAdmin)
	f.stats.EXPECT().PaymentsByProvider(gomock.Any()).
		Return(map[payment.Provider]ports.ProviderTotal{payment.ProviderPayme: {Count: 2, Amount: money.MustTiyin(700_000)}}, nil)
	rec := f.call(http.MethodGet, "/api/analytics/payments", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"by_provider":{"payme":{"count":2,"amount":700000},"click":{"count":0,"amount":0}}}`, rec.Body.String())
}

func TestAnalytics_TopProducts(t *testing.T) {
	f := newCommerce(t)
	admin := f.bearer(annID, sessionID, user.RoleAdmin)
	f.stats.EXPECT().TopProducts(gomock.Any(), 10).Return(nil, nil)
	f.stats.EXPECT().TopProducts(gomock.Any(), 2).Return([]ports.TopProduct{
		{ProductID: phoneID, Name: "Phone", Quantity: 3, Revenue: money.MustTiyin(450_000)},
	}, nil)

	rec := f.call(http.MethodGet, "/api/analytics/top-products", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[]}`, rec.Body.String())

	rec = f.call(http.MethodGet, "/api/analytics/top-products?limit=2", admin, "")
	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.JSONEq(t, `{"items":[{"product_id":"`+phoneID+`","name":"Phone","quantity":3,"revenue":450000}]}`, rec.Body.String())

	for _, q := range []string{"limit=0", "limit=101", "limit=ten", "limit=1.5", "limit=1&limit=2"} {
		rec := f.call(http.MethodGet, "/api/analytics/top-products?"+q, admin, "")
		require.Equal(t, http.StatusUnprocessableEntity, rec.Code, q)
		assert.Equal(t, []string{"limit"}, fieldNames(decodeProblem(t, rec)), q)
	}
}
