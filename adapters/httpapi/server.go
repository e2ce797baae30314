package httpapi

import (
	"context"
	"database/sql"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/application/health"
)

// DefaultBodyLimit is the largest request body accepted when Config.BodyLimit is zero (1 MiB).
const DefaultBodyLimit int64 = 1 << 20

// Config is what the HTTP edge needs from the service configuration.
type Config struct {
	Env            string       // APP_ENV; "production" turns on HSTS
	CORSOrigins    []string     // exact origins allowed to call the API from a browser
	TrustedProxies []*net.IPNet // peers whose X-Forwarded-For is believed
	Version        string       // reported by /health/detailed
	StartedAt      time.Time    // process start, for uptime_seconds; zero means when NewOps ran
	BodyLimit      int64        // bytes; zero means DefaultBodyLimit
	RateLimitAuth  RatePolicy   // per client IP on /api/auth/*; used when Deps.RateLimiter is set
	RateLimitAPI   RatePolicy   // per client IP on the rest of /api/
}

func (c Config) production() bool { return c.Env == "production" }

func (c Config) bodyLimit() int64 {
	if c.BodyLimit <= 0 {
		return DefaultBodyLimit
	}
	return c.BodyLimit
}

// HealthChecker is the health use case as the HTTP edge sees it;
// *health.Service satisfies it.
type HealthChecker interface {
	Ready(ctx context.Context) health.Report
	Detailed(ctx context.Context) health.Report
}

// Deps are the collaborators of both servers. Metrics may be nil (no metrics
// recorded, no /metrics route); Logger nil means slog.Default(); DBStats may be
// nil (no db_pool in /health/detailed); RateLimiter nil means no rate limits.
type Deps struct {
	Metrics     *metrics.Metrics
	Logger      *slog.Logger
	Health      HealthChecker
	DBStats     func() sql.DBStats
	RateLimiter RateLimiter
	// Texts holds the problem texts of every language; nil means the
	// embedded catalogues (i18n.Catalogues).
	Texts *i18n.Bundle
}

func (d Deps) texts() *i18n.Bundle {
	if d.Texts == nil {
		return i18n.Catalogues()
	}
	return d.Texts
}

func (d Deps) logger() *slog.Logger {
	if d.Logger == nil {
		return slog.Default()
	}
	return d.Logger
}

// NewPublic builds the public Echo (HTTP_ADDR) with the full middleware chain
// and the liveness and readiness routes. Features add their routes afterwards
// (see the package documentation).
func NewPublic(cfg Config, deps Deps) *echo.Echo {
	e := newEcho(cfg, deps)
	log := deps.logger()
	deps.Metrics.RateLimitScopes(ScopeAuth, ScopeAPI)
	// Order matters. The request id and security headers come first so that
	// every response, errors and 404s included, carries them. observe writes
	// error responses itself (c.Error) so it logs and counts the status the
	// client really got; recover sits inside it so a panic is logged as the 500
	// it becomes. CORS answers preflights before the rate limit (a browser's
	// preflight costs the client nothing) and puts its headers on a 429 so the
	// app can read Retry-After. The rate limit refuses before a body is read.
	e.Use(
		requestID(),
		securityHeaders(cfg),
		observe(log, deps.Metrics),
		recoverer(log),
		corsFor(cfg.CORSOrigins),
		rateLimit(cfg, deps),
		bodyLimit(cfg.bodyLimit()),
	)
	h := healthHandlers{cfg: cfg, deps: deps}
	e.GET("/health", h.live)
	e.GET("/health/ready", h.ready)
	return e
}

// NewOps builds the operator Echo (OPS_ADDR): /health/detailed, /metrics and
// Go's profiler under /debug/pprof/ (never on the public listener: a profile
// shows the code, and a CPU profile costs the server CPU for its duration).
// It is not counted in http_requests_total nor access-logged, so Prometheus
// scrapes and probes do not drown the traffic they watch.
func NewOps(cfg Config, deps Deps) *echo.Echo {
	if cfg.StartedAt.IsZero() {
		cfg.StartedAt = time.Now()
	}
	e := newEcho(cfg, deps)
	e.Use(
		requestID(),
		securityHeaders(cfg),
		recoverer(deps.logger()),
	)
	h := healthHandlers{cfg: cfg, deps: deps}
	e.GET("/health/detailed", h.detailed)
	if deps.Metrics != nil {
		e.GET("/metrics", echo.WrapHandler(deps.Metrics.Handler()))
	}
	registerPprof(e)
	return e
}

// registerPprof mounts net/http/pprof's handlers by hand: importing the
// package registers them on http.DefaultServeMux too, which no listener of
// ours serves. `make profile` reads /debug/pprof/profile and /debug/pprof/allocs.
func registerPprof(e *echo.Echo) {
	g := e.Group("/debug/pprof")
	g.GET("/", echo.WrapHandler(http.HandlerFunc(pprof.Index)))
	g.GET("/cmdline", echo.WrapHandler(http.HandlerFunc(pprof.Cmdline)))
	g.GET("/profile", echo.WrapHandler(http.HandlerFunc(pprof.Profile)))
	g.GET("/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	g.POST("/symbol", echo.WrapHandler(http.HandlerFunc(pprof.Symbol)))
	g.GET("/trace", echo.WrapHandler(http.HandlerFunc(pprof.Trace)))
	// allocs, heap, goroutine, block, mutex, threadcreate: pprof.Index serves
	// a named profile for any path below the prefix.
	g.GET("/:name", echo.WrapHandler(http.HandlerFunc(pprof.Index)))
}

func newEcho(cfg Config, deps Deps) *echo.Echo {
	e := echo.New()
	e.HideBanner = true
	e.HidePort = true
	e.HTTPErrorHandler = errorHandler(deps.logger(), deps.texts())
	e.IPExtractor = ipExtractor(cfg.TrustedProxies)
	e.JSONSerializer = jsonSerializer{}
	routeHeadAsGet(e)
	// Timeouts on slow clients live on the http.Server that cmd/ultramarket builds.
	return e
}

// headRequest is the context key under which routeHeadAsGet keeps the
// original request of a HEAD.
const headRequest = "httpapi.head"

// routeHeadAsGet answers HEAD on every GET route (RFC 9110 §9.3.2: the GET's
// answer without its body; probes and CDNs send it) without registering each
// route twice. Echo routes by the request's method, so a HEAD is routed as a
// GET, then told HEAD again before any middleware or handler runs: net/http
// then sends the GET's status and headers (Content-Length included) and
// drops the body. A path without a GET still gets the 405, and a HEAD route
// of its own is never reached: the GET route answers.
func routeHeadAsGet(e *echo.Echo) {
	e.Pre(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if r := c.Request(); r.Method == http.MethodHead {
				r.Method = http.MethodGet
				c.Set(headRequest, r)
			}
			return next(c)
		}
	})
	e.Use(func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			if r, ok := c.Get(headRequest).(*http.Request); ok {
				r.Method = http.MethodHead // the request net/http holds: it drops the body of a HEAD
			}
			return next(c)
		}
	})
}

// jsonSerializer writes JSON without HTML escaping: our bodies are read by
// programs, not embedded in pages, and a payment URL should read "&", not
// "\u0026".
type jsonSerializer struct{ echo.DefaultJSONSerializer }

func (jsonSerializer) Serialize(c echo.Context, i any, indent string) error {
	enc := json.NewEncoder(c.Response())
	enc.SetEscapeHTML(false)
	if indent != "" {
		enc.SetIndent("", indent)
	}
	return enc.Encode(i)
}

// ipExtractor believes X-Forwarded-For only when the direct peer is one of the
// trusted proxies. Echo trusts loopback and private ranges by default, which
// would let anyone on the same network spoof their address (and thus dodge
// per-IP rate limits and Payme's IP allow-list), so those defaults are off.
func ipExtractor(trusted []*net.IPNet) echo.IPExtractor {
	if len(trusted) == 0 {
		return echo.ExtractIPDirect()
	}
	opts := []echo.TrustOption{
		echo.TrustLoopback(false),
		echo.TrustLinkLocal(false),
		echo.TrustPrivateNet(false),
	}
	for _, n := range trusted {
		if n != nil {
			opts = append(opts, echo.TrustIPRange(n))
		}
	}
	return echo.ExtractIPFromXFFHeader(opts...)
}

// noStore keeps probes and error bodies out of shared caches.
func noStore(c echo.Context) {
	c.Response().Header().Set(echo.HeaderCacheControl, "no-store")
}

var _ HealthChecker = (*health.Service)(nil)
