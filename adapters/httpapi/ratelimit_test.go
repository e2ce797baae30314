package httpapi_test

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/test/testenv"
)

// fakeLimiter is a fixed-window counter per key that records every call.
// err, when set, is returned instead of a decision; block makes Allow wait
// for its context, as a black-holed Redis would.
type fakeLimiter struct {
	mu    sync.Mutex
	used  map[string]int
	keys  []string
	err   error
	block bool
}

func (f *fakeLimiter) Allow(ctx context.Context, key string, limit int, per time.Duration) (httpapi.RateDecision, error) {
	f.mu.Lock()
	f.keys = append(f.keys, key)
	err, block := f.err, f.block
	f.mu.Unlock()
	if block {
		<-ctx.Done()
		return httpapi.RateDecision{}, fmt.Errorf("fake limiter: %w: %w", domain.ErrUnavailable, ctx.Err())
	}
	if err != nil {
		return httpapi.RateDecision{}, err
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.used == nil {
		f.used = map[string]int{}
	}
	if f.used[key] >= limit {
		return httpapi.RateDecision{Limit: limit, RetryAfter: per / time.Duration(limit), ResetAfter: per}, nil
	}
	f.used[key]++
	return httpapi.RateDecision{
		Allowed: true, Limit: limit, Remaining: limit - f.used[key],
		// Part of a second, to see the header round up.
		ResetAfter: per*time.Duration(f.used[key])/time.Duration(limit) - 300*time.Millisecond,
	}, nil
}

func (f *fakeLimiter) calls() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.keys...)
}

var (
	authPolicy = httpapi.RatePolicy{N: 2, Per: 15 * time.Minute}
	apiPolicy  = httpapi.RatePolicy{N: 3, Per: time.Minute}
)

// limitedFixture is the public server with the limiter and policies given and
// a few routes of every kind mounted, all answering 204.
func limitedFixture(t *testing.T, l httpapi.RateLimiter, auth, api httpapi.RatePolicy, mutate func(*httpapi.Config)) fixture {
	t.Helper()
	f := newFixture(t, func(cfg *httpapi.Config, deps *httpapi.Deps) {
		cfg.RateLimitAuth, cfg.RateLimitAPI = auth, api
		deps.RateLimiter = l
		if mutate != nil {
			mutate(cfg)
		}
	})
	ok := func(c echo.Context) error { return c.NoContent(http.StatusNoContent) }
	for _, p := range []string{"/api/products", "/api/auth/login", "/api/auth/me", "/api/openapi.json", "/docs"} {
		f.e.GET(p, ok)
		f.e.POST(p, ok)
	}
	f.e.POST("/api/payments/payme", ok)
	f.e.POST("/api/payments/click/:action", ok)
	return f
}

func rateHeaders(rec *httptest.ResponseRecorder) (limit, remaining, reset string) {
	h := rec.Header()
	return h.Get("RateLimit-Limit"), h.Get("RateLimit-Remaining"), h.Get("RateLimit-Reset")
}

func assertNoRateHeaders(t *testing.T, rec *httptest.ResponseRecorder, msg string) {
	t.Helper()
	for _, h := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", "Retry-After"} {
		assert.Empty(t, rec.Header().Get(h), "%s: %s", msg, h)
	}
}

func TestRateLimit_HeadersThen429(t *testing.T) {
	l := &fakeLimiter{}
	f := limitedFixture(t, l, authPolicy, apiPolicy, nil)

	for i := range apiPolicy.N {
		rec := get(f.e, "/api/products")
		require.Equal(t, http.StatusNoContent, rec.Code)
		limit, remaining, reset := rateHeaders(rec)
		assert.Equal(t, "3", limit)
		assert.Equal(t, strconv.Itoa(apiPolicy.N-1-i), remaining, "request %d", i+1)
		// 20 s per request less 0.3 s, rounded up: 20, 40, 60.
		assert.Equal(t, strconv.Itoa(20*(i+1)), reset, "request %d", i+1)
	}

	rec := get(f.e, "/api/products")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "rate_limited", p.Code)
	assert.Equal(t, "https://ultramarket.uz/problems/rate-limited", p.Type)
	assert.Equal(t, "20", rec.Header().Get("Retry-After"))
	limit, remaining, reset := rateHeaders(rec)
	assert.Equal(t, "3", limit)
	assert.Equal(t, "0", remaining)
	assert.Equal(t, "60", reset)
	assertSecurityHeaders(t, rec.Header())

	// A refusal is counted under its scope, and as the 429 it was.
	out := readAll(t, get(f.ops, "/metrics").Body)
	assert.Contains(t, out, `rate_limit_rejections_total{scope="api"} 1`)
	assert.Contains(t, out, `http_requests_total{method="GET",route="/api/products",status="429"} 1`)
	assert.Contains(t, out, `rate_limit_rejections_total{scope="auth"} 0`)
}

// Refused before the handler or the body limit run: the handler never sees
// the request.
func TestRateLimit_RefusedRequestNeverReachesTheHandler(t *testing.T) {
	l := &fakeLimiter{}
	f := limitedFixture(t, l, authPolicy, httpapi.RatePolicy{N: 1, Per: time.Minute}, nil)
	var reached int
	f.e.POST("/api/orders", func(c echo.Context) error { reached++; return c.NoContent(http.StatusCreated) })

	post := func() *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/orders", strings.NewReader(`{}`))
		req.Header.Set(echo.HeaderContentType, echo.MIMEApplicationJSON)
		return serve(f.e, req)
	}
	assert.Equal(t, http.StatusCreated, post().Code)
	assert.Equal(t, http.StatusTooManyRequests, post().Code)
	assert.Equal(t, 1, reached)
}

func TestRateLimit_AuthAndAPIBudgetsAreSeparate(t *testing.T) {
	l := &fakeLimiter{}
	f := limitedFixture(t, l, authPolicy, apiPolicy, nil)

	for range authPolicy.N {
		rec := serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/auth/login", nil))
		require.Equal(t, http.StatusNoContent, rec.Code)
		limit, _, _ := rateHeaders(rec)
		assert.Equal(t, "2", limit, "the auth policy")
	}
	assert.Equal(t, http.StatusTooManyRequests, get(f.e, "/api/auth/me").Code, "every /api/auth/ route shares the auth budget")

	rec := get(f.e, "/api/products")
	assert.Equal(t, http.StatusNoContent, rec.Code, "the API budget is untouched")
	limit, remaining, _ := rateHeaders(rec)
	assert.Equal(t, "3", limit)
	assert.Equal(t, "2", remaining)

	assert.Equal(t, []string{"auth:192.0.2.1", "auth:192.0.2.1", "auth:192.0.2.1", "api:192.0.2.1"}, l.calls())
	out := readAll(t, get(f.ops, "/metrics").Body)
	assert.Contains(t, out, `rate_limit_rejections_total{scope="auth"} 1`)
}

// Webhooks, probes and documentation are never limited, even when the
// client's budget is spent, and carry no RateLimit headers.
func TestRateLimit_Exemptions(t *testing.T) {
	l := &fakeLimiter{}
	f := limitedFixture(t, l, httpapi.RatePolicy{N: 1, Per: time.Minute}, httpapi.RatePolicy{N: 1, Per: time.Minute}, nil)
	get(f.e, "/api/products")
	serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/auth/login", nil))
	require.Equal(t, http.StatusTooManyRequests, get(f.e, "/api/products").Code)
	require.Equal(t, http.StatusTooManyRequests, get(f.e, "/api/auth/me").Code)
	before := len(l.calls())

	for _, r := range []struct{ method, path string }{
		{http.MethodPost, "/api/payments/payme"},
		{http.MethodPost, "/api/payments/click/prepare"},
		{http.MethodPost, "/api/payments/click/complete"},
		{http.MethodGet, "/health"},
		{http.MethodGet, "/health/ready"},
		{http.MethodGet, "/api/openapi.json"},
		{http.MethodGet, "/docs"},
	} {
		t.Run(r.method+" "+r.path, func(t *testing.T) {
			for range 3 {
				rec := serve(f.e, httptest.NewRequestWithContext(context.Background(), r.method, r.path, strings.NewReader(`{}`)))
				assert.Less(t, rec.Code, 300, r.path)
				assertNoRateHeaders(t, rec, r.path)
			}
		})
	}
	assert.Len(t, l.calls(), before, "the limiter is not even asked")

	// Only the routes really served are exempt: a look-alike path is API traffic.
	rec := serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/payments/payme/x", nil))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
}

// A scanner walking unknown /api/ paths spends its budget like anyone else.
func TestRateLimit_UnmatchedAPIPathsCount(t *testing.T) {
	l := &fakeLimiter{}
	f := limitedFixture(t, l, authPolicy, apiPolicy, nil)
	rec := get(f.e, "/api/wp-admin")
	assert.Equal(t, http.StatusNotFound, rec.Code)
	limit, remaining, _ := rateHeaders(rec)
	assert.Equal(t, "3", limit)
	assert.Equal(t, "2", remaining)
	assertNoRateHeaders(t, get(f.e, "/wp-admin"), "outside /api/")
}

func TestRateLimit_OffMeansNoLimitAndNoHeaders(t *testing.T) {
	l := &fakeLimiter{}
	f := limitedFixture(t, l, httpapi.RatePolicy{Off: true}, httpapi.RatePolicy{N: 1, Per: time.Minute, Off: true}, nil)
	for range 5 {
		rec := get(f.e, "/api/products")
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assertNoRateHeaders(t, rec, "api off")
		rec = serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/auth/login", nil))
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assertNoRateHeaders(t, rec, "auth off")
	}
	assert.Empty(t, l.calls())

	// One scope off leaves the other on.
	l = &fakeLimiter{}
	f = limitedFixture(t, l, httpapi.RatePolicy{Off: true}, apiPolicy, nil)
	assertNoRateHeaders(t, get(f.e, "/api/auth/me"), "auth off")
	limit, _, _ := rateHeaders(get(f.e, "/api/products"))
	assert.Equal(t, "3", limit)

	// No limiter at all (tests, tools): nothing limited.
	f = limitedFixture(t, nil, authPolicy, apiPolicy, nil)
	for range 5 {
		assert.Equal(t, http.StatusNoContent, get(f.e, "/api/products").Code)
	}
}

// The key is the client as c.RealIP sees it: X-Forwarded-For counts only from
// a trusted proxy, so a client cannot mint itself a fresh budget per request.
func TestRateLimit_KeyedByClientIPThroughTrustedProxiesOnly(t *testing.T) {
	_, proxies, err := net.ParseCIDR("10.0.0.0/8")
	require.NoError(t, err)
	request := func(f fixture, peer, xff string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/products", nil)
		req.RemoteAddr = peer
		if xff != "" {
			req.Header.Set(echo.HeaderXForwardedFor, xff)
		}
		return serve(f.e, req)
	}

	l := &fakeLimiter{}
	direct := limitedFixture(t, l, authPolicy, apiPolicy, nil)
	for i := range 5 {
		request(direct, "198.51.100.20:4000", fmt.Sprintf("203.0.113.%d", i))
	}
	assert.Equal(t, []string{"api:198.51.100.20", "api:198.51.100.20", "api:198.51.100.20", "api:198.51.100.20", "api:198.51.100.20"},
		l.calls(), "an untrusted peer's X-Forwarded-For is ignored")
	assert.Equal(t, http.StatusTooManyRequests, request(direct, "198.51.100.20:4000", "203.0.113.99").Code)

	l = &fakeLimiter{}
	behind := limitedFixture(t, l, authPolicy, apiPolicy, func(cfg *httpapi.Config) {
		cfg.TrustedProxies = []*net.IPNet{proxies}
	})
	request(behind, "10.1.2.3:4000", "203.0.113.7")
	request(behind, "10.9.9.9:4000", "203.0.113.7, 10.1.2.3") // two proxy hops
	request(behind, "10.1.2.3:4000", "203.0.113.8")
	request(behind, "198.51.100.20:4000", "203.0.113.7") // not a proxy: its header means nothing
	assert.Equal(t, []string{"api:203.0.113.7", "api:203.0.113.7", "api:203.0.113.8", "api:198.51.100.20"}, l.calls())

	// IPv6 clients are limited per /64, the block one subscriber gets; an
	// IPv4-mapped address is the IPv4 client.
	l = &fakeLimiter{}
	v6 := limitedFixture(t, l, authPolicy, apiPolicy, nil)
	request(v6, "[2001:db8:1:2::10]:4000", "")
	request(v6, "[2001:db8:1:2:ffff::1]:4000", "")
	request(v6, "[2001:db8:1:3::10]:4000", "")
	request(v6, "[::ffff:198.51.100.20]:4000", "")
	assert.Equal(t, []string{"api:2001:db8:1:2::/64", "api:2001:db8:1:2::/64", "api:2001:db8:1:3::/64", "api:198.51.100.20"}, l.calls())
}

// When the limiter cannot decide, requests go through (auth routes too; the
// login lockout is what fails closed), each is counted and logged once with
// its request id, and no RateLimit headers pretend a limit applied.
func TestRateLimit_FailsOpen(t *testing.T) {
	l := &fakeLimiter{err: fmt.Errorf("redis rate limit: %w: dial tcp 127.0.0.1:6379: connect: connection refused", domain.ErrUnavailable)}
	f := limitedFixture(t, l, authPolicy, apiPolicy, nil)

	var ids []string
	for _, path := range []string{"/api/products", "/api/products", "/api/auth/me"} {
		rec := get(f.e, path)
		assert.Equal(t, http.StatusNoContent, rec.Code, path)
		assertNoRateHeaders(t, rec, path)
		ids = append(ids, rec.Header().Get(echo.HeaderXRequestID))
	}

	out := readAll(t, get(f.ops, "/metrics").Body)
	assert.Contains(t, out, "rate_limit_fail_open_total 3")
	assert.Contains(t, out, `rate_limit_rejections_total{scope="api"} 0`, "fail-open refuses nobody")
	assert.Contains(t, out, `rate_limit_rejections_total{scope="auth"} 0`)

	logs := f.logs.String()
	assert.Equal(t, 3, strings.Count(logs, "rate limiter unavailable"), logs)
	for _, line := range strings.Split(logs, "\n") {
		if strings.Contains(line, "rate limiter unavailable") {
			assert.Contains(t, line, `"level":"WARN"`)
			assert.Equal(t, 1, strings.Count(line, `"request_id"`), "one request_id attribute: %s", line)
		}
	}
	for _, id := range ids {
		assert.Contains(t, logs, `"request_id":"`+id+`"`)
	}
}

// A limiter that hangs (a black-holed Redis) is given up on quickly instead
// of holding every request for the client's timeouts.
func TestRateLimit_SlowLimiterFailsOpenQuickly(t *testing.T) {
	l := &fakeLimiter{block: true}
	f := limitedFixture(t, l, authPolicy, apiPolicy, nil)
	start := time.Now()
	rec := get(f.e, "/api/products")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Contains(t, readAll(t, get(f.ops, "/metrics").Body), "rate_limit_fail_open_total 1")
}

// A client that hangs up while the limiter works is not a limiter failure.
func TestRateLimit_CancelledRequestIsNotAFailOpen(t *testing.T) {
	l := &fakeLimiter{block: true}
	f := limitedFixture(t, l, authPolicy, apiPolicy, nil)
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/api/products", nil).WithContext(ctx))
	assert.Contains(t, readAll(t, get(f.ops, "/metrics").Body), "rate_limit_fail_open_total 0")
	assert.NotContains(t, f.logs.String(), "rate limiter unavailable")
}

// The same through the real Redis limiter, adapted as cmd/ultramarket does.
func TestRateLimit_WithRedisLimiter(t *testing.T) {
	// Its own client, so closing it below leaves testenv's clean-up working.
	prefix := testenv.NewRedisPrefix(t)
	client, err := redis.Open(testenv.RedisURL())
	require.NoError(t, err)
	rl := redis.NewRateLimiter(client, prefix)
	limiter := httpapi.RateLimiterFunc(func(ctx context.Context, key string, n int, per time.Duration) (httpapi.RateDecision, error) {
		d, err := rl.Allow(ctx, key, n, per)
		return httpapi.RateDecision(d), err
	})
	f := limitedFixture(t, limiter, authPolicy, apiPolicy, nil)

	prev := apiPolicy.N
	for i := range apiPolicy.N {
		rec := get(f.e, "/api/products")
		require.Equal(t, http.StatusNoContent, rec.Code, "request %d", i+1)
		limit, remaining, reset := rateHeaders(rec)
		assert.Equal(t, "3", limit)
		n, err := strconv.Atoi(remaining)
		require.NoError(t, err)
		assert.Less(t, n, prev, "remaining goes down")
		prev = n
		r, err := strconv.Atoi(reset)
		require.NoError(t, err, "reset is whole seconds")
		assert.GreaterOrEqual(t, r, 0)
		assert.LessOrEqual(t, r, 60)
	}

	rec := get(f.e, "/api/products")
	require.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "rate_limited", decodeProblem(t, rec).Code)
	retry, err := strconv.Atoi(rec.Header().Get(echo.HeaderRetryAfter))
	require.NoError(t, err)
	assert.GreaterOrEqual(t, retry, 1)
	assert.LessOrEqual(t, retry, 20, "one request comes back every 60s/3")
	_, remaining, _ := rateHeaders(rec)
	assert.Equal(t, "0", remaining)

	// Webhooks pass; the auth budget is its own.
	assert.Equal(t, http.StatusNoContent, serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/payments/payme", nil)).Code)
	assert.Equal(t, http.StatusNoContent, get(f.e, "/api/auth/me").Code)

	// Redis gone: fail open.
	require.NoError(t, client.Close())
	rec = get(f.e, "/api/products")
	assert.Equal(t, http.StatusNoContent, rec.Code)
	assert.Contains(t, readAll(t, get(f.ops, "/metrics").Body), "rate_limit_fail_open_total 1")
}
