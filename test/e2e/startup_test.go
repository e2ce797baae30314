package e2e

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/crypto"
	"github.com/ultramarket/gateway/cmd/ultramarket/app"
	"github.com/ultramarket/gateway/test/testapp"
	"github.com/ultramarket/gateway/test/testenv"
)

// A start with MIGRATE_ON_START on a database that already has every
// migration (the start-up fast path) uses the pool on DATABASE_URL only: no
// maintenance connection, no migration pool on MIGRATE_DATABASE_URL, no
// goose lock. Here MIGRATE_DATABASE_URL names a port nothing listens on, so
// a start that went to it would fail.
func TestStartup_AnUpToDateDatabaseStartsOnTheAppPoolAlone(t *testing.T) {
	t.Parallel()
	cfg := testapp.Config(t) // a migrated database
	cfg.MigrateOnStart = true
	cfg.MigrateDatabaseURL = "postgres://postgres@127.0.0.1:1/nowhere?sslmode=disable&connect_timeout=2"

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	params := crypto.TestParams
	a, err := app.Build(ctx, cfg, app.Options{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)), RedisPrefix: testenv.NewRedisPrefix(t), HasherParams: &params,
	})
	require.NoError(t, err)
	require.NoError(t, a.Listen())
	stopped, stop := context.WithCancel(context.Background())
	stop()
	require.NoError(t, a.Run(stopped)) // closes the pools
}
