package testenv

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/adapters/postgres"
)

// DefaultPostgresURL is the server tests use unless TEST_DATABASE_URL names
// another. Tests never touch its database: each gets one of its own.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// PostgresAdminURL is the server under test: TEST_DATABASE_URL or the default.
func PostgresAdminURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultPostgresURL
}

var (
	adminOnce sync.Once
	adminDB   *sql.DB
	adminErr  error
)

// admin returns a small pool on the server's maintenance database, shared by
// every test of the process, for CREATE and DROP DATABASE. An unreachable
// server fails the test with how to start one: tests never skip.
func admin(t testing.TB) *sql.DB {
	t.Helper()
	adminOnce.Do(func() {
		connector, err := pq.NewConnector(PostgresAdminURL())
		if err != nil {
			adminErr = err
			return
		}
		db := sql.OpenDB(connector)
		db.SetMaxOpenConns(4)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := db.PingContext(ctx); err != nil {
			_ = db.Close()
			adminErr = err
			return
		}
		adminDB = db
	})
	if adminErr != nil {
		t.Fatalf("testenv: Postgres at %s is not reachable: %v\n"+
			"Start it with `make services` (or point TEST_DATABASE_URL at a server where user may CREATE DATABASE).",
			redactURL(PostgresAdminURL()), adminErr)
	}
	return adminDB
}

// EmptyDatabaseURL returns the URL of a database that does not exist yet,
// named ut_<random hex> on the test server, for tests of code that creates
// and migrates its own database. It is dropped (if it was created) when the
// test ends, connections or not.
func EmptyDatabaseURL(t testing.TB) string {
	t.Helper()
	db := admin(t)
	name := "ut_" + randomHex(t, 8)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		if _, err := db.ExecContext(ctx, "DROP DATABASE IF EXISTS "+pq.QuoteIdentifier(name)+" WITH (FORCE)"); err != nil {
			t.Errorf("testenv: drop database %s: %v", name, err)
		}
	})
	return withDatabase(t, PostgresAdminURL(), name)
}

// PostgresURL creates a fresh database with every migration applied and
// returns its URL, for booting the whole app on it. It is dropped when the
// test ends. In a TEST_SCALEOUT=pgbouncer run the URL goes through PgBouncer,
// as a production DATABASE_URL does; the database is still created and
// migrated directly (DirectPostgresURL), as production migrations are.
func PostgresURL(t testing.TB) string {
	t.Helper()
	return AppURL(DirectPostgresURL(t))
}

// AppURL is how the app reaches the database directURL names in this run:
// through PgBouncer in a TEST_SCALEOUT=pgbouncer run, else directURL itself.
func AppURL(directURL string) string {
	if scaleout.pgbouncer != nil {
		return scaleout.pgbouncer.URL(directURL)
	}
	return directURL
}

// DirectPostgresURL is PostgresURL on the Postgres server itself, whatever
// the run.
func DirectPostgresURL(t testing.TB) string {
	t.Helper()
	dbURL := EmptyDatabaseURL(t)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	if err := postgres.EnsureDatabase(ctx, dbURL); err != nil {
		t.Fatalf("testenv: create database: %v", err)
	}
	db, err := postgres.Open(ctx, dbURL, postgres.PoolOptions{MaxOpenConns: 2})
	if err != nil {
		t.Fatalf("testenv: open fresh database: %v", err)
	}
	defer db.Close()
	if err := postgres.Migrate(ctx, db.DB, "up", nil); err != nil {
		t.Fatalf("testenv: migrate fresh database: %v", err)
	}
	return dbURL
}

// Postgres returns a pool on a fresh, migrated database of its own; the pool
// is closed and the database dropped when the test ends.
func Postgres(t testing.TB) *sqlx.DB {
	t.Helper()
	return OpenURL(t, PostgresURL(t))
}

// OpenURL opens a pool on dbURL and closes it when the test ends.
func OpenURL(t testing.TB, dbURL string) *sqlx.DB {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	db, err := postgres.Open(ctx, dbURL, postgres.PoolOptions{MaxOpenConns: 10})
	if err != nil {
		t.Fatalf("testenv: open %s: %v", redactURL(dbURL), err)
	}
	t.Cleanup(func() { _ = db.Close() })
	return db
}

// withDatabase returns base with its database replaced by name; base may be
// a postgres:// URL or a key=value DSN.
func withDatabase(t testing.TB, base, name string) string {
	t.Helper()
	if strings.HasPrefix(base, "postgres://") || strings.HasPrefix(base, "postgresql://") {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatalf("testenv: TEST_DATABASE_URL: %v", err)
		}
		u.Path, u.RawPath = "/"+name, ""
		return u.String()
	}
	return base + " dbname=" + name // the last dbname wins
}

func redactURL(s string) string {
	if u, err := url.Parse(s); err == nil && u.Scheme != "" {
		return u.Redacted()
	}
	return "(the configured server)"
}

func randomHex(t testing.TB, n int) string {
	t.Helper()
	b := make([]byte, n)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("testenv: random: %v", err)
	}
	return hex.EncodeToString(b)
}
