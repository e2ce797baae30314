package postgres_test

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/stretchr/testify/require"
)

// queryLog records every statement sent through a pool, to prove a
// repository method makes the number of round trips it claims (no N+1).
type queryLog struct {
	mu   sync.Mutex
	sqls []string
	txs  int // BEGINs: each costs a round trip, and its COMMIT or ROLLBACK another
}

func (l *queryLog) add(q string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sqls = append(l.sqls, strings.Join(strings.Fields(q), " "))
}

func (l *queryLog) reset() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.sqls = nil
	l.txs = 0
}

func (l *queryLog) begin() {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.txs++
}

// transactions is how many BEGINs were sent since the last reset.
func (l *queryLog) transactions() int {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.txs
}

func (l *queryLog) all() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return append([]string(nil), l.sqls...)
}

// countingDB opens a pool on dbURL whose statements are recorded in the log.
func countingDB(t *testing.T, dbURL string) (*sqlx.DB, *queryLog) {
	t.Helper()
	pc, err := pq.NewConnector(dbURL)
	require.NoError(t, err)
	log := &queryLog{}
	db := sqlx.NewDb(sql.OpenDB(&countingConnector{Connector: pc, log: log}), "postgres")
	t.Cleanup(func() { _ = db.Close() })
	return db, log
}

type countingConnector struct {
	*pq.Connector
	log *queryLog
}

func (c *countingConnector) Connect(ctx context.Context) (driver.Conn, error) {
	conn, err := c.Connector.Connect(ctx)
	if err != nil {
		return nil, err
	}
	return &countingConn{Conn: conn, log: c.log}, nil
}

type countingConn struct {
	driver.Conn
	log *queryLog
}

func (c *countingConn) QueryContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Rows, error) {
	c.log.add(q)
	return c.Conn.(driver.QueryerContext).QueryContext(ctx, q, args)
}

func (c *countingConn) ExecContext(ctx context.Context, q string, args []driver.NamedValue) (driver.Result, error) {
	c.log.add(q)
	return c.Conn.(driver.ExecerContext).ExecContext(ctx, q, args)
}

func (c *countingConn) BeginTx(ctx context.Context, opts driver.TxOptions) (driver.Tx, error) {
	c.log.begin()
	return c.Conn.(driver.ConnBeginTx).BeginTx(ctx, opts)
}

func (c *countingConn) CheckNamedValue(nv *driver.NamedValue) error {
	if nvc, ok := c.Conn.(driver.NamedValueChecker); ok {
		return nvc.CheckNamedValue(nv)
	}
	return driver.ErrSkip
}

func (c *countingConn) ResetSession(ctx context.Context) error {
	if r, ok := c.Conn.(driver.SessionResetter); ok {
		return r.ResetSession(ctx)
	}
	return nil
}

func (c *countingConn) IsValid() bool {
	if v, ok := c.Conn.(driver.Validator); ok {
		return v.IsValid()
	}
	return true
}

func (c *countingConn) Ping(ctx context.Context) error {
	if p, ok := c.Conn.(driver.Pinger); ok {
		return p.Ping(ctx)
	}
	return errors.New("ping not supported")
}
