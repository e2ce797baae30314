package metrics

import (
	"database/sql"
	"sync/atomic"

	"github.com/prometheus/client_golang/prometheus"
)

// dbPoolCollector reads sql.DBStats at scrape time. A collector (rather than
// gauges updated on a timer) means the numbers are never stale and no
// goroutine has to be stopped at shutdown.
//
// It is registered when Metrics is built, before the database exists, so the
// source is swapped in later through an atomic pointer instead of registering a
// second collector (which the registry would refuse as a duplicate).
type dbPoolCollector struct {
	source atomic.Pointer[func() sql.DBStats]

	open, inUse, idle, maxOpen *prometheus.Desc
	waitCount, waitDuration    *prometheus.Desc
}

func newDBPoolCollector() *dbPoolCollector {
	return &dbPoolCollector{
		open:         prometheus.NewDesc("db_pool_open_connections", "Open connections to Postgres, in use and idle.", nil, nil),
		inUse:        prometheus.NewDesc("db_pool_in_use", "Connections currently in use.", nil, nil),
		idle:         prometheus.NewDesc("db_pool_idle", "Idle connections.", nil, nil),
		maxOpen:      prometheus.NewDesc("db_pool_max_open", "Maximum open connections allowed (0 = unlimited).", nil, nil),
		waitCount:    prometheus.NewDesc("db_pool_wait_count_total", "Times a request had to wait for a free connection.", nil, nil),
		waitDuration: prometheus.NewDesc("db_pool_wait_duration_seconds_total", "Total time spent waiting for a free connection.", nil, nil),
	}
}

func (c *dbPoolCollector) watch(stats func() sql.DBStats) {
	if stats == nil {
		c.source.Store(nil)
		return
	}
	c.source.Store(&stats)
}

// Describe implements prometheus.Collector.
func (c *dbPoolCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{c.open, c.inUse, c.idle, c.maxOpen, c.waitCount, c.waitDuration} {
		ch <- d
	}
}

// Collect implements prometheus.Collector. Without a source it sends nothing,
// which the registry allows: the series simply do not exist yet.
func (c *dbPoolCollector) Collect(ch chan<- prometheus.Metric) {
	src := c.source.Load()
	if src == nil {
		return
	}
	s := (*src)()
	ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(s.OpenConnections))
	ch <- prometheus.MustNewConstMetric(c.inUse, prometheus.GaugeValue, float64(s.InUse))
	ch <- prometheus.MustNewConstMetric(c.idle, prometheus.GaugeValue, float64(s.Idle))
	ch <- prometheus.MustNewConstMetric(c.maxOpen, prometheus.GaugeValue, float64(s.MaxOpenConnections))
	ch <- prometheus.MustNewConstMetric(c.waitCount, prometheus.CounterValue, float64(s.WaitCount))
	ch <- prometheus.MustNewConstMetric(c.waitDuration, prometheus.CounterValue, s.WaitDuration.Seconds())
}
