package app

import (
	"context"
	"io"
	"log/slog"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// Shutdown lets a background pass in flight finish with a live context
// (jobGrace) instead of cancelling the statements it runs: a cancel is a
// CancelRequest, which Debian 12's PgBouncer can crash on.
func TestShutdownLetsAPassInFlightFinish(t *testing.T) {
	a := &App{log: slog.New(slog.NewJSONHandler(io.Discard, nil))}
	inPass, finish := make(chan struct{}), make(chan struct{})
	var ended atomic.Bool
	a.addLoop("test", time.Hour, func(ctx context.Context) (int, error) {
		close(inPass)
		<-finish
		ended.Store(ctx.Err() != nil)
		return 1, nil
	}, func(int, error) {})

	stop := a.startJobs(context.Background())
	<-inPass
	stopped := make(chan struct{})
	go func() { stop(); close(stopped) }()
	select {
	case <-stopped:
		t.Fatal("shutdown returned while a pass was still running")
	case <-time.After(50 * time.Millisecond):
	}
	close(finish)
	select {
	case <-stopped:
	case <-time.After(jobGrace):
		require.Fail(t, "shutdown did not return once the pass had finished")
	}
	assert.False(t, ended.Load(), "the pass's context was live until it finished")
}
