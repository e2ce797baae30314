// Package metrics owns the gateway's Prometheus collectors.
//
// It keeps a private registry instead of prometheus.DefaultRegisterer so that
// tests can build as many Metrics as they like without "duplicate collector"
// panics, and so /metrics shows exactly what this service registered (plus the
// Go runtime and process collectors), nothing a dependency slipped into the
// global registry.
//
// Every recording method is safe on a nil *Metrics and then does nothing:
// adapters and tests that do not care about metrics can pass nil instead of
// building a registry.
package metrics

import (
	"database/sql"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/ultramarket/gateway/adapters/webhook"
	"github.com/ultramarket/gateway/domain/payment"
)

// CircuitState is the value of the catalog_circuit_state gauge.
type CircuitState int

// The gauge values are part of the dashboard contract: 0 closed, 1 half-open, 2 open.
const (
	CircuitClosed   CircuitState = 0
	CircuitHalfOpen CircuitState = 1
	CircuitOpen     CircuitState = 2
)

// Metrics holds the registry and every collector the gateway exposes.
type Metrics struct {
	registry *prometheus.Registry

	requests            *prometheus.CounterVec
	duration            *prometheus.HistogramVec
	rateLimitRejections *prometheus.CounterVec
	rateLimitFailOpen   prometheus.Counter
	catalogCircuit      prometheus.Gauge
	payments            *prometheus.CounterVec
	otpCodes            *prometheus.CounterVec
	dbPool              *dbPoolCollector
	outbox              *outboxCollector
}

// New builds a Metrics with its own registry.
func New() *Metrics {
	m := &Metrics{
		registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "http_requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method and route template.",
			Buckets: prometheus.DefBuckets,
		}, []string{"method", "route"}),
		rateLimitRejections: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "rate_limit_rejections_total",
			Help: "Requests refused with 429 by a rate limit, by limit scope.",
		}, []string{"scope"}),
		rateLimitFailOpen: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "rate_limit_fail_open_total",
			Help: "Requests let through because the rate-limit store could not be reached.",
		}),
		catalogCircuit: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "catalog_circuit_state",
			Help: "State of the product catalog circuit breaker: 0 closed, 1 half-open, 2 open.",
		}),
		payments: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "payments_total",
			Help: "Payment gateway operations, by provider and outcome.",
		}, []string{"provider", "outcome"}),
		otpCodes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "otp_codes_total",
			Help: "One-time login codes asked for by SMS, by outcome: sent, failed (the gateway failed), rate_limited.",
		}, []string{"outcome"}),
		dbPool: newDBPoolCollector(),
		outbox: newOutboxCollector(),
	}
	m.registry.MustRegister(
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.requests,
		m.duration,
		m.rateLimitRejections,
		m.rateLimitFailOpen,
		m.catalogCircuit,
		m.payments,
		m.otpCodes,
		m.dbPool,
		m.outbox,
	)
	// The series alerts watch exist at 0 from the start (Prometheus' advice
	// for label values known in advance): a family that appears only with
	// its first sample reads as "no data" on a dashboard, and rate() over it
	// misses the first increase. The rate-limit scopes are the edge's to
	// name (RateLimitScopes).
	for _, provider := range []payment.Provider{payment.ProviderPayme, payment.ProviderClick} {
		for _, outcome := range []string{webhook.OutcomeError, webhook.OutcomeRejected} {
			m.payments.WithLabelValues(string(provider), outcome)
		}
	}
	return m
}

// RateLimitScopes makes rate_limit_rejections_total{scope} exist at 0 for
// each scope, before any refusal.
func (m *Metrics) RateLimitScopes(scopes ...string) {
	if m == nil {
		return
	}
	for _, scope := range scopes {
		m.rateLimitRejections.WithLabelValues(scope)
	}
}

// Handler serves the registry in the Prometheus exposition format.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.registry, promhttp.HandlerOpts{
		// Counts scrape failures in the same registry, so a broken collector
		// shows up on the dashboard instead of only in a scrape error.
		Registry: m.registry,
	})
}

// Registry lets the wiring code register collectors this package does not know
// about (and tests gather values) without going through the global registry.
func (m *Metrics) Registry() *prometheus.Registry { return m.registry }

// ObserveRequest records one answered HTTP request. route must be a route
// template (or another bounded value), never the raw path, or every product id
// would become its own time series.
func (m *Metrics) ObserveRequest(method, route string, status int, elapsed time.Duration) {
	if m == nil {
		return
	}
	m.requests.WithLabelValues(method, route, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(method, route).Observe(elapsed.Seconds())
}

// RateLimitRejected counts one request refused by the limit named scope
// (e.g. "auth", "api", "login").
func (m *Metrics) RateLimitRejected(scope string) {
	if m == nil {
		return
	}
	m.rateLimitRejections.WithLabelValues(scope).Inc()
}

// RateLimitFailedOpen counts one request admitted because the limiter's store
// failed; a rising rate means limits are silently not enforced.
func (m *Metrics) RateLimitFailedOpen() {
	if m == nil {
		return
	}
	m.rateLimitFailOpen.Inc()
}

// SetCatalogCircuit publishes the catalog circuit breaker's state.
func (m *Metrics) SetCatalogCircuit(state CircuitState) {
	if m == nil {
		return
	}
	m.catalogCircuit.Set(float64(state))
}

// PaymentRecorded counts one payment operation. Keep outcome to a small fixed
// set (e.g. "created", "performed", "cancelled", "refunded", "rejected").
func (m *Metrics) PaymentRecorded(provider, outcome string) {
	if m == nil {
		return
	}
	m.payments.WithLabelValues(provider, outcome).Inc()
}

// OTPCodeRequested counts one request for a login code by its outcome
// (ports.OTPSent, OTPSendFailed, OTPRateLimited): many sends and few logins
// is what SMS pumping looks like.
func (m *Metrics) OTPCodeRequested(outcome string) {
	if m == nil {
		return
	}
	m.otpCodes.WithLabelValues(outcome).Inc()
}

// WatchDBPool makes the db_pool_* metrics read from stats (usually
// (*sql.DB).Stats or (*sqlx.DB).Stats) at every scrape. Calling it again
// replaces the source; until it is called the db_pool_* metrics are absent.
func (m *Metrics) WatchDBPool(stats func() sql.DBStats) {
	if m == nil {
		return
	}
	m.dbPool.watch(stats)
}
