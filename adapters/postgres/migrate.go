package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"path"

	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/ultramarket/gateway/migrations"
)

// Migrate applies the embedded migrations (migrations.FS) to db with goose:
//
//	up      apply every pending migration
//	down    roll back the most recent one
//	reset   roll back all of them
//	status  list each migration as applied (with its time) or pending
//
// Progress goes to out (nil discards it); goose itself logs nothing. A
// Postgres advisory lock (held on one connection for the duration) keeps
// instances that start at once from migrating the same database together.
func Migrate(ctx context.Context, db *sql.DB, cmd string, out io.Writer) error {
	if out == nil {
		out = io.Discard
	}
	p, err := newProvider(db)
	if err != nil {
		return err
	}
	switch cmd {
	case "up":
		res, err := p.Up(ctx)
		printResults(out, res, err)
		if err != nil {
			return fmt.Errorf("postgres: migrate up: %w", err)
		}
		if len(res) == 0 {
			fmt.Fprintln(out, "migrations: up to date")
		}
	case "down":
		r, err := p.Down(ctx)
		if errors.Is(err, goose.ErrNoNextVersion) {
			fmt.Fprintln(out, "migrations: nothing to roll back")
			return nil
		}
		printResults(out, []*goose.MigrationResult{r}, err)
		if err != nil {
			return fmt.Errorf("postgres: migrate down: %w", err)
		}
	case "reset":
		res, err := p.DownTo(ctx, 0)
		printResults(out, res, err)
		if err != nil {
			return fmt.Errorf("postgres: migrate reset: %w", err)
		}
	case "status":
		st, err := p.Status(ctx)
		if err != nil {
			return fmt.Errorf("postgres: migrate status: %w", err)
		}
		for _, s := range st {
			applied := "pending"
			if s.State == goose.StateApplied {
				applied = "applied " + s.AppliedAt.UTC().Format("2006-01-02T15:04:05Z")
			}
			fmt.Fprintf(out, "%-5d %-30s %s\n", s.Source.Version, path.Base(s.Source.Path), applied)
		}
	default:
		return fmt.Errorf("postgres: unknown migrate command %q (want up, down, reset or status)", cmd)
	}
	return nil
}

// MigrationsPending reports whether db lacks some embedded migration (for a
// readiness or start-up check when MIGRATE_ON_START is off).
func MigrationsPending(ctx context.Context, db *sql.DB) (bool, error) {
	p, err := newProvider(db)
	if err != nil {
		return false, err
	}
	pending, err := p.HasPending(ctx)
	if err != nil {
		return false, fmt.Errorf("postgres: check migrations: %w", err)
	}
	return pending, nil
}

func newProvider(db *sql.DB) (*goose.Provider, error) {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 120))
	if err != nil {
		return nil, fmt.Errorf("postgres: migration lock: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, db, migrations.FS,
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true),
		goose.WithLogger(goose.NopLogger()),
	)
	if err != nil {
		return nil, fmt.Errorf("postgres: load migrations: %w", err)
	}
	return p, nil
}

// printResults writes one line per migration run; on failure goose returns
// the results in a *goose.PartialError instead.
func printResults(out io.Writer, res []*goose.MigrationResult, err error) {
	if pe := (*goose.PartialError)(nil); errors.As(err, &pe) {
		res = append(append([]*goose.MigrationResult{}, pe.Applied...), pe.Failed)
	}
	for _, r := range res {
		if r == nil {
			continue
		}
		if r.Error != nil {
			fmt.Fprintf(out, "FAILED %s %s: %v\n", r.Direction, path.Base(r.Source.Path), r.Error)
			continue
		}
		fmt.Fprintln(out, r.String())
	}
}
