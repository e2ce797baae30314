package postgres_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/test/testenv"
)

// Through PgBouncer in transaction pooling mode, a client connection gets a
// server connection only until its transaction ends, and a statement outside
// a transaction is a transaction of its own. A query sent in two round trips
// (Parse, Sync; then Bind, Execute, Sync: lib/pq's default for a query with
// arguments) can therefore be bound on another server connection than it was
// parsed on, where the unnamed statement is someone else's: it fails, or runs
// the other client's SQL with these arguments. Open sends each query in one
// round trip, so this cannot happen.
func TestOpen_ThroughPgBouncerEachQueryRunsItsOwnStatement(t *testing.T) {
	t.Parallel()
	// One server connection for every client: the worst case, and the surest
	// way to make clients take turns on it between their round trips.
	bouncer := testenv.StartPgBouncerT(t, testenv.PgBouncerOptions{PoolSize: 1})
	db, err := postgres.Open(ctx(t), bouncer.URL(testenv.DirectPostgresURL(t)), postgres.PoolOptions{MaxOpenConns: 8})
	require.NoError(t, err)
	t.Cleanup(func() { _ = db.Close() })

	const workers, queries = 8, 150
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		failures = map[string]int{}
	)
	for w := range workers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			// A statement of this worker's own: its text names the worker.
			query := fmt.Sprintf("SELECT $1::int * 100 + %d", w)
			for i := range queries {
				var got int
				err := db.QueryRowContext(context.Background(), query, i).Scan(&got)
				mu.Lock()
				switch {
				case err != nil:
					failures[err.Error()]++
				case got != i*100+w:
					failures["another client's statement answered"]++
				}
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	assert.Empty(t, failures, "%d queries through PgBouncer", workers*queries)
}
