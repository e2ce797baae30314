package httpapi

import (
	"net/http"
	"runtime"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/health"
)

type healthHandlers struct {
	cfg  Config
	deps Deps
}

type checkJSON struct {
	Status    string  `json:"status"`
	LatencyMS float64 `json:"latency_ms"`
	Error     string  `json:"error,omitempty"`
}

type readyJSON struct {
	Status string               `json:"status"`
	Checks map[string]checkJSON `json:"checks"`
}

type runtimeJSON struct {
	Goroutines int    `json:"goroutines"`
	HeapBytes  uint64 `json:"heap_bytes"`
}

type dbPoolJSON struct {
	Open  int `json:"open"`
	InUse int `json:"in_use"`
	Idle  int `json:"idle"`
}

type detailedJSON struct {
	Status        string               `json:"status"`
	Version       string               `json:"version"`
	UptimeSeconds int64                `json:"uptime_seconds"`
	Checks        map[string]checkJSON `json:"checks"`
	Runtime       runtimeJSON          `json:"runtime"`
	DBPool        *dbPoolJSON          `json:"db_pool,omitempty"`
}

// live answers while the process serves and touches no dependency: a
// liveness probe that fails with Postgres would restart every instance
// during a database outage, which fixes nothing.
func (h healthHandlers) live(c echo.Context) error {
	noStore(c)
	return c.JSON(http.StatusOK, map[string]string{"status": health.StatusOK})
}

// ready tells the load balancer whether to send traffic here.
func (h healthHandlers) ready(c echo.Context) error {
	report := h.report(c, false)
	noStore(c)
	return c.JSON(statusOf(report), readyJSON{Status: report.Status, Checks: checksJSON(report)})
}

// detailed is for operators (ops listener only): versions and runtime
// numbers are nobody else's business.
func (h healthHandlers) detailed(c echo.Context) error {
	report := h.report(c, true)
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem) // stops the world briefly; fine for an operator endpoint
	body := detailedJSON{
		Status:        report.Status,
		Version:       h.cfg.Version,
		UptimeSeconds: int64(time.Since(h.cfg.StartedAt).Seconds()),
		Checks:        checksJSON(report),
		Runtime:       runtimeJSON{Goroutines: runtime.NumGoroutine(), HeapBytes: mem.HeapAlloc},
	}
	if h.deps.DBStats != nil {
		s := h.deps.DBStats()
		body.DBPool = &dbPoolJSON{Open: s.OpenConnections, InUse: s.InUse, Idle: s.Idle}
	}
	noStore(c)
	return c.JSON(statusOf(report), body)
}

// report runs the checks; a server built without a health use case reports
// itself unavailable rather than pretending all is well.
func (h healthHandlers) report(c echo.Context, detailed bool) health.Report {
	if h.deps.Health == nil {
		return health.Report{Status: health.StatusUnavailable, Checks: map[string]health.Check{}}
	}
	if detailed {
		return h.deps.Health.Detailed(c.Request().Context())
	}
	return h.deps.Health.Ready(c.Request().Context())
}

func statusOf(r health.Report) int {
	if r.OK() {
		return http.StatusOK
	}
	return http.StatusServiceUnavailable
}

func checksJSON(r health.Report) map[string]checkJSON {
	out := make(map[string]checkJSON, len(r.Checks))
	for name, ch := range r.Checks {
		out[name] = checkJSON{Status: ch.Status, LatencyMS: ch.LatencyMS, Error: ch.Error}
	}
	return out
}
