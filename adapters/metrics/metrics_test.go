package metrics_test

import (
	"context"
	"database/sql"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/metrics"
)

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/metrics", nil))
	require.Equal(t, http.StatusOK, rec.Code)
	body, err := io.ReadAll(rec.Body)
	require.NoError(t, err)
	return string(body)
}

func TestMetrics_ExposesRecordedValuesUnderContractNames(t *testing.T) {
	m := metrics.New()
	m.ObserveRequest("GET", "/api/products/:id", 200, 30*time.Millisecond)
	m.ObserveRequest("GET", "/api/products/:id", 200, 10*time.Millisecond)
	m.RateLimitRejected("auth")
	m.RateLimitFailedOpen()
	m.SetCatalogCircuit(metrics.CircuitOpen)
	m.PaymentRecorded("payme", "performed")
	m.OTPCodeRequested("sent")
	m.OTPCodeRequested("sent")
	m.OTPCodeRequested("rate_limited")

	out := scrape(t, m)
	for _, want := range []string{
		`http_requests_total{method="GET",route="/api/products/:id",status="200"} 2`,
		`http_request_duration_seconds_count{method="GET",route="/api/products/:id"} 2`,
		`http_request_duration_seconds_bucket{method="GET",route="/api/products/:id",le="0.05"} 2`,
		`rate_limit_rejections_total{scope="auth"} 1`,
		`rate_limit_fail_open_total 1`,
		`catalog_circuit_state 2`,
		`payments_total{outcome="performed",provider="payme"} 1`,
		`otp_codes_total{outcome="sent"} 2`,
		`otp_codes_total{outcome="rate_limited"} 1`,
		`go_goroutines `,
	} {
		assert.Contains(t, out, want)
	}
}

func TestMetrics_DBPoolReadAtScrapeTime(t *testing.T) {
	m := metrics.New()
	assert.NotContains(t, scrape(t, m), "db_pool_", "no source yet: no series")

	stats := sql.DBStats{MaxOpenConnections: 20, OpenConnections: 7, InUse: 3, Idle: 4, WaitCount: 11, WaitDuration: 1500 * time.Millisecond}
	m.WatchDBPool(func() sql.DBStats { return stats })
	out := scrape(t, m)
	for _, want := range []string{
		"db_pool_open_connections 7",
		"db_pool_in_use 3",
		"db_pool_idle 4",
		"db_pool_max_open 20",
		"db_pool_wait_count_total 11",
		"db_pool_wait_duration_seconds_total 1.5",
	} {
		assert.Contains(t, out, want)
	}

	stats.InUse = 5 // the next scrape sees the pool as it is now
	m.WatchDBPool(func() sql.DBStats { return stats })
	assert.Contains(t, scrape(t, m), "db_pool_in_use 5")
}

func TestMetrics_NilIsANoOp(t *testing.T) {
	var m *metrics.Metrics
	assert.NotPanics(t, func() {
		m.ObserveRequest("GET", "/", 200, time.Millisecond)
		m.RateLimitRejected("api")
		m.RateLimitScopes("api")
		m.RateLimitFailedOpen()
		m.SetCatalogCircuit(metrics.CircuitClosed)
		m.PaymentRecorded("click", "performed")
		m.WatchDBPool(nil)
	})
}

func TestMetrics_InstancesAreIndependent(t *testing.T) {
	a, b := metrics.New(), metrics.New() // a private registry each: no duplicate-registration panic
	a.RateLimitRejected("api")
	assert.Contains(t, scrape(t, a), `rate_limit_rejections_total{scope="api"} 1`)
	assert.NotContains(t, scrape(t, b), `rate_limit_rejections_total{scope="api"}`)
}

// API.md names rate_limit_rejections_total and payments_total: a fresh
// process shows both, at 0, for the series alerts watch (the rate-limit
// scopes once the edge has named them).
func TestMetrics_KnownSeriesStartAtZero(t *testing.T) {
	m := metrics.New()
	m.RateLimitScopes("auth", "api")
	out := scrape(t, m)
	for _, want := range []string{
		`rate_limit_rejections_total{scope="auth"} 0`,
		`rate_limit_rejections_total{scope="api"} 0`,
		`payments_total{outcome="error",provider="payme"} 0`,
		`payments_total{outcome="rejected",provider="click"} 0`,
	} {
		assert.Contains(t, out, want)
	}
}
