package httpapi

import (
	"errors"
	"log/slog"
	"math"
	"net/http"
	"runtime/debug"
	"strings"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/labstack/echo/v4/middleware"

	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/adapters/requestid"
)

// Content-Security-Policy values. API responses are JSON and never need to
// load anything; the docs page loads its own script and styles (the renderers
// inject inline styles, hence 'unsafe-inline' for styles only, never scripts).
// A /docs handler with other needs may overwrite the header before writing.
const (
	CSPAPI  = "default-src 'none'; frame-ancestors 'none'"
	CSPDocs = "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'"
)

// hstsValue: two years, as HSTS preload lists expect. Sent only in production,
// where TLS terminates in front of the service; in development it would pin
// localhost to HTTPS in the browser.
const hstsValue = "max-age=63072000; includeSubDomains"

// securityHeaders sets the headers before the handler runs, so they are on
// every response whoever writes it: handlers, the error handler, 404s, CORS
// preflights.
func securityHeaders(cfg Config) echo.MiddlewareFunc {
	production := cfg.production()
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			h := c.Response().Header()
			h.Set(echo.HeaderXContentTypeOptions, "nosniff")
			h.Set(echo.HeaderXFrameOptions, "DENY")
			h.Set(echo.HeaderReferrerPolicy, "no-referrer")
			if isDocsPath(c.Request().URL.Path) {
				h.Set(echo.HeaderContentSecurityPolicy, CSPDocs)
			} else {
				h.Set(echo.HeaderContentSecurityPolicy, CSPAPI)
			}
			if production {
				h.Set(echo.HeaderStrictTransportSecurity, hstsValue)
			}
			return next(c)
		}
	}
}

func isDocsPath(p string) bool { return p == "/docs" || strings.HasPrefix(p, "/docs/") }

// unmatchedRoute is the route label of requests no route matched; a label per
// raw path would let any scanner create unbounded time series.
const unmatchedRoute = "unmatched"

// observe records every request in the access log and in the HTTP metrics.
// It writes an error response itself (c.Error) instead of returning the error
// to Echo, so the status and size it records are the ones the client got.
func observe(log *slog.Logger, m *metrics.Metrics) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			start := time.Now()
			err := next(c)
			if err != nil {
				c.Error(err)
			}
			elapsed := time.Since(start)

			req, res := c.Request(), c.Response()
			route := c.Path()
			if route == "" || errors.Is(err, echo.ErrNotFound) {
				// Echo's router answers an unknown path with echo.ErrNotFound
				// (and sometimes a partial route path); handlers return domain
				// errors, so this only catches paths no route matched.
				route = unmatchedRoute
			}
			m.ObserveRequest(methodLabel(req.Method), route, res.Status, elapsed)

			level := slog.LevelInfo
			if res.Status >= http.StatusInternalServerError {
				level = slog.LevelError
			}
			// Only what is safe to keep: no query string (it can hold tokens or
			// personal data), no headers but the user agent, no bodies.
			log.LogAttrs(req.Context(), level, "http request",
				slog.String("request_id", res.Header().Get(echo.HeaderXRequestID)),
				slog.String("method", req.Method),
				slog.String("route", route),
				slog.String("path", req.URL.Path),
				slog.Int("status", res.Status),
				slog.Float64("latency_ms", math.Round(float64(elapsed)/float64(time.Microsecond))/1000),
				slog.Int64("bytes_out", res.Size),
				slog.String("client_ip", c.RealIP()),
				slog.String("user_agent", truncate(req.UserAgent(), 256)),
			)
			return nil
		}
	}
}

// methodLabel keeps the method label to the standard verbs: Echo routes any
// token a client sends as a method, and each would become a new series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions:
		return m
	}
	return "OTHER"
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n]
}

// errRecoveredPanic is what a recovered panic becomes: a 500 "internal". The
// panic value and stack are logged where it is recovered; the error handler
// does not log it a second time.
var errRecoveredPanic = errors.New("handler panicked")

// recoverer turns a panic into a 500 problem so one bad request cannot take
// the process (and everyone else's requests) down. The panic value may quote
// anything, so it goes to the log only, never to the client.
func recoverer(log *slog.Logger) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) (err error) {
			defer func() {
				r := recover()
				if r == nil {
					return
				}
				if err, ok := r.(error); ok && errors.Is(err, http.ErrAbortHandler) { // net/http's way to abort a response: let it through
					panic(r)
				}
				ctx := c.Request().Context()
				log.LogAttrs(ctx, slog.LevelError, "panic recovered",
					slog.String("request_id", requestid.FromContext(ctx)),
					slog.String("method", c.Request().Method),
					slog.String("route", c.Path()),
					slog.Any("panic", r),
					slog.String("stack", string(debug.Stack())),
				)
				err = errRecoveredPanic
			}()
			return next(c)
		}
	}
}

// corsFor allows browsers on the configured origins only. With no origins
// configured nothing is allowed: Echo's own default would be "*".
func corsFor(origins []string) echo.MiddlewareFunc {
	cfg := middleware.CORSConfig{
		AllowMethods: []string{http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch, http.MethodDelete},
		AllowHeaders: []string{echo.HeaderAuthorization, echo.HeaderContentType, "Idempotency-Key", echo.HeaderXRequestID, "If-None-Match"},
		// Lets the browser app read what it needs to retry well, to quote an
		// id when reporting a problem, to follow a 201 to what it made, to
		// revalidate product reads and to tell a replayed order from a new
		// one. (Content-Language is readable without being listed.)
		ExposeHeaders: []string{echo.HeaderXRequestID, "RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset", echo.HeaderRetryAfter,
			echo.HeaderLocation, "ETag", headerIdempotentReplayed},
		AllowCredentials: true,
		MaxAge:           600,
	}
	allowed := make([]string, 0, len(origins))
	for _, o := range origins {
		if o = strings.TrimRight(strings.TrimSpace(o), "/"); o != "" {
			allowed = append(allowed, o)
		}
		if o == "*" {
			// Development only (production refuses it at start-up). Browsers
			// reject "*" with credentials, so credentials go.
			cfg.AllowCredentials = false
		}
	}
	if len(allowed) == 0 {
		cfg.AllowOriginFunc = func(string) (bool, error) { return false, nil }
	} else {
		cfg.AllowOrigins = allowed
	}
	return middleware.CORSWithConfig(cfg)
}

// bodyLimitKey is where bodyLimit leaves the limit for Bind.
const bodyLimitKey = "httpapi.body_limit"

// bodyLimit refuses bodies over limit with 413: at once when Content-Length
// says so, otherwise when a read crosses the limit (http.MaxBytesReader, which
// also makes the server close the connection instead of draining the rest).
// The payment webhooks are exempt: their protocols want an HTTP 200 with a
// gateway error code even for oversized bodies, so they limit themselves.
func bodyLimit(limit int64) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			c.Set(bodyLimitKey, limit)
			if exemptFromBodyLimit(c.Path()) {
				return next(c)
			}
			req := c.Request()
			if req.ContentLength > limit {
				return echo.ErrStatusRequestEntityTooLarge
			}
			if req.Body != nil && req.Body != http.NoBody {
				req.Body = http.MaxBytesReader(c.Response().Writer, req.Body, limit)
			}
			return next(c)
		}
	}
}

// exemptFromBodyLimit matches the webhook routes by their route template, so
// a look-alike raw path that no route serves is still limited.
func exemptFromBodyLimit(route string) bool {
	return route == "/api/payments/payme" || strings.HasPrefix(route, "/api/payments/click/")
}
