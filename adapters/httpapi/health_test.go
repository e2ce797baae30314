package httpapi_test

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/health"
)

// panicHealth fails the test if a route consults it.
type panicHealth struct{ t *testing.T }

func (p panicHealth) Ready(context.Context) health.Report {
	p.t.Error("/health must not check dependencies")
	return health.Report{}
}

func (p panicHealth) Detailed(context.Context) health.Report {
	p.t.Error("/health must not check dependencies")
	return health.Report{}
}

func TestLive_TouchesNoDependency(t *testing.T) {
	f := newFixture(t, func(_ *httpapi.Config, d *httpapi.Deps) { d.Health = panicHealth{t} })

	rec := get(f.e, "/health")

	assert.Equal(t, http.StatusOK, rec.Code)
	assert.JSONEq(t, `{"status":"ok"}`, rec.Body.String())
	assertSecurityHeaders(t, rec.Header())
	assert.NotEmpty(t, rec.Header().Get("X-Request-ID"))
}

func TestReady_OK(t *testing.T) {
	f := newFixture(t, nil)

	rec := get(f.e, "/health/ready")

	assert.Equal(t, http.StatusOK, rec.Code)
	var body struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status    string   `json:"status"`
			LatencyMS *float64 `json:"latency_ms"`
			Error     *string  `json:"error"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "ok", body.Status)
	require.Len(t, body.Checks, 2)
	for _, name := range []string{"postgres", "redis"} {
		assert.Equal(t, "ok", body.Checks[name].Status)
		assert.NotNil(t, body.Checks[name].LatencyMS, "latency_ms always present")
		assert.Nil(t, body.Checks[name].Error, "no error key when up")
	}
}

func TestReady_503WhenADependencyFails(t *testing.T) {
	f := newFixture(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		leaky := pingFunc(func(context.Context) error {
			return errors.New(`dial tcp: lookup postgres://app:hunter2@db.internal:5432/ultramarket: connection refused`)
		})
		d.Health = health.NewService(health.Dependencies{Postgres: leaky, Redis: up()}, wallClock{}, time.Second)
	})

	rec := get(f.e, "/health/ready")

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type")[:len("application/json")])
	var body map[string]any
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "unavailable", body["status"])
	checks := body["checks"].(map[string]any)
	pg := checks["postgres"].(map[string]any)
	assert.Equal(t, "down", pg["status"])
	assert.Equal(t, "unreachable", pg["error"])
	assert.Contains(t, pg, "latency_ms")
	assert.Equal(t, "ok", checks["redis"].(map[string]any)["status"])
	assert.NotContains(t, rec.Body.String(), "hunter2")
	assert.NotContains(t, rec.Body.String(), "db.internal")
}

func TestDetailed_OnOpsOnly(t *testing.T) {
	f := newFixture(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		d.Health = health.NewService(health.Dependencies{Postgres: up(), Redis: up(), Catalog: up()}, wallClock{}, time.Second)
		d.DBStats = func() sql.DBStats { return sql.DBStats{OpenConnections: 5, InUse: 2, Idle: 3} }
	})

	assert.Equal(t, http.StatusNotFound, get(f.e, "/health/detailed").Code, "not on the public listener")
	assert.Equal(t, http.StatusNotFound, get(f.e, "/metrics").Code, "not on the public listener")

	rec := get(f.ops, "/health/detailed")
	assert.Equal(t, http.StatusOK, rec.Code)
	assertSecurityHeaders(t, rec.Header())
	var body struct {
		Status        string                     `json:"status"`
		Version       string                     `json:"version"`
		UptimeSeconds int64                      `json:"uptime_seconds"`
		Checks        map[string]json.RawMessage `json:"checks"`
		Runtime       struct {
			Goroutines int    `json:"goroutines"`
			HeapBytes  uint64 `json:"heap_bytes"`
		} `json:"runtime"`
		DBPool struct {
			Open  int `json:"open"`
			InUse int `json:"in_use"`
			Idle  int `json:"idle"`
		} `json:"db_pool"`
	}
	require.NoError(t, json.Unmarshal(rec.Body.Bytes(), &body))
	assert.Equal(t, "ok", body.Status)
	assert.Equal(t, "1.2.3", body.Version)
	assert.GreaterOrEqual(t, body.UptimeSeconds, int64(90))
	assert.Len(t, body.Checks, 3)
	assert.Contains(t, body.Checks, "catalog")
	assert.Positive(t, body.Runtime.Goroutines)
	assert.Positive(t, body.Runtime.HeapBytes)
	assert.Equal(t, 5, body.DBPool.Open)
	assert.Equal(t, 2, body.DBPool.InUse)
	assert.Equal(t, 3, body.DBPool.Idle)
}

func TestDetailed_503WhenCatalogDown(t *testing.T) {
	f := newFixture(t, func(_ *httpapi.Config, d *httpapi.Deps) {
		down := pingFunc(func(context.Context) error { return errors.New("503 from http://catalog.internal") })
		d.Health = health.NewService(health.Dependencies{Postgres: up(), Redis: up(), Catalog: down}, wallClock{}, time.Second)
	})

	rec := get(f.ops, "/health/detailed")

	assert.Equal(t, http.StatusServiceUnavailable, rec.Code)
	assert.NotContains(t, rec.Body.String(), "catalog.internal")
	assert.Equal(t, http.StatusOK, get(f.e, "/health/ready").Code, "readiness does not depend on the catalog")
}

func TestMetricsEndpoint_OnOps(t *testing.T) {
	f := newFixture(t, nil)
	get(f.e, "/health")

	rec := get(f.ops, "/metrics")

	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), `http_requests_total{method="GET",route="/health",status="200"} 1`)
	assert.NotContains(t, rec.Body.String(), `route="/metrics"`, "scrapes are not counted")
	assert.NotEmpty(t, rec.Header().Get("X-Request-ID"))
	assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"))
}

func TestPprof_OnOpsOnly(t *testing.T) {
	f := newFixture(t, nil)

	for _, path := range []string{"/debug/pprof/", "/debug/pprof/heap", "/debug/pprof/allocs", "/debug/pprof/cmdline"} {
		assert.Equal(t, http.StatusNotFound, get(f.e, path).Code, "%s not on the public listener", path)
	}

	rec := get(f.ops, "/debug/pprof/")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "allocs")
	rec = get(f.ops, "/debug/pprof/heap?debug=1")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "heap profile")
	rec = get(f.ops, "/debug/pprof/allocs")
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.NotEmpty(t, rec.Body.Bytes(), "a gzipped protobuf profile")
}
