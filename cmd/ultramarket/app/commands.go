package app

import (
	"context"
	"fmt"
	"io"

	"github.com/ultramarket/gateway/adapters/crypto"
	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

// Migrate is `ultramarket migrate up|down|status`, on MIGRATE_DATABASE_URL
// (DATABASE_URL unless set): goose's lock is a session-level advisory lock,
// which needs one server session for the whole run, so it must not go
// through a transaction-pooling PgBouncer. `up` creates the database first
// when it is missing, so a fresh machine needs nothing else.
func Migrate(ctx context.Context, cfg config.Config, cmd string, out io.Writer) error {
	if cmd == "up" {
		if err := postgres.EnsureDatabase(ctx, cfg.MigrateDatabaseURL); err != nil {
			return fmt.Errorf("ensure database: %w", err)
		}
	}
	// Two connections: goose's lock holds one for the run.
	db, err := postgres.Open(ctx, cfg.MigrateDatabaseURL, postgres.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		return fmt.Errorf("open postgres for migrations: %w", err)
	}
	defer db.Close()
	return postgres.Migrate(ctx, db.DB, cmd, out)
}

// CreateAdmin is `ultramarket create-admin`. It migrates first (when the
// database is new the users table must exist), on MIGRATE_DATABASE_URL, then
// writes the account through DATABASE_URL.
func CreateAdmin(ctx context.Context, cfg config.Config, email, password, name string) (admin.CreateAdminResult, error) {
	if err := Migrate(ctx, cfg, "up", io.Discard); err != nil {
		return admin.CreateAdminResult{}, err
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{})
	if err != nil {
		return admin.CreateAdminResult{}, fmt.Errorf("open postgres: %w", err)
	}
	defer db.Close()
	hasher, err := crypto.NewPasswordHasher(crypto.DefaultParams, 0)
	if err != nil {
		return admin.CreateAdminResult{}, err
	}
	uc := admin.NewCreateAdmin(postgres.NewTxManager(db), postgres.NewUserRepo(db), hasher, system.UUIDs{}, system.Clock{})
	return uc.Handle(ctx, email, password, name)
}
