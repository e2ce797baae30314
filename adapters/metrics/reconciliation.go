package metrics

import (
	"context"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// reconcileScrapeTimeout bounds the query behind reconciliation_issues_open,
// so a slow database slows a scrape by at most this much.
const reconcileScrapeTimeout = 2 * time.Second

// OpenIssueCounter counts the open reconciliation issues by kind, every kind
// listed (with 0 when none is open).
type OpenIssueCounter func(ctx context.Context) (map[string]int64, error)

// reconcileCollector reads the open issues at scrape time, from Postgres:
// every instance reports the same numbers, whichever ran the job.
type reconcileCollector struct {
	count OpenIssueCounter
	open  *prometheus.Desc
}

// WatchReconciliation registers reconciliation_issues_open{kind}, read
// through count at every scrape. Call it once; when the count fails the
// series are left out of that scrape rather than reported as 0.
func (m *Metrics) WatchReconciliation(count OpenIssueCounter) error {
	if m == nil || count == nil {
		return nil
	}
	return m.registry.Register(&reconcileCollector{count: count, open: prometheus.NewDesc("reconciliation_issues_open",
		"Reconciliation issues not resolved yet, by kind.", []string{"kind"}, nil)})
}

// Describe implements prometheus.Collector.
func (c *reconcileCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.open }

// Collect implements prometheus.Collector.
func (c *reconcileCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), reconcileScrapeTimeout)
	defer cancel()
	counts, err := c.count(ctx)
	if err != nil {
		return
	}
	for kind, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.open, prometheus.GaugeValue, float64(n), kind)
	}
}
