// Package testapp boots the whole gateway on loopback ports for end-to-end tests.
package testapp

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/crypto"
	"github.com/ultramarket/gateway/cmd/ultramarket/app"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testenv"
	"github.com/ultramarket/gateway/test/testsupport"
)

// RunningApp is a whole gateway served on loopback ports for a test.
type RunningApp struct {
	*app.App
	BaseURL string // public listener, e.g. http://127.0.0.1:41234
	OpsURL  string
	Logs    *SyncBuffer // the JSON log
	Stdout  *SyncBuffer // one-time demo credentials
	Config  config.Config

	stop func() error
}

// Stop shuts the app down gracefully and returns Run's error.
func (r *RunningApp) Stop() error { return r.stop() }

// SyncBuffer is a bytes buffer safe for the logger and the test to share.
type SyncBuffer = testsupport.SyncBuffer

// Config returns a test configuration on a fresh database (already migrated)
// and loopback ports chosen by the kernel.
func Config(t testing.TB) config.Config {
	t.Helper()
	cfg, err := config.Load(func(k string) (string, bool) {
		v, ok := map[string]string{"APP_ENV": "test", "SMS_PROVIDER": "console"}[k]
		return v, ok
	})
	require.NoError(t, err)
	// Migrations (MIGRATE_ON_START, should a test turn it on) go to Postgres
	// itself, the app through PgBouncer in a TEST_SCALEOUT=pgbouncer run.
	cfg.MigrateDatabaseURL = testenv.DirectPostgresURL(t)
	cfg.DatabaseURL = testenv.AppURL(cfg.MigrateDatabaseURL)
	cfg.RedisURL = testenv.RedisURL()
	cfg.HTTPAddr = "127.0.0.1:0"
	cfg.OpsAddr = "127.0.0.1:0"
	cfg.ShutdownTimeout = 5 * time.Second
	return cfg
}

// StartApp boots the gateway with cfg (see Config) and a Redis prefix of its
// own, serves it, and stops it when the test ends. Several apps may share one
// database and prefix (pass prefix) to act as several instances. opts adjust
// the app.Options (an event subject prefix of the test's own, say).
func StartApp(t testing.TB, cfg config.Config, prefix string, opts ...func(*app.Options)) *RunningApp {
	t.Helper()
	if prefix == "" {
		prefix = testenv.NewRedisPrefix(t)
	}
	logs, stdout := &SyncBuffer{}, &SyncBuffer{}
	params := crypto.TestParams
	ctx := context.Background()
	options := app.Options{
		Logger:       slog.New(slog.NewJSONHandler(logs, nil)),
		Version:      "test",
		Stdout:       stdout,
		RedisPrefix:  prefix,
		HasherParams: &params,
	}
	for _, o := range opts {
		o(&options)
	}
	a, err := app.Build(ctx, cfg, options)
	require.NoError(t, err, "build app")
	require.NoError(t, a.Listen())

	runCtx, cancel := context.WithCancel(ctx)
	done := make(chan error, 1)
	go func() { done <- a.Run(runCtx) }()

	var once sync.Once
	var runErr error
	stop := func() error {
		once.Do(func() {
			cancel()
			select {
			case runErr = <-done:
			case <-time.After(20 * time.Second):
				runErr = errors.New("app did not stop within 20s")
			}
		})
		return runErr
	}
	t.Cleanup(func() { _ = stop() })

	r := &RunningApp{App: a, BaseURL: "http://" + a.PublicAddr(), OpsURL: "http://" + a.OpsAddr(),
		Logs: logs, Stdout: stdout, Config: cfg, stop: stop}
	waitHealthy(t, r.BaseURL+"/health")
	return r
}

func waitHealthy(t testing.TB, url string) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		req, err := http.NewRequestWithContext(context.Background(), http.MethodGet, url, nil)
		require.NoError(t, err)
		resp, err := http.DefaultClient.Do(req)
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return
			}
		}
		time.Sleep(20 * time.Millisecond)
	}
	t.Fatalf("app at %s did not become healthy", url)
}
