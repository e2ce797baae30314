package metrics

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// OutboxBacklog is the outbox work of one kind not done yet, as the outbox_*
// gauges show it.
type OutboxBacklog struct {
	Kind      string // event, click_receipt
	Pending   int64
	OldestAge time.Duration // how long the oldest pending message has waited; 0 when none does
}

// OutboxSource reads the backlog (application/outbox.Backlog, adapted by the
// wiring).
type OutboxSource func(ctx context.Context) ([]OutboxBacklog, error)

// outboxScrapeTimeout bounds the backlog query of one scrape: a database
// that hangs must not hang /metrics with it.
const outboxScrapeTimeout = 2 * time.Second

// outboxCollector reads the backlog from Postgres at scrape time, like
// dbPoolCollector: never stale, no goroutine to stop. With NATS down the
// backlog grows and its oldest row ages, which is what an alert watches
// (readiness stays about Postgres and Redis).
type outboxCollector struct {
	source atomic.Pointer[OutboxSource]

	pending, oldestAge *prometheus.Desc
}

func newOutboxCollector() *outboxCollector {
	return &outboxCollector{
		pending: prometheus.NewDesc("outbox_backlog", "Outbox messages not delivered yet, by kind.",
			[]string{"kind"}, nil),
		oldestAge: prometheus.NewDesc("outbox_oldest_age_seconds",
			"How long the oldest undelivered outbox message has waited, by kind (0 when none waits).",
			[]string{"kind"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *outboxCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.pending
	ch <- c.oldestAge
}

// Collect implements prometheus.Collector. Without a source, or when the
// backlog cannot be read (Postgres down, which readiness already reports),
// it sends nothing: the series are absent from that scrape and the rest of
// /metrics is still served.
func (c *outboxCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.source.Load()
	if src == nil {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), outboxScrapeTimeout)
	defer cancel()
	rows, err := (*src)(ctx)
	if err != nil {
		return
	}
	for _, r := range rows {
		ch <- prometheus.MustNewConstMetric(c.pending, prometheus.GaugeValue, float64(r.Pending), r.Kind)
		ch <- prometheus.MustNewConstMetric(c.oldestAge, prometheus.GaugeValue, r.OldestAge.Seconds(), r.Kind)
	}
}

// WatchOutbox makes outbox_backlog and outbox_oldest_age_seconds read from
// src at every scrape. Until it is called the series are absent.
func (m *Metrics) WatchOutbox(src OutboxSource) {
	if m == nil {
		return
	}
	if src == nil {
		m.outbox.source.Store(nil)
		return
	}
	m.outbox.source.Store(&src)
}
