package httpapi

import (
	"context"
	"log/slog"
	"math"
	"net/netip"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/metrics"
)

// Rate-limit response headers (IETF draft "RateLimit header fields for
// HTTP"): the limit, what is left of it, and whole seconds until it is full
// again. CORS exposes them to the browser app (see corsFor).
const (
	HeaderRateLimitLimit     = "RateLimit-Limit"
	HeaderRateLimitRemaining = "RateLimit-Remaining"
	HeaderRateLimitReset     = "RateLimit-Reset"
)

// Rate-limit scopes: the metric label of rate_limit_rejections_total and the
// first part of every limiter key, so the two budgets of one client are
// counted apart.
const (
	ScopeAuth = "auth"
	ScopeAPI  = "api"
)

// rateLimitTimeout bounds the limiter call. Limiting fails open, and failing
// open only helps if it is quick: without this a black-holed Redis would hold
// every API request for the client's dial and read timeouts (seconds). A
// healthy Redis answers the script in well under a millisecond.
const rateLimitTimeout = 250 * time.Millisecond

// RatePolicy is N requests per Per for one client (API.md: RATE_LIMIT_AUTH,
// RATE_LIMIT_API). Off, a zero N or a zero Per limits nothing and sends no
// RateLimit headers.
type RatePolicy struct {
	N   int
	Per time.Duration
	Off bool
}

func (p RatePolicy) enabled() bool { return !p.Off && p.N > 0 && p.Per > 0 }

// RateDecision is a limiter's answer for one request.
type RateDecision struct {
	Allowed bool
	// Limit is the burst a fresh client has; Remaining what is left of it now.
	Limit, Remaining int
	// RetryAfter is how long until a refused client may try again;
	// ResetAfter how long until its budget is full again.
	RetryAfter, ResetAfter time.Duration
}

// RateLimiter takes one request from key's budget of limit per per, shared by
// every gateway instance. Errors mean the limiter could not decide; the edge
// then lets the request through.
type RateLimiter interface {
	Allow(ctx context.Context, key string, limit int, per time.Duration) (RateDecision, error)
}

// RateLimiterFunc adapts a function to RateLimiter, so the wiring can plug in
// a store-backed limiter without this package importing the store:
//
//	rl := redis.NewRateLimiter(client, prefix)
//	deps.RateLimiter = httpapi.RateLimiterFunc(func(ctx context.Context, key string, n int, per time.Duration) (httpapi.RateDecision, error) {
//		d, err := rl.Allow(ctx, key, n, per)
//		return httpapi.RateDecision(d), err
//	})
type RateLimiterFunc func(ctx context.Context, key string, limit int, per time.Duration) (RateDecision, error)

// Allow calls f.
func (f RateLimiterFunc) Allow(ctx context.Context, key string, limit int, per time.Duration) (RateDecision, error) {
	return f(ctx, key, limit, per)
}

// rateLimit limits /api/auth/* by cfg.RateLimitAuth and the rest of /api/ by
// cfg.RateLimitAPI, per client IP (c.RealIP, so X-Forwarded-For counts only
// from a trusted proxy). It runs after routing, so the webhook exemption can
// go by route template as bodyLimit's does.
//
// It fails open: when the limiter cannot decide, the request proceeds,
// rate_limit_fail_open_total counts it and a warning is logged. Rate limits
// protect capacity; refusing all traffic because their store is down would
// turn a Redis outage into a full one. The login lockout, which protects
// accounts, fails closed in the login use case instead.
func rateLimit(cfg Config, deps Deps) echo.MiddlewareFunc {
	limiter := deps.RateLimiter
	if limiter == nil || (!cfg.RateLimitAuth.enabled() && !cfg.RateLimitAPI.enabled()) {
		return func(next echo.HandlerFunc) echo.HandlerFunc { return next }
	}
	log, m := deps.logger(), deps.Metrics
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			scope, policy := ratePolicyFor(cfg, c.Request().URL.Path, c.Path())
			if !policy.enabled() {
				return next(c)
			}
			ctx := c.Request().Context()
			lctx, cancel := context.WithTimeout(ctx, rateLimitTimeout)
			d, err := limiter.Allow(lctx, scope+":"+clientKey(c.RealIP()), policy.N, policy.Per)
			cancel()
			if err != nil {
				if ctx.Err() == nil { // not merely a client that hung up
					failedOpen(ctx, log, m, c, scope, err)
				}
				return next(c)
			}
			h := c.Response().Header()
			h.Set(HeaderRateLimitLimit, strconv.Itoa(policy.N))
			h.Set(HeaderRateLimitRemaining, strconv.Itoa(max(d.Remaining, 0)))
			h.Set(HeaderRateLimitReset, strconv.FormatInt(ceilSeconds(d.ResetAfter), 10))
			if !d.Allowed {
				m.RateLimitRejected(scope)
				return &RateLimitedError{RetryAfter: d.RetryAfter}
			}
			return next(c)
		}
	}
}

func failedOpen(ctx context.Context, log *slog.Logger, m *metrics.Metrics, c echo.Context, scope string, err error) {
	m.RateLimitFailedOpen()
	// The error names the operation and the network failure: no key (it
	// holds the client's address, which the access log already has) and no
	// credentials (go-redis errors never quote the URL).
	log.LogAttrs(ctx, slog.LevelWarn, "rate limiter unavailable; request let through",
		slog.String("request_id", c.Response().Header().Get(echo.HeaderXRequestID)),
		slog.String("scope", scope),
		slog.String("error", err.Error()),
	)
}

// ratePolicyFor picks the limit of a request from its raw path, so requests
// no route matches (a scanner walking /api/...) spend the budget too. The
// exemptions: the OpenAPI document (like /docs and /health, documentation and
// probes, not traffic), and the payment webhooks, which API.md says are never
// rate-limited: Payme and Click retry from a few addresses, and a 429 would
// make them retry a payment notification that must get through. The webhooks
// go by route template, so only the routes really served are exempt.
func ratePolicyFor(cfg Config, path, route string) (scope string, p RatePolicy) {
	switch {
	case !strings.HasPrefix(path, "/api/"), path == "/api/openapi.json", isPaymentWebhook(route):
		return "", RatePolicy{}
	case path == "/api/auth" || strings.HasPrefix(path, "/api/auth/"):
		return ScopeAuth, cfg.RateLimitAuth
	}
	return ScopeAPI, cfg.RateLimitAPI
}

func isPaymentWebhook(route string) bool {
	return route == "/api/payments/payme" || strings.HasPrefix(route, "/api/payments/click/")
}

// clientKey is the part of the limiter key naming the client. An IPv6 client
// is its /64: one subscriber line or LAN gets a whole /64 and can pick any
// address in it, so a per-address limit would not limit anyone. IPv4-mapped
// addresses count as the IPv4 address they are.
func clientKey(ip string) string {
	addr, err := netip.ParseAddr(ip)
	if err != nil {
		return ip // RealIP always parses; keep whatever it is rather than guess
	}
	addr = addr.Unmap()
	if addr.Is4() {
		return addr.String()
	}
	p, _ := addr.WithZone("").Prefix(64) // cannot fail for a 128-bit address
	return p.String()
}

// ceilSeconds rounds up, as Retry-After does: a client told 0 while a fraction
// of a second remains would come back too early.
func ceilSeconds(d time.Duration) int64 {
	if d <= 0 {
		return 0
	}
	return int64(math.Ceil(d.Seconds()))
}
