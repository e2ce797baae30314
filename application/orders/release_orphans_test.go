package orders_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

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

func TestReleaseOrphanedStock_RunSweepsAtOnceThenEveryIntervalUntilCancelled(t *testing.T) {
	cat := &fakeOrphans{results: []int{2}}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var mu sync.Mutex
	var reports []int
	done := make(chan error, 1)
	go func() {
		done <- orders.NewReleaseOrphanedStock(cat, testsupport.FixedClock(now)).Run(ctx, time.Millisecond, func(n int, err error) {
			mu.Lock()
			defer mu.Unlock()
			assert.NoError(t, err)
			reports = append(reports, n)
			if len(reports) == 3 {
				cancel()
			}
		})
	}()
	select {
	case err := <-done:
		require.NoError(t, err)
	case <-time.After(5 * time.Second):
		t.Fatal("Run did not stop when its context ended")
	}
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, []int{2, 0, 0}, reports)
}

func TestReleaseOrphanedStock_RunRefusesANonPositiveInterval(t *testing.T) {
	cat := &fakeOrphans{}
	assert.Error(t, orders.NewReleaseOrphanedStock(cat, testsupport.FixedClock(now)).Run(context.Background(), 0, nil))
	assert.Empty(t, cat.calls)
}
