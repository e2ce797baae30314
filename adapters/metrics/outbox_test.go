package metrics_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/adapters/metrics"
)

func TestMetrics_OutboxBacklogReadAtScrapeTime(t *testing.T) {
	m := metrics.New()
	assert.NotContains(t, scrape(t, m), "outbox_", "no source yet: no series")

	backlog := []metrics.OutboxBacklog{{Kind: "event", Pending: 42, OldestAge: 90 * time.Second}, {Kind: "click_receipt"}}
	m.WatchOutbox(func(ctx context.Context) ([]metrics.OutboxBacklog, error) {
		_, bounded := ctx.Deadline()
		assert.True(t, bounded, "a scrape never waits on the database without a limit")
		return backlog, nil
	})
	out := scrape(t, m)
	for _, want := range []string{
		`outbox_backlog{kind="event"} 42`,
		`outbox_oldest_age_seconds{kind="event"} 90`,
		`outbox_backlog{kind="click_receipt"} 0`,
		`outbox_oldest_age_seconds{kind="click_receipt"} 0`,
	} {
		assert.Contains(t, out, want)
	}

	backlog[0].Pending = 0 // drained: the next scrape says so
	assert.Contains(t, scrape(t, m), `outbox_backlog{kind="event"} 0`)
}

func TestMetrics_OutboxBacklogFailureKeepsTheOtherSeries(t *testing.T) {
	m := metrics.New()
	m.SetCatalogCircuit(metrics.CircuitOpen)
	m.WatchOutbox(func(context.Context) ([]metrics.OutboxBacklog, error) { return nil, errors.New("postgres down") })
	out := scrape(t, m)
	assert.NotContains(t, out, "outbox_backlog{")
	assert.Contains(t, out, "catalog_circuit_state 2")
}
