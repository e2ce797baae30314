package orders_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/test/testsupport"
)

// fakeOrphans answers ReleaseOrphans with the next of its results.
type fakeOrphans struct {
	mu      sync.Mutex
	results []int // released per call; past the end: 0
	err     error
	calls   []orphanCall
}

type orphanCall struct {
	olderThan time.Time
	limit     int
}

func (f *fakeOrphans) ReleaseOrphans(_ context.Context, olderThan time.Time, limit int) (int, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls = append(f.calls, orphanCall{olderThan, limit})
	if f.err != nil {
		return 0, f.err
	}
	if len(f.results) == 0 {
		return 0, nil
	}
	n := f.results[0]
	f.results = f.results[1:]
	return n, nil
}

func TestReleaseOrphanedStock_DrainsFullBatchesOfReservationsOlderThanTenMinutes(t *testing.T) {
	cat := &fakeOrphans{results: []int{3, 3, 1}}
	n, err := orders.NewReleaseOrphanedStock(cat, testsupport.FixedClock(now)).WithBatch(3).Handle(context.Background(), now)
	require.NoError(t, err)
	assert.Equal(t, 7, n)
	cutoff := now.Add(-10 * time.Minute)
	assert.Equal(t, []orphanCall{{cutoff, 3}, {cutoff, 3}, {cutoff, 3}}, cat.calls, "stops after a batch that was not full")
}

func TestReleaseOrphanedStock_ReportsErrors(t *testing.T) {
	boom := errors.New("db down")
	cat := &fakeOrphans{err: boom}
	n, err := orders.NewReleaseOrphanedStock(cat, testsupport.FixedClock(now)).Handle(context.Background(), now)
	assert.ErrorIs(t, err, boom)
	assert.Zero(t, n)
	assert.Equal(t, []orphanCall{{now.Add(-orders.OrphanReservationAge), orders.DefaultOrphanBatch}}, cat.calls)
}

// The orphan sweep is Sweep under the shared runner (jobs.Run): a sweep at
// start-up and then one per tick until the service stops.
func TestReleaseOrphanedStock_SweepsAtOnceThenEveryTickUntilCancelled(t *testing.T) {
	cat := &fakeOrphans{results: []int{2}}
	job := testsupport.StartJob(t, orders.NewReleaseOrphanedStock(cat, testsupport.FixedClock(now)).Sweep, jobs.Config{})

	var reports []int
	for i := range 3 {
		if i > 0 {
			job.Ticker.Tick(t)
		}
		r := job.Next(t)
		assert.NoError(t, r.Err)
		reports = append(reports, r.N)
	}
	require.NoError(t, job.Stop(t))
	assert.Equal(t, []int{2, 0, 0}, reports)
	assert.Len(t, cat.calls, 3)
}

func TestReleaseOrphanedStock_RefusesANonPositiveInterval(t *testing.T) {
	cat := &fakeOrphans{}
	assert.Error(t, jobs.Run(context.Background(), orders.NewReleaseOrphanedStock(cat, testsupport.FixedClock(now)).Sweep, jobs.Config{Interval: 0}))
	assert.Empty(t, cat.calls)
}
