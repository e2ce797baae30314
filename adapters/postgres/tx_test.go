package postgres_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.TxManager = (*postgres.TxManager)(nil)
var _ ports.Pinger = (*postgres.Pinger)(nil)

func TestTxCommitAndRollback(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, users := postgres.NewTxManager(db), postgres.NewUserRepo(db)
	c := ctx(t)

	committed, err := user.New("0f8c7d5e-1111-4a2b-9c3d-000000000001", "a@example.uz", "h", "A", "", t0)
	require.NoError(t, err)
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, users.Create(ctx, committed))
		// Visible inside the transaction...
		_, err := users.GetByID(ctx, committed.ID())
		return err
	}))
	_, err = users.GetByID(c, committed.ID())
	require.NoError(t, err, "...and after commit")

	boom := errors.New("boom")
	rolledBack, err := user.New("0f8c7d5e-1111-4a2b-9c3d-000000000002", "b@example.uz", "h", "B", "", t0)
	require.NoError(t, err)
	err = tm.WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, users.Create(ctx, rolledBack))
		return boom
	})
	assert.Same(t, boom, err, "fn's error is returned as is")
	_, err = users.GetByID(c, rolledBack.ID())
	assert.ErrorIs(t, err, user.ErrNotFound)
}

func TestTxPanicRollsBack(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, users := postgres.NewTxManager(db), postgres.NewUserRepo(db)
	c := ctx(t)
	u, err := user.New("0f8c7d5e-1111-4a2b-9c3d-000000000003", "p@example.uz", "h", "P", "", t0)
	require.NoError(t, err)
	assert.Panics(t, func() {
		_ = tm.WithinTx(c, func(ctx context.Context) error {
			require.NoError(t, users.Create(ctx, u))
			panic("bug")
		})
	})
	_, err = users.GetByID(c, u.ID())
	assert.ErrorIs(t, err, user.ErrNotFound)
	assert.Zero(t, db.Stats().InUse, "the connection went back to the pool")
}

func TestTxNestedJoinsOuter(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	tm, users := postgres.NewTxManager(db), postgres.NewUserRepo(db)
	c := ctx(t)
	outer, _ := user.New("0f8c7d5e-1111-4a2b-9c3d-000000000004", "outer@example.uz", "h", "O", "", t0)
	inner, _ := user.New("0f8c7d5e-1111-4a2b-9c3d-000000000005", "inner@example.uz", "h", "I", "", t0)

	// The inner call commits nothing by itself: the outer error undoes both.
	err := tm.WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, users.Create(ctx, outer))
		require.NoError(t, tm.WithinTx(ctx, func(ctx context.Context) error {
			_, err := users.GetByID(ctx, outer.ID()) // sees the outer's uncommitted row
			require.NoError(t, err)
			return users.Create(ctx, inner)
		}))
		return errors.New("outer fails after inner succeeded")
	})
	require.Error(t, err)
	for _, id := range []string{outer.ID(), inner.ID()} {
		_, err := users.GetByID(c, id)
		assert.ErrorIs(t, err, user.ErrNotFound)
	}

	// An inner error reaches the outer fn, which returns it.
	innerErr := errors.New("inner")
	err = tm.WithinTx(c, func(ctx context.Context) error {
		require.NoError(t, users.Create(ctx, outer))
		return tm.WithinTx(ctx, func(ctx context.Context) error { return innerErr })
	})
	assert.Same(t, innerErr, err)
	_, err = users.GetByID(c, outer.ID())
	assert.ErrorIs(t, err, user.ErrNotFound)

	// Both commit together.
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		if err := users.Create(ctx, outer); err != nil {
			return err
		}
		return tm.WithinTx(ctx, func(ctx context.Context) error { return users.Create(ctx, inner) })
	}))
	for _, id := range []string{outer.ID(), inner.ID()} {
		_, err := users.GetByID(c, id)
		assert.NoError(t, err)
	}
}

func TestTxRetriesSerializationFailuresAndDeadlocks(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	for _, code := range []string{"40001", "40P01"} {
		attempts := 0
		err := postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
			attempts++
			if attempts < 3 {
				return fmt.Errorf("wrapped: %w", &pq.Error{Code: pq.ErrorCode(code)})
			}
			return nil
		})
		require.NoError(t, err, code)
		assert.Equal(t, 3, attempts, code)
	}

	attempts := 0
	err := postgres.NewTxManager(db, postgres.WithAttempts(2)).WithinTx(c, func(ctx context.Context) error {
		attempts++
		return &pq.Error{Code: "40001"}
	})
	require.Error(t, err, "gives up after the configured attempts")
	assert.Equal(t, 2, attempts)

	attempts = 0
	_ = postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
		attempts++
		return &pq.Error{Code: "23505"}
	})
	assert.Equal(t, 1, attempts, "other errors are not retried")
}

func TestTxRealSerializationFailureIsRetried(t *testing.T) {
	t.Parallel()
	// Two SERIALIZABLE transactions that each read what the other writes: one
	// fails with 40001 at commit or write, and the retry succeeds.
	db := testenv.Postgres(t)
	c := ctx(t)
	_, err := db.ExecContext(c, `CREATE TABLE counters (id INT PRIMARY KEY, n INT NOT NULL);
		INSERT INTO counters VALUES (1, 0), (2, 0)`)
	require.NoError(t, err)
	tm := postgres.NewTxManager(db, postgres.WithIsolation(6 /* sql.LevelSerializable */), postgres.WithAttempts(5))

	ready := make(chan struct{})
	release := make(chan struct{})
	var attemptsA int
	errA := make(chan error, 1)
	go func() {
		errA <- tm.WithinTx(context.Background(), func(ctx context.Context) error {
			attemptsA++
			q := postgres.Ext(ctx, db)
			var sum int
			if err := q.QueryRowxContext(ctx, `SELECT sum(n) FROM counters`).Scan(&sum); err != nil {
				return err
			}
			if attemptsA == 1 {
				close(ready)
				<-release
			}
			_, err := q.ExecContext(ctx, `UPDATE counters SET n = $1 + 1 WHERE id = 1`, sum)
			return err
		})
	}()
	<-ready
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		q := postgres.Ext(ctx, db)
		var sum int
		if err := q.QueryRowxContext(ctx, `SELECT sum(n) FROM counters`).Scan(&sum); err != nil {
			return err
		}
		_, err := q.ExecContext(ctx, `UPDATE counters SET n = $1 + 1 WHERE id = 2`, sum)
		return err
	}))
	close(release)
	require.NoError(t, <-errA)
	assert.Equal(t, 2, attemptsA)
	var sum int
	require.NoError(t, db.GetContext(c, &sum, `SELECT sum(n) FROM counters`))
	assert.Equal(t, 3, sum, "serial result: 0+1, then 1+1")
}

func TestTxDeferredTotalCheckFailsAtCommitAsValidation(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)

	// Changing a line's total (consistently with its price) breaks the sum.
	err := postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
		_, err := postgres.Ext(ctx, db).ExecContext(ctx,
			`UPDATE order_items SET quantity = quantity + 1, line_total = unit_price * (quantity + 1)
			 WHERE order_id = $1 AND position = 0`, o.ID())
		return err
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, domain.ErrValidation, "%v", err)
	var verr *domain.ValidationError
	require.ErrorAs(t, err, &verr)
	assert.Equal(t, "total", verr.Fields[0].Field)

	got, err := postgres.NewOrderRepo(db).Get(c, o.ID())
	require.NoError(t, err)
	assert.Equal(t, o.Total(), got.Total())
	assert.Equal(t, money.MustTiyin(32_500_050), got.Total())
}
