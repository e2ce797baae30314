package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math/rand/v2"
	"time"

	"github.com/jmoiron/sqlx"
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
// transaction (the SKIP LOCKED sweeps) when ctx carries none.
var ErrNoTx = errors.New("postgres: this call must run inside TxManager.WithinTx")

// TxManager implements ports.TxManager on a pool.
type TxManager struct {
	db       *sqlx.DB
	attempts int
	opts     *sql.TxOptions
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

// WithIsolation sets the isolation level of the transactions (default: the
// server's, READ COMMITTED, which together with row locks is what the use
// cases are written for).
func WithIsolation(level sql.IsolationLevel) TxOption {
	return func(m *TxManager) { m.opts = &sql.TxOptions{Isolation: level} }
}

// NewTxManager returns a TxManager on db.
func NewTxManager(db *sqlx.DB, opts ...TxOption) *TxManager {
	m := &TxManager{db: db, attempts: 3}
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
		pause := time.Duration(attempt)*10*time.Millisecond + rand.N(10*time.Millisecond)
		select {
		case <-ctx.Done():
			return err
		case <-time.After(pause):
		}
	}
}

func (m *TxManager) run(ctx context.Context, fn func(ctx context.Context) error) (err error) {
	tx, err := m.db.BeginTxx(ctx, m.opts)
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
