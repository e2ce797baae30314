package postgres

import (
	"context"
	"database/sql"
	"database/sql/driver"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
)

// txKey is the context key of the transaction TxManager opened.
type txKey struct{}

// txState is what the context carries: the transaction and the pool it came
// from, so a repository on another pool never joins it by mistake.
type txState struct {
	db *sqlx.DB
	tx *sqlx.Tx
}

// ext returns the transaction in ctx when it belongs to db, else the pool.
func ext(ctx context.Context, db *sqlx.DB) sqlx.ExtContext {
	if st, ok := ctx.Value(txKey{}).(*txState); ok && st.db == db {
		return st.tx
	}
	return db
}

// inTx reports whether ctx carries a transaction of db.
func inTx(ctx context.Context, db *sqlx.DB) bool {
	st, ok := ctx.Value(txKey{}).(*txState)
	return ok && st.db == db
}

// ErrNoTx is returned by methods whose locks only mean something inside a
// transaction (the SKIP LOCKED sweeps, the payment repositories' locking
// reads) when ctx carries none.
var ErrNoTx = errors.New("postgres: this call must run inside TxManager.WithinTx")

// TxManager implements ports.TxManager on a pool.
type TxManager struct {
	db            *sqlx.DB
	attempts      int
	beginAttempts int
	opts          *sql.TxOptions
}

// TxOption configures a TxManager.
type TxOption func(*TxManager)

// WithAttempts sets how many times a transaction that failed with a
// serialization failure (40001) or a deadlock (40P01) is run in total
// (default 3; 1 disables retries).
func WithAttempts(n int) TxOption {
	return func(m *TxManager) {
		if n >= 1 {
			m.attempts = n
		}
	}
}

// WithBeginAttempts sets how many times BEGIN is tried in total when it
// fails because the connection is gone (default 3; 1 disables retries). See
// WithinTx.
func WithBeginAttempts(n int) TxOption {
	return func(m *TxManager) {
		if n >= 1 {
			m.beginAttempts = n
		}
	}
}

// WithIsolation sets the isolation level of the transactions (default: the
// server's, READ COMMITTED, which together with row locks is what the use
// cases are written for).
func WithIsolation(level sql.IsolationLevel) TxOption {
	return func(m *TxManager) { m.opts = &sql.TxOptions{Isolation: level} }
}

// NewTxManager returns a TxManager on db.
func NewTxManager(db *sqlx.DB, opts ...TxOption) *TxManager {
	m := &TxManager{db: db, attempts: 3, beginAttempts: 3}
	for _, o := range opts {
		o(m)
	}
	return m
}

// WithinTx runs fn in one transaction carried by the context fn receives.
//
//   - fn's error rolls back and is returned as is; a panic rolls back and
//     propagates.
//   - Nested calls join the outer transaction: fn runs on it and the outer
//     call alone commits or rolls back. An inner error is seen by the outer fn,
//     which normally returns it, rolling everything back.
//   - A serialization failure or deadlock (from fn or from COMMIT) reruns the
//     whole of fn in a new transaction, up to the configured attempts, so fn
//     must not have effects outside the database that cannot be repeated.
//   - A BEGIN that fails because its connection is gone (reset, closed,
//     terminated by the server) is tried again on another connection, up to
//     WithBeginAttempts times, after a few milliseconds: nothing has run yet,
//     so this is always safe. database/sql retries only what the driver
//     reports as driver.ErrBadConn, and lib/pq reports a connection reset
//     during BEGIN as a plain network error, so after Postgres killed the
//     pool's idle connections the first BEGIN would fail otherwise. A BEGIN
//     that fails for another reason, or after ctx ended, is not retried.
func (m *TxManager) WithinTx(ctx context.Context, fn func(ctx context.Context) error) error {
	if inTx(ctx, m.db) {
		return fn(ctx)
	}
	var err error
	for attempt := 1; ; attempt++ {
		err = m.run(ctx, fn)
		if err == nil || attempt >= m.attempts || !retryable(err) {
			return err
		}
		// Short jittered pause so the transactions that collided do not
		// collide again in lockstep.
		pause := time.Duration(attempt)*10*time.Millisecond + rand.N(10*time.Millisecond) //nolint:gosec // G404: jitter, no secret
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

func (m *TxManager) run(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := m.begin(ctx)
	if err != nil {
		return fmt.Errorf("postgres: begin tx: %w", unavailable(err))
	}
	done := false
	defer func() {
		if !done {
			_ = tx.Rollback() // after a panic in fn
		}
	}()
	if err := fn(context.WithValue(ctx, txKey{}, &txState{db: m.db, tx: tx})); err != nil {
		done = true
		_ = tx.Rollback()
		return err
	}
	done = true
	if err := tx.Commit(); err != nil {
		// Deferred constraints (orders_total_matches_items) report here.
		return fmt.Errorf("postgres: commit: %w", mapError(ctxErr(ctx, err)))
	}
	return nil
}

// begin opens a transaction, trying again on another connection while BEGIN
// fails because its connection is gone (see WithinTx).
func (m *TxManager) begin(ctx context.Context) (*sqlx.Tx, error) {
	for attempt := 1; ; attempt++ {
		tx, err := m.db.BeginTxx(ctx, m.opts)
		if err == nil {
			return tx, nil
		}
		if attempt >= m.beginAttempts || ctx.Err() != nil || !connectionLost(err) {
			return nil, err
		}
		// The connection that failed was discarded; the next BEGIN takes
		// another idle one or dials. The pause is only there so a server
		// that is restarting is not asked again in the same instant.
		pause := time.Duration(attempt)*5*time.Millisecond + rand.N(5*time.Millisecond) //nolint:gosec // G404: jitter, no secret
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, err
		case <-t.C:
		}
	}
}

// connectionLost reports an error that means the connection died under the
// statement rather than that the statement was refused: a network error
// other than a timeout (reset, broken pipe, refused), an unexpected EOF,
// driver.ErrBadConn, or the server saying it terminated the session.
func connectionLost(err error) bool {
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	if errors.Is(err, driver.ErrBadConn) || errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return true
	}
	if pe := pq.As(err); pe != nil {
		return pe.Code.Class() == pqerror.ClassConnectionException ||
			pe.Code == pqerror.AdminShutdown || pe.Code == pqerror.CrashShutdown
	}
	var ne net.Error
	return errors.As(err, &ne) && !ne.Timeout()
}
