package e2e

import (
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func TestIdentity_AuthRateLimit(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) {
		c.RateLimitAuth = config.RateLimit{N: 3, Per: time.Minute}
	})
	for i := 0; i < 3; i++ {
		r := g.refresh(t, "garbage")
		expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
		assertRateLimitHeaders(t, r.Header)
		assert.Equal(t, "3", r.Header.Get("RateLimit-Limit"))
		assert.Equal(t, strconv.Itoa(2-i), r.Header.Get("RateLimit-Remaining"))
		reset, _ := strconv.Atoi(r.Header.Get("RateLimit-Reset"))
		assert.LessOrEqual(t, reset, 60, "RateLimit-Reset is seconds until the window resets")
	}
	// The limit covers every /api/auth route, whatever the method and body.
	for _, rq := range []req{
		{Method: http.MethodPost, Path: "/api/auth/refresh", Body: map[string]any{"refresh_token": "garbage"}},
		{Method: http.MethodPost, Path: "/api/auth/login", Body: map[string]any{"email": "x@example.uz", "password": defaultPassword}},
		{Method: http.MethodPost, Path: "/api/auth/register", Body: registerBody(uniqueEmail("limited"), defaultPassword)},
		{Method: http.MethodGet, Path: "/api/auth/me"},
	} {
		r := g.do(t, rq)
		expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
		retryAfter(t, r.Header, time.Minute)
		assertRateLimitHeaders(t, r.Header)
	}
	// Liveness is not an API route.
	resp := g.get(t, "/health", "")
	assert.Equal(t, http.StatusOK, resp.Status)
}

func TestIdentity_AuthRateLimitPerClientIP(t *testing.T) {
	t.Parallel()
	t.Run("trusted proxy: clients count apart", func(t *testing.T) {
		t.Parallel()
		g := newGateway(t, func(c *config.Config) {
			c.RateLimitAuth = config.RateLimit{N: 2, Per: time.Minute}
			c.TrustedProxies = loopbackNets(t)
		})
		one := map[string]string{"X-Forwarded-For": "203.0.113.1"}
		two := map[string]string{"X-Forwarded-For": "203.0.113.2"}
		refresh := func(h map[string]string) response {
			return g.do(t, req{Method: http.MethodPost, Path: "/api/auth/refresh", Body: map[string]any{"refresh_token": "x"}, Header: h})
		}
		expectProblem(t, refresh(one), http.StatusUnauthorized, "unauthorized")
		expectProblem(t, refresh(one), http.StatusUnauthorized, "unauthorized")
		expectProblem(t, refresh(one), http.StatusTooManyRequests, "rate_limited")
		expectProblem(t, refresh(two), http.StatusUnauthorized, "unauthorized")
	})

	t.Run("untrusted peer: X-Forwarded-For does not dodge the limit", func(t *testing.T) {
		t.Parallel()
		g := newGateway(t, func(c *config.Config) {
			c.RateLimitAuth = config.RateLimit{N: 2, Per: time.Minute}
		})
		for i, want := range []int{http.StatusUnauthorized, http.StatusUnauthorized, http.StatusTooManyRequests} {
			r := g.do(t, req{Method: http.MethodPost, Path: "/api/auth/refresh", Body: map[string]any{"refresh_token": "x"},
				Header: map[string]string{"X-Forwarded-For": "198.51.100." + strconv.Itoa(i+1)}})
			assert.Equal(t, want, r.Status, "call %d: %s", i+1, r)
		}
	})
}

func TestIdentity_APIRateLimitIsSeparateFromAuth(t *testing.T) {
	t.Parallel()
	g := newGateway(t, func(c *config.Config) {
		c.RateLimitAPI = config.RateLimit{N: 2, Per: time.Minute}
	})
	admin := g.newAccount(t, roleAdmin) // /api/auth calls do not count toward the API limit
	for i := 0; i < 2; i++ {
		r := g.listUsers(t, admin.Access, nil)
		expectJSON(t, r, http.StatusOK)
		assertRateLimitHeaders(t, r.Header)
		assert.Equal(t, "2", r.Header.Get("RateLimit-Limit"))
	}
	r := g.listUsers(t, admin.Access, nil)
	expectProblem(t, r, http.StatusTooManyRequests, "rate_limited")
	retryAfter(t, r.Header, time.Minute)
	assertRateLimitHeaders(t, r.Header)
	// The auth routes have a limit of their own (off here).
	g.expectTokenWorks(t, admin.Access)
}
