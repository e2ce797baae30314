package health_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/health"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testsupport"
)

// pingFunc adapts a function to ports.Pinger.
type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func up() pingFunc { return func(context.Context) error { return nil } }

func failing(err error) pingFunc { return func(context.Context) error { return err } }

type realClock struct{}

func (realClock) Now() time.Time { return time.Now() }

func TestReady_AllUp(t *testing.T) {
	svc := health.NewService(health.Dependencies{Postgres: up(), Redis: up(), Catalog: failing(errors.New("x"))}, realClock{}, 0)

	r := svc.Ready(context.Background())

	assert.Equal(t, health.StatusOK, r.Status)
	assert.True(t, r.OK())
	require.Len(t, r.Checks, 2, "readiness ignores the catalog")
	for _, name := range []string{health.Postgres, health.Redis} {
		assert.Equal(t, health.CheckOK, r.Checks[name].Status, name)
		assert.Empty(t, r.Checks[name].Error, name)
	}
}

func TestReady_FailureIsSanitized(t *testing.T) {
	leaky := errors.New(`dial tcp: redis://default:s3cret@10.1.2.3:6379/0: connect: connection refused`)
	svc := health.NewService(health.Dependencies{Postgres: up(), Redis: failing(leaky)}, realClock{}, time.Second)

	r := svc.Ready(context.Background())

	assert.Equal(t, health.StatusUnavailable, r.Status)
	assert.Equal(t, health.CheckOK, r.Checks[health.Postgres].Status)
	assert.Equal(t, health.Check{Status: health.CheckDown, Error: health.ErrTextUnreachable, LatencyMS: r.Checks[health.Redis].LatencyMS}, r.Checks[health.Redis])
	assert.NotContains(t, r.Checks[health.Redis].Error, "s3cret")
}

func TestReady_HangingPingerTimesOut(t *testing.T) {
	block := make(chan struct{})
	defer close(block)
	deaf := pingFunc(func(context.Context) error { <-block; return nil }) // ignores its context
	svc := health.NewService(health.Dependencies{Postgres: deaf, Redis: up()}, realClock{}, 50*time.Millisecond)

	start := time.Now()
	r := svc.Ready(context.Background())

	assert.Less(t, time.Since(start), time.Second, "the probe must not wait for a deaf dependency")
	assert.Equal(t, health.StatusUnavailable, r.Status)
	assert.Equal(t, health.ErrTextTimeout, r.Checks[health.Postgres].Error)
	assert.GreaterOrEqual(t, r.Checks[health.Postgres].LatencyMS, 45.0)
}

func TestReady_DriverTimeoutErrorReadsTimeout(t *testing.T) {
	svc := health.NewService(health.Dependencies{
		Postgres: failing(netTimeout{}),
		Redis:    failing(context.DeadlineExceeded),
	}, realClock{}, time.Second)

	r := svc.Ready(context.Background())

	assert.Equal(t, health.ErrTextTimeout, r.Checks[health.Postgres].Error)
	assert.Equal(t, health.ErrTextTimeout, r.Checks[health.Redis].Error)
}

type netTimeout struct{}

func (netTimeout) Error() string   { return "i/o timeout on postgres://u:pw@db/x" }
func (netTimeout) Timeout() bool   { return true }
func (netTimeout) Temporary() bool { return true }

func TestReady_PingsRunConcurrently(t *testing.T) {
	slow := pingFunc(func(ctx context.Context) error {
		select {
		case <-time.After(150 * time.Millisecond):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	})
	svc := health.NewService(health.Dependencies{Postgres: slow, Redis: slow}, realClock{}, time.Second)

	start := time.Now()
	r := svc.Ready(context.Background())

	assert.True(t, r.OK())
	assert.Less(t, time.Since(start), 290*time.Millisecond, "two 150ms pings in sequence would take 300ms")
}

func TestReady_LatencyComesFromTheClock(t *testing.T) {
	// One ping (two readings) takes exactly one step.
	clock := testsupport.NewStepClock(time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), 1500*time.Microsecond)
	svc := health.NewService(health.Dependencies{}, clock, time.Second)

	r := svc.Run(context.Background(), map[string]ports.Pinger{health.Postgres: up()})

	assert.Equal(t, 1.5, r.Checks[health.Postgres].LatencyMS)
}

func TestDetailed_IncludesCatalogOnlyWhenConfigured(t *testing.T) {
	with := health.NewService(health.Dependencies{Postgres: up(), Redis: up(), Catalog: failing(errors.New("503"))}, realClock{}, time.Second)
	r := with.Detailed(context.Background())
	assert.Equal(t, health.StatusUnavailable, r.Status)
	assert.Equal(t, health.CheckDown, r.Checks[health.Catalog].Status)

	without := health.NewService(health.Dependencies{Postgres: up(), Redis: up()}, realClock{}, time.Second)
	r = without.Detailed(context.Background())
	assert.True(t, r.OK())
	assert.NotContains(t, r.Checks, health.Catalog)
}

func TestRun_PanickingOrMissingPingerIsDown(t *testing.T) {
	svc := health.NewService(health.Dependencies{}, realClock{}, time.Second)

	r := svc.Ready(context.Background()) // nothing wired
	assert.Equal(t, health.StatusUnavailable, r.Status)
	assert.Equal(t, health.CheckDown, r.Checks[health.Postgres].Status)

	r = svc.Run(context.Background(), map[string]ports.Pinger{"boom": pingFunc(func(context.Context) error { panic("driver bug") })})
	assert.Equal(t, health.Check{Status: health.CheckDown, Error: health.ErrTextFailed, LatencyMS: r.Checks["boom"].LatencyMS}, r.Checks["boom"])
}

func TestNewChecker_NamedPingers(t *testing.T) {
	svc := health.NewChecker(realClock{}, map[string]ports.Pinger{
		health.Postgres: up(),
		health.Redis:    up(),
		health.Catalog:  failing(errors.New("catalog down")),
	})

	ready := svc.Ready(context.Background())
	assert.True(t, ready.OK(), "readiness ignores the catalog")
	assert.Len(t, ready.Checks, 2)

	detailed := svc.Detailed(context.Background())
	assert.Equal(t, health.StatusUnavailable, detailed.Status)
	assert.Len(t, detailed.Checks, 3)
	assert.Equal(t, health.ErrTextUnreachable, detailed.Checks[health.Catalog].Error)

	noRedis := health.NewChecker(realClock{}, map[string]ports.Pinger{health.Postgres: up()})
	assert.Equal(t, health.CheckDown, noRedis.Ready(context.Background()).Checks[health.Redis].Status, "an unwired dependency is down")
}
