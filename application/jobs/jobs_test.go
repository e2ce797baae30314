package jobs_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/jobs"
	"github.com/ultramarket/gateway/test/testsupport"
)

// passed is the report of a pass that did n and did not fail.
func passed(n int) testsupport.JobReport { return testsupport.JobReport{N: n} }

// counting is a pass that returns how many times it ran.
func counting() (jobs.Pass, *atomic.Int32) {
	var runs atomic.Int32
	return func(context.Context) (int, error) { return int(runs.Add(1)), nil }, &runs
}

func TestRun_PassesAtOnceThenOncePerTick(t *testing.T) {
	pass, _ := counting()
	l := testsupport.StartJob(t, pass, jobs.Config{})

	assert.Equal(t, passed(1), l.Next(t), "the first pass runs at start-up")
	l.Ticker.Tick(t)
	assert.Equal(t, passed(2), l.Next(t))
	l.Ticker.Tick(t)
	assert.Equal(t, passed(3), l.Next(t))

	require.NoError(t, l.Stop(t))
	assert.True(t, l.Ticker.Stopped(), "Run lets go of its ticker")
	assert.Zero(t, l.Unread(), "no pass after the context ended")
}

func TestRun_WaitFirstPassesAfterTheFirstTick(t *testing.T) {
	started, release := make(chan struct{}, 1), make(chan struct{})
	pass := func(ctx context.Context) (int, error) {
		started <- struct{}{}
		select { // a pass that ran first would hold the loop here, and the tick below would find nobody waiting
		case <-release:
		case <-ctx.Done():
		}
		return 1, nil
	}
	l := testsupport.StartJob(t, pass, jobs.Config{WaitFirst: true})

	l.Ticker.Tick(t) // taken at once: the loop waits before its first pass
	<-started
	close(release)
	assert.Equal(t, passed(1), l.Next(t))
	require.NoError(t, l.Stop(t))
}

func TestRun_RefusesANonPositiveInterval(t *testing.T) {
	for _, interval := range []time.Duration{0, -time.Second} {
		t.Run(interval.String(), func(t *testing.T) {
			pass := func(context.Context) (int, error) {
				t.Error("no pass with a bad interval")
				return 0, nil
			}
			err := jobs.Run(context.Background(), pass, jobs.Config{Interval: interval, Ticker: testsupport.NewTicker()})
			assert.ErrorContains(t, err, "not positive")
		})
	}
}

func TestRun_ReportsFailuresAndGoesOn(t *testing.T) {
	boom := errors.New("db down")
	var runs atomic.Int32
	var ticked atomic.Bool
	pass := func(context.Context) (int, error) {
		if runs.Add(1) == 1 {
			return 2, boom // what a sweep did before it failed is still its count
		}
		assert.True(t, ticked.Load(), "a failed pass waits for the ticker, even when it was full")
		return 0, nil
	}
	l := testsupport.StartJob(t, pass, jobs.Config{Full: 1})

	first := l.Next(t)
	assert.Equal(t, 2, first.N)
	assert.ErrorIs(t, first.Err, boom)
	ticked.Store(true)
	l.Ticker.Tick(t)
	assert.Equal(t, passed(0), l.Next(t))
	require.NoError(t, l.Stop(t))
}

func TestRun_RecoversFromAPanickingPass(t *testing.T) {
	var runs atomic.Int32
	pass := func(context.Context) (int, error) {
		if runs.Add(1) == 1 {
			panic("a bug in a pass")
		}
		return 5, nil
	}
	l := testsupport.StartJob(t, pass, jobs.Config{})

	first := l.Next(t)
	var p *jobs.PanicError
	require.ErrorAs(t, first.Err, &p)
	assert.Zero(t, first.N)
	assert.Equal(t, "a bug in a pass", p.Value)
	assert.Contains(t, p.Error(), "a bug in a pass")
	assert.NotEmpty(t, p.Stack, "the stack is kept for the log")

	l.Ticker.Tick(t)
	assert.Equal(t, passed(5), l.Next(t), "the job goes on")
	require.NoError(t, l.Stop(t))
}

func TestRun_AFullPassIsFollowedAtOnce(t *testing.T) {
	counts := []int{10, 12, 3, 1}
	var runs atomic.Int32
	var ticked atomic.Bool
	pass := func(context.Context) (int, error) {
		i := runs.Add(1) - 1
		assert.Equal(t, i == 3, ticked.Load(), "pass %d", i)
		return counts[i], nil
	}
	l := testsupport.StartJob(t, pass, jobs.Config{Full: 10})

	// 10 and 12 are full batches: the next pass starts without a tick; 3
	// is not, so the loop waits.
	for _, want := range counts[:3] {
		assert.Equal(t, passed(want), l.Next(t))
	}
	ticked.Store(true)
	l.Ticker.Tick(t)
	assert.Equal(t, passed(1), l.Next(t))
	require.NoError(t, l.Stop(t))
}

func TestRun_NeverOverlapsPasses(t *testing.T) {
	var running, most atomic.Int32
	release := make(chan struct{})
	started := make(chan struct{}, 10)
	pass := func(context.Context) (int, error) {
		n := running.Add(1)
		defer running.Add(-1)
		for m := most.Load(); n > m && !most.CompareAndSwap(m, n); m = most.Load() {
		}
		started <- struct{}{}
		<-release
		return 1, nil
	}
	l := testsupport.StartJob(t, pass, jobs.Config{})

	<-started
	for range 3 {
		assert.False(t, l.Ticker.TryTick(), "nobody waits for a tick while a pass runs: it is dropped")
	}
	release <- struct{}{}
	assert.Equal(t, passed(1), l.Next(t))
	assert.Empty(t, started, "the dropped ticks started nothing")

	l.Ticker.Tick(t)
	<-started
	release <- struct{}{}
	assert.Equal(t, passed(1), l.Next(t))
	assert.Equal(t, int32(1), most.Load(), "one pass at a time")
	require.NoError(t, l.Stop(t))
}

func TestRun_StopsPromptlyAndDoesNotReportACutShortPass(t *testing.T) {
	t.Run("while waiting", func(t *testing.T) {
		pass, runs := counting()
		l := testsupport.StartJob(t, pass, jobs.Config{})
		assert.Equal(t, passed(1), l.Next(t))
		require.NoError(t, l.Stop(t))
		assert.Equal(t, int32(1), runs.Load())
	})
	t.Run("during a pass", func(t *testing.T) {
		inPass := make(chan struct{})
		pass := func(ctx context.Context) (int, error) {
			close(inPass)
			<-ctx.Done() // the pass sees the same context end
			return 3, ctx.Err()
		}
		l := testsupport.StartJob(t, pass, jobs.Config{})
		<-inPass
		require.NoError(t, l.Stop(t))
		assert.Zero(t, l.Unread(), "a pass cut short by shutdown is not a failure to report")
	})
}

// With a grace, shutdown lets a pass in flight finish rather than cancel
// what it is doing (each cancelled statement is a CancelRequest to Postgres
// or PgBouncer), and Run returns once it has; it is still not reported.
func TestRun_GraceLetsAPassInFlightFinish(t *testing.T) {
	inPass, finish := make(chan struct{}), make(chan struct{})
	var sawEnd atomic.Bool
	pass := func(ctx context.Context) (int, error) {
		close(inPass)
		<-finish
		sawEnd.Store(ctx.Err() != nil)
		return 3, nil
	}
	l := testsupport.StartJob(t, pass, jobs.Config{Grace: time.Hour})
	<-inPass
	stopped := make(chan error, 1)
	go func() { stopped <- l.Stop(t) }()
	select {
	case err := <-stopped:
		t.Fatalf("Run returned (%v) while its pass was still running", err)
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	require.NoError(t, <-stopped)
	assert.False(t, sawEnd.Load(), "the pass's context was still live when it finished")
	assert.Zero(t, l.Unread(), "a pass in flight at shutdown is not reported")
}

// A pass that outlasts the grace sees its context end then, with the cause
// of the shutdown.
func TestRun_GraceEndsThePassAfterItsLength(t *testing.T) {
	inPass := make(chan struct{})
	cause := make(chan error, 1)
	pass := func(ctx context.Context) (int, error) {
		close(inPass)
		<-ctx.Done()
		cause <- context.Cause(ctx)
		return 0, ctx.Err()
	}
	l := testsupport.StartJob(t, pass, jobs.Config{Grace: 20 * time.Millisecond})
	<-inPass
	began := time.Now()
	require.NoError(t, l.Stop(t))
	assert.GreaterOrEqual(t, time.Since(began), 20*time.Millisecond)
	assert.ErrorIs(t, <-cause, context.Canceled)
}

func TestRun_WithoutAReportHook(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	pass := func(context.Context) (int, error) {
		cancel() // the only pass: then Run must return
		return 1, nil
	}
	assert.NoError(t, jobs.Run(ctx, pass, jobs.Config{Interval: time.Hour}))
}

// While a pass keeps failing, the loop waits twice as many ticks after each
// failure, up to MaxBackoff; a pass that succeeds brings it back to one. A
// wait shorter than expected makes a Tick below find the loop busy in a
// pass (the test fails); a longer one leaves a pass unstarted.
func TestRun_BacksOffAfterFailuresInARow(t *testing.T) {
	boom := errors.New("broker down")
	started := make(chan int, 1)
	results := make(chan error)
	var runs atomic.Int32
	pass := func(ctx context.Context) (int, error) {
		n := int(runs.Add(1))
		started <- n
		select {
		case err := <-results:
			return n, err
		case <-ctx.Done():
			return n, ctx.Err()
		}
	}
	l := testsupport.StartJob(t, pass, jobs.Config{Interval: time.Second, MaxBackoff: 4 * time.Second})
	step := func(want int, err error) {
		t.Helper()
		select {
		case n := <-started:
			require.Equal(t, want, n)
		case <-time.After(10 * time.Second):
			t.Fatalf("pass %d did not start", want)
		}
		results <- err
		assert.Equal(t, testsupport.JobReport{N: want, Err: err}, l.Next(t))
	}
	ticks := func(n int) {
		t.Helper()
		for range n {
			l.Ticker.Tick(t)
		}
	}

	step(1, boom)
	ticks(2) // one failure: two intervals
	step(2, boom)
	ticks(4) // two in a row: four
	step(3, boom)
	ticks(4) // three in a row: eight, capped at MaxBackoff
	step(4, nil)
	ticks(1) // a success resets the backoff
	step(5, nil)
	require.NoError(t, l.Stop(t))
}

func TestRun_WithoutMaxBackoffAFailureWaitsOneTick(t *testing.T) {
	boom := errors.New("db down")
	pass := func(context.Context) (int, error) { return 0, boom }
	l := testsupport.StartJob(t, pass, jobs.Config{Interval: time.Second})
	for range 3 {
		assert.Equal(t, testsupport.JobReport{Err: boom}, l.Next(t))
		l.Ticker.Tick(t)
	}
	require.NoError(t, l.Stop(t))
}
