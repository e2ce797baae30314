package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// PoolOptions sizes the connection pool. Zero fields take the defaults below,
// which suit one gateway instance next to a Postgres with the stock
// max_connections of 100 and a few instances.
type PoolOptions struct {
	MaxOpenConns    int           // default 20
	MaxIdleConns    int           // default 10 (never more than MaxOpenConns)
	ConnMaxLifetime time.Duration // default 30m: lets a failover or a DNS change take effect
	ConnMaxIdleTime time.Duration // default 5m
	PingTimeout     time.Duration // default 5s: how long Open waits for the first answer
}

func (o PoolOptions) withDefaults() PoolOptions {
	if o.MaxOpenConns <= 0 {
		o.MaxOpenConns = 20
	}
	if o.MaxIdleConns <= 0 {
		o.MaxIdleConns = 10
	}
	if o.MaxIdleConns > o.MaxOpenConns {
		o.MaxIdleConns = o.MaxOpenConns
	}
	if o.ConnMaxLifetime <= 0 {
		o.ConnMaxLifetime = 30 * time.Minute
	}
	if o.ConnMaxIdleTime <= 0 {
		o.ConnMaxIdleTime = 5 * time.Minute
	}
	if o.PingTimeout <= 0 {
		o.PingTimeout = 5 * time.Second
	}
	return o
}

// Open connects to url (a postgres:// URL or a key=value DSN) through lib/pq,
// sizes the pool and pings the server. A server that cannot be reached returns
// an error wrapping domain.ErrUnavailable. Errors never contain the URL, which
// may hold a password.
//
// The pool works the same whether url reaches Postgres itself or PgBouncer in
// transaction pooling mode, where a connection holds its server connection
// only until its transaction (or lone statement) ends: no statement depends on
// session state, and every query with arguments goes out in one round trip
// (lib/pq's binary_parameters, forced here). lib/pq's default sends such a
// query in two, Parse then Bind, each ending in a Sync after which PgBouncer
// may hand the server connection to another client: the Bind then meets that
// client's unnamed statement and runs its SQL with these arguments. As a side
// effect []byte arguments travel in binary, which is what bytea columns want;
// anything meant as text or JSON must be passed as a string.
func Open(ctx context.Context, url string, opts PoolOptions) (*sqlx.DB, error) {
	opts = opts.withDefaults()
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", redact(err))
	}
	cfg.BinaryParameters = true
	connector, err := pq.NewConnectorConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: parse database url: %w", redact(err))
	}
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(opts.MaxOpenConns)
	db.SetMaxIdleConns(opts.MaxIdleConns)
	db.SetConnMaxLifetime(opts.ConnMaxLifetime)
	db.SetConnMaxIdleTime(opts.ConnMaxIdleTime)

	pingCtx, cancel := context.WithTimeout(ctx, opts.PingTimeout)
	defer cancel()
	if err := db.PingContext(pingCtx); err != nil {
		_ = db.Close()
		return nil, fmt.Errorf("postgres: ping: %w", unavailable(err))
	}
	return db, nil
}

// Pinger reports whether Postgres answers; it is the readiness check's view of
// the database (ports.Pinger).
type Pinger struct {
	db *sqlx.DB
}

// NewPinger returns a ports.Pinger for db.
func NewPinger(db *sqlx.DB) *Pinger { return &Pinger{db: db} }

// Ping runs a trivial query rather than a bare protocol ping, so a server that
// accepts connections but cannot run queries (recovery, full disk on a
// replica) is reported as down.
func (p *Pinger) Ping(ctx context.Context) error {
	var one int
	if err := p.db.QueryRowContext(ctx, "SELECT 1").Scan(&one); err != nil {
		return fmt.Errorf("postgres: ping: %w", unavailable(err))
	}
	return nil
}

// EnsureDatabase creates the database named in url when it does not exist. It
// connects to the "postgres" maintenance database of the same server with the
// same credentials. Two instances starting at once are fine: the loser's
// "already exists" (42P04, or 23505 when both passed the check) counts as
// success.
func EnsureDatabase(ctx context.Context, url string) error {
	cfg, err := pq.NewConfig(url)
	if err != nil {
		return fmt.Errorf("postgres: parse database url: %w", redact(err))
	}
	name := cfg.Database
	if name == "" {
		return errors.New("postgres: database url names no database")
	}
	if name == "postgres" {
		return nil
	}
	admin := cfg.Clone()
	admin.Database = "postgres"
	connector, err := pq.NewConnectorConfig(admin)
	if err != nil {
		return fmt.Errorf("postgres: maintenance connection: %w", err)
	}
	db := sql.OpenDB(connector)
	defer db.Close()
	db.SetMaxOpenConns(1)

	var exists bool
	err = db.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM pg_database WHERE datname = $1)`, name).Scan(&exists)
	if err != nil {
		return fmt.Errorf("postgres: look up database %q: %w", name, unavailable(err))
	}
	if exists {
		return nil
	}
	// CREATE DATABASE takes no parameters; the name is quoted as an identifier.
	if _, err := db.ExecContext(ctx, "CREATE DATABASE "+pq.QuoteIdentifier(name)); err != nil {
		// A concurrent caller created it first: 42P04, or 23505 on
		// pg_database's unique name index when both got past the check.
		if pq.As(err, pqerror.DuplicateDatabase, pqerror.UniqueViolation) != nil {
			return nil
		}
		return fmt.Errorf("postgres: create database %q: %w", name, err)
	}
	return nil
}

// redact keeps a DSN parse error from echoing the DSN (and its password).
func redact(err error) error {
	if err == nil {
		return nil
	}
	return errors.New("malformed connection string")
}
