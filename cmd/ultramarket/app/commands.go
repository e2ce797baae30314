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

// Migrate is `ultramarket migrate up|down|status`. `up` creates the database
// first when it is missing, so a fresh machine needs nothing else.
func Migrate(ctx context.Context, cfg config.Config, cmd string, out io.Writer) error {
	if cmd == "up" {
		if err := postgres.EnsureDatabase(ctx, cfg.DatabaseURL); err != nil {
			return fmt.Errorf("ensure database: %w", err)
		}
	}
	db, err := postgres.Open(ctx, cfg.DatabaseURL, postgres.PoolOptions{})
	if err != nil {
		return fmt.Errorf("open postgres: %w", err)
	}
	defer db.Close()
	return postgres.Migrate(ctx, db.DB, cmd, out)
}

// CreateAdmin is `ultramarket create-admin`. It migrates first (when the
// database is new the users table must exist).
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
