// Package e2e boots the whole gateway against real Postgres and Redis and
// talks to it over HTTP, the way its clients and ops tooling do.
package e2e

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/test/testapp"
)

// answer is what a test reads of a response once its body is read and
// closed (the helpers below do both), so nothing is left to close.
type answer struct {
	StatusCode int
	Header     http.Header
}

func answerOf(resp *http.Response) *answer {
	return &answer{StatusCode: resp.StatusCode, Header: resp.Header}
}

func get(t *testing.T, url string, header map[string]string) (*answer, []byte) {
	t.Helper()
	req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return answerOf(resp), body
}

func assertSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"))
	assert.Empty(t, h.Get("Strict-Transport-Security"), "HSTS only in production")
	assert.NotEmpty(t, h.Get("X-Request-ID"))
}

func TestFoundation_HealthReadyMetricsAndErrors(t *testing.T) {
	a := testapp.StartApp(t, testapp.Config(t), "")

	resp, body := get(t, a.BaseURL+"/health", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	assert.JSONEq(t, `{"status":"ok"}`, string(body))
	assertSecurityHeaders(t, resp.Header)

	resp, body = get(t, a.BaseURL+"/health/ready", map[string]string{"X-Request-ID": "probe-1"})
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	assert.Equal(t, "probe-1", resp.Header.Get("X-Request-ID"))
	var ready struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status    string   `json:"status"`
			LatencyMS *float64 `json:"latency_ms"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(body, &ready))
	assert.Equal(t, "ok", ready.Status)
	for _, dep := range []string{"postgres", "redis"} {
		assert.Equal(t, "ok", ready.Checks[dep].Status, dep)
		assert.NotNil(t, ready.Checks[dep].LatencyMS, dep)
	}

	resp, body = get(t, a.BaseURL+"/api/no-such-route", map[string]string{"X-Request-ID": "bad id with spaces"})
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
	assert.Equal(t, "application/problem+json", resp.Header.Get("Content-Type"))
	assertSecurityHeaders(t, resp.Header)
	assert.NotEqual(t, "bad id with spaces", resp.Header.Get("X-Request-ID"))
	var problem map[string]any
	require.NoError(t, json.Unmarshal(body, &problem))
	assert.Equal(t, "not_found", problem["code"])
	assert.Equal(t, float64(404), problem["status"])
	assert.Equal(t, resp.Header.Get("X-Request-ID"), problem["request_id"])

	resp, body = get(t, a.OpsURL+"/metrics", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
	metrics := string(body)
	assert.Contains(t, metrics, `http_requests_total{method="GET",route="/health",status="200"} `)
	assert.Contains(t, metrics, `http_requests_total{method="GET",route="unmatched",status="404"} 1`)
	assert.Contains(t, metrics, `http_requests_total{method="GET",route="/health/ready",status="200"} 1`)
	assert.Contains(t, metrics, "http_request_duration_seconds_bucket")
	assert.Contains(t, metrics, "db_pool_open_connections")

	resp, body = get(t, a.OpsURL+"/health/detailed", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var detailed map[string]any
	require.NoError(t, json.Unmarshal(body, &detailed))
	for _, k := range []string{"status", "version", "uptime_seconds", "checks", "runtime", "db_pool"} {
		assert.Contains(t, detailed, k)
	}
	assert.Equal(t, "test", detailed["version"])

	// The ops routes are not on the public listener.
	resp, _ = get(t, a.BaseURL+"/metrics", nil)
	assert.Equal(t, http.StatusNotFound, resp.StatusCode)
}

func TestFoundation_ReadyIs503WhenRedisIsUnreachable(t *testing.T) {
	cfg := testapp.Config(t)
	cfg.RedisURL = "redis://127.0.0.1:1/0" // nothing listens on port 1
	a := testapp.StartApp(t, cfg, "")

	resp, body := get(t, a.BaseURL+"/health/ready", nil)
	assert.Equal(t, http.StatusServiceUnavailable, resp.StatusCode)
	var ready struct {
		Status string `json:"status"`
		Checks map[string]struct {
			Status string `json:"status"`
			Error  string `json:"error"`
		} `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(body, &ready), string(body))
	assert.Equal(t, "unavailable", ready.Status)
	assert.Equal(t, "ok", ready.Checks["postgres"].Status)
	assert.Equal(t, "down", ready.Checks["redis"].Status)
	assert.NotEmpty(t, ready.Checks["redis"].Error)
	assert.NotContains(t, string(body), "127.0.0.1:1", "the error must not leak the address")

	// Liveness does not depend on Redis.
	resp, _ = get(t, a.BaseURL+"/health", nil)
	assert.Equal(t, http.StatusOK, resp.StatusCode)
}

func TestFoundation_ShutdownDrainsInFlightRequests(t *testing.T) {
	a := testapp.StartApp(t, testapp.Config(t), "")
	started := make(chan struct{})
	a.Public().GET("/slow", func(c echo.Context) error {
		close(started)
		time.Sleep(300 * time.Millisecond)
		return c.String(http.StatusOK, "finished")
	})

	type result struct {
		status int
		body   string
		err    error
	}
	done := make(chan result, 1)
	go func() {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, a.BaseURL+"/slow", nil)
		if err != nil {
			done <- result{err: err}
			return
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		done <- result{status: resp.StatusCode, body: string(b)}
	}()
	<-started
	stopped := make(chan error, 1)
	go func() { stopped <- a.Stop() }()

	// New connections are refused while the slow request drains.
	require.Eventually(t, func() bool {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, a.BaseURL+"/health", nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_ = resp.Body.Close()
		}
		return err != nil && strings.Contains(err.Error(), "refused")
	}, 2*time.Second, 10*time.Millisecond)

	r := <-done
	require.NoError(t, r.err)
	assert.Equal(t, http.StatusOK, r.status)
	assert.Equal(t, "finished", r.body)
	assert.NoError(t, <-stopped, "a graceful shutdown returns no error")
}
