package postgres_test

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"
	"github.com/lib/pq/pqerror"
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
				return fmt.Errorf("wrapped: %w", &pq.Error{Code: pqerror.Code(code)})
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

// After the peer reset the pool's idle connections (Postgres restarted, a
// proxy or a firewall dropped them), lib/pq reports the BEGIN on each as a
// plain network error, which database/sql does not retry: WithinTx tries
// BEGIN again on another connection, and runs fn once.
func TestTxRetriesBeginOnAConnectionResetByThePeer(t *testing.T) {
	t.Parallel()
	dbURL := testenv.PostgresURL(t)
	c := ctx(t)
	selectOne := func(ctx context.Context, db *sqlx.DB) error {
		var one int
		return sqlx.GetContext(ctx, postgres.Ext(ctx, db), &one, `SELECT 1`)
	}

	// Without retries the first BEGIN takes a dead connection and fails,
	// which shows the pool below really hands out dead connections.
	db, dialer := cuttableDB(t, dbURL)
	idleConns(t, db, 2)
	dialer.cutAll()
	ran := 0
	err := postgres.NewTxManager(db, postgres.WithBeginAttempts(1)).WithinTx(c, func(ctx context.Context) error {
		ran++
		return selectOne(ctx, db)
	})
	require.Error(t, err)
	assert.ErrorIs(t, err, domain.ErrUnavailable, "%v", err)
	assert.Contains(t, err.Error(), "begin tx")
	var ne net.Error
	assert.ErrorAs(t, err, &ne, "lib/pq reports the reset as a network error, not driver.ErrBadConn: %v", err)
	assert.Zero(t, ran)

	// By default: two idle connections are dead, the third BEGIN dials.
	db, dialer = cuttableDB(t, dbURL)
	idleConns(t, db, 2)
	dialer.cutAll()
	ran = 0
	require.NoError(t, postgres.NewTxManager(db).WithinTx(c, func(ctx context.Context) error {
		ran++
		return selectOne(ctx, db)
	}))
	assert.Equal(t, 1, ran)
	assert.Equal(t, 3, dialer.dialCount(), "two connections before the cut, one after")

	// More dead connections than attempts: the error is still a clean 503,
	// and fn never ran.
	db, dialer = cuttableDB(t, dbURL)
	idleConns(t, db, 3)
	dialer.cutAll()
	ran = 0
	err = postgres.NewTxManager(db, postgres.WithBeginAttempts(2)).WithinTx(c, func(ctx context.Context) error {
		ran++
		return nil
	})
	assert.ErrorIs(t, err, domain.ErrUnavailable, "%v", err)
	assert.Zero(t, ran)
	assert.Equal(t, 3, dialer.dialCount(), "two BEGINs, two dead connections, no dial")

	// A context that ended is not retried: nothing is dialled or tried.
	cancelled, cancel := context.WithCancel(c)
	cancel()
	err = postgres.NewTxManager(db).WithinTx(cancelled, func(ctx context.Context) error { return nil })
	assert.ErrorIs(t, err, context.Canceled)
	assert.Equal(t, 3, dialer.dialCount())
	assert.Equal(t, 1, db.Stats().Idle, "the third dead connection is still idle")
}

// idleConns leaves n open connections idle in db's pool.
func idleConns(t *testing.T, db *sqlx.DB, n int) {
	t.Helper()
	c := ctx(t)
	conns := make([]*sqlx.Conn, n)
	for i := range conns {
		conn, err := db.Connx(c)
		require.NoError(t, err)
		require.NoError(t, conn.PingContext(c))
		conns[i] = conn
	}
	for _, conn := range conns {
		require.NoError(t, conn.Close())
	}
	require.Equal(t, n, db.Stats().Idle)
}

// cuttableDB opens a pool on dbURL (at most 3 connections, all may idle)
// whose connections the returned dialer can cut.
func cuttableDB(t *testing.T, dbURL string) (*sqlx.DB, *cuttingDialer) {
	t.Helper()
	connector, err := pq.NewConnector(dbURL)
	require.NoError(t, err)
	d := &cuttingDialer{}
	connector.Dialer(d)
	db := sqlx.NewDb(sql.OpenDB(connector), "postgres")
	db.SetMaxOpenConns(3)
	db.SetMaxIdleConns(3)
	t.Cleanup(func() {
		_ = db.Close()
		d.closeAll()
	})
	return db, d
}

// cuttingDialer connects lib/pq to Postgres through a loopback relay per
// connection, so a test can kill the connections the way the fault test
// sees Postgres's killed backends fail: the client's next statement is sent
// without error, and its answer is a TCP reset ("read: connection reset by
// peer"). A statement whose write fails is another matter: lib/pq reports
// that as driver.ErrBadConn, which database/sql retries by itself.
type cuttingDialer struct {
	mu     sync.Mutex
	relays []*relay
	dials  int
}

type relay struct {
	client *net.TCPConn // our end of the client's socket
	up     net.Conn     // to Postgres
	doomed atomic.Bool  // reset at the client's next bytes
}

func (d *cuttingDialer) Dial(network, address string) (net.Conn, error) {
	return d.DialTimeout(network, address, 0)
}

func (d *cuttingDialer) DialTimeout(network, address string, timeout time.Duration) (net.Conn, error) {
	up, err := (&net.Dialer{Timeout: timeout}).DialContext(context.Background(), network, address)
	if err != nil {
		return nil, err
	}
	ln, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		_ = up.Close()
		return nil, err
	}
	defer ln.Close()
	client, err := (&net.Dialer{}).DialContext(context.Background(), "tcp", ln.Addr().String())
	if err != nil {
		_ = up.Close()
		return nil, err
	}
	accepted, err := ln.Accept()
	if err != nil {
		_ = up.Close()
		_ = client.Close()
		return nil, err
	}
	r := &relay{client: accepted.(*net.TCPConn), up: up}
	go r.toServer()
	go func() { _, _ = io.Copy(r.client, up); _ = r.client.Close() }()
	d.mu.Lock()
	defer d.mu.Unlock()
	d.relays = append(d.relays, r)
	d.dials++
	return client, nil
}

// toServer forwards the client's bytes to Postgres until the relay is
// doomed: then the bytes are swallowed and the client's socket reset.
func (r *relay) toServer() {
	defer r.up.Close()
	buf := make([]byte, 32<<10)
	for {
		n, err := r.client.Read(buf)
		if n > 0 && r.doomed.Load() {
			_ = r.client.SetLinger(0) // close with RST, not FIN
			_ = r.client.Close()
			return
		}
		if n > 0 {
			if _, werr := r.up.Write(buf[:n]); werr != nil {
				_ = r.client.Close()
				return
			}
		}
		if err != nil {
			return
		}
	}
}

// cutAll dooms every connection made so far: each dies at its next
// statement, as in the middle of it.
func (d *cuttingDialer) cutAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.relays {
		r.doomed.Store(true)
	}
}

// closeAll closes what is left of the relays.
func (d *cuttingDialer) closeAll() {
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, r := range d.relays {
		_ = r.client.Close()
		_ = r.up.Close()
	}
	d.relays = nil
}

func (d *cuttingDialer) dialCount() int {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.dials
}
