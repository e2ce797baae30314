package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/contract"
	"github.com/ultramarket/gateway/test/testenv"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestProductStoreContract(t *testing.T) {
	// One database for the suite, emptied for each case: creating one per
	// case costs half a second each.
	db := testenv.Postgres(t)
	contract.RunCatalogSuite(t, func(t *testing.T) contract.Fixture {
		_, err := db.ExecContext(ctx(t), `TRUNCATE stock_reservations, products`)
		require.NoError(t, err)
		return contract.Fixture{Catalog: postgres.NewProductStore(db, system.UUIDs{}, contract.NewClock())}
	})
}

func newStoredProduct(t *testing.T, cat *postgres.ProductStore, stock int64) *product.Product {
	t.Helper()
	p, err := cat.Create(ctx(t), product.Draft{
		Name: "Suzani", Category: "textile", SellerID: uuid.NewString(), Price: 40_000_000, Stock: stock, Active: true,
	}, user.Actor{})
	require.NoError(t, err)
	return p
}

func storedStock(t *testing.T, cat *postgres.ProductStore, id string) int64 {
	t.Helper()
	p, err := cat.Get(ctx(t), id, user.Actor{})
	require.NoError(t, err)
	return p.Stock()
}

func reservedRows(t *testing.T, db *sqlx.DB, orderID string) int {
	t.Helper()
	var n int
	require.NoError(t, db.GetContext(ctx(t), &n, `SELECT count(*) FROM stock_reservations WHERE order_id = $1`, orderID))
	return n
}

// Reserve joins the caller's transaction: rolled back with it, committed with it.
func TestProductStoreReserveJoinsCallerTx(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewProductStore(db, system.UUIDs{}, system.Clock{})
	txm := postgres.NewTxManager(db)
	p := newStoredProduct(t, cat, 5)

	order := uuid.NewString()
	boom := errors.New("order insert failed")
	err := txm.WithinTx(ctx(t), func(ctx context.Context) error {
		require.NoError(t, cat.Reserve(ctx, order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 2}}, user.Actor{}))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, int64(5), storedStock(t, cat, p.ID()), "rolled back with the caller")
	assert.Zero(t, reservedRows(t, db, order))

	require.NoError(t, txm.WithinTx(ctx(t), func(ctx context.Context) error {
		return cat.Reserve(ctx, order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 2}}, user.Actor{})
	}))
	assert.Equal(t, int64(3), storedStock(t, cat, p.ID()))
	assert.Equal(t, 1, reservedRows(t, db, order))
}

// A refused Reserve inside the caller's transaction undoes only its own
// changes (savepoint) and leaves the transaction usable.
func TestProductStoreRefusedReserveKeepsCallerTxUsable(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewProductStore(db, system.UUIDs{}, system.Clock{})
	txm := postgres.NewTxManager(db)
	a := newStoredProduct(t, cat, 5)
	b := newStoredProduct(t, cat, 1)

	first, second := uuid.NewString(), uuid.NewString()
	require.NoError(t, txm.WithinTx(ctx(t), func(ctx context.Context) error {
		require.NoError(t, cat.Reserve(ctx, first, []ports.ReservationItem{{ProductID: a.ID(), Quantity: 1}}, user.Actor{}))
		// a is taken before b runs short: that part must be undone, the first reservation kept.
		err := cat.Reserve(ctx, second, []ports.ReservationItem{
			{ProductID: a.ID(), Quantity: 1}, {ProductID: b.ID(), Quantity: 2},
		}, user.Actor{})
		var ise *product.InsufficientStockError
		require.ErrorAs(t, err, &ise)
		// A failed statement (duplicate reservation) is undone too.
		err = cat.Reserve(ctx, first, []ports.ReservationItem{{ProductID: b.ID(), Quantity: 1}}, user.Actor{})
		require.ErrorIs(t, err, domain.ErrConflict)
		_, err = cat.Get(ctx, a.ID(), user.Actor{})
		return err // the transaction still runs statements
	}))
	assert.Equal(t, int64(4), storedStock(t, cat, a.ID()))
	assert.Equal(t, int64(1), storedStock(t, cat, b.ID()))
	assert.Equal(t, 1, reservedRows(t, db, first))
	assert.Zero(t, reservedRows(t, db, second))
}

// Concurrent releases of one order give the stock back once.
func TestProductStoreConcurrentReleaseRestocksOnce(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewProductStore(db, system.UUIDs{}, system.Clock{})
	p := newStoredProduct(t, cat, 10)
	order := uuid.NewString()
	require.NoError(t, cat.Reserve(ctx(t), order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 4}}, user.Actor{}))

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, cat.Release(context.Background(), order, user.Actor{}))
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(10), storedStock(t, cat, p.ID()))
}

// Giving stock back never breaks the stock ceiling, even if the seller raised
// the stock to it meanwhile.
func TestProductStoreReleaseCapsAtMaxStock(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewProductStore(db, system.UUIDs{}, system.Clock{})
	p := newStoredProduct(t, cat, 10)
	order := uuid.NewString()
	require.NoError(t, cat.Reserve(ctx(t), order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 4}}, user.Actor{}))
	_, err := cat.Replace(ctx(t), p.ID(), product.Draft{
		Name: p.Name(), Category: p.Category(), Price: p.Price().Tiyin(), Stock: product.MaxStock, Active: true,
	}, user.Actor{})
	require.NoError(t, err)

	require.NoError(t, cat.Release(ctx(t), order, user.Actor{}))
	assert.Equal(t, int64(product.MaxStock), storedStock(t, cat, p.ID()))
}

// ReleaseOrphans gives back, once, the reservations older than the cutoff
// whose order does not exist; an order's reservation and a fresh orphan (its
// order may still be being placed) are left alone.
func TestProductStoreReleaseOrphans(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	clock := testsupport.NewClock(t0)
	cat := postgres.NewProductStore(db, system.UUIDs{}, clock)
	p, q := newStoredProduct(t, cat, 100), newStoredProduct(t, cat, 100)
	cutoff := t0.Add(time.Hour)
	reserve := func(orderID string, at time.Time, items ...ports.ReservationItem) {
		t.Helper()
		clock.Set(at)
		require.NoError(t, cat.Reserve(ctx(t), orderID, items, user.Actor{}))
	}

	orphan := uuid.NewString() // its order's transaction failed, and so did the release
	reserve(orphan, cutoff.Add(-20*time.Minute),
		ports.ReservationItem{ProductID: p.ID(), Quantity: 3}, ports.ReservationItem{ProductID: q.ID(), Quantity: 5})
	placed := newOrder(t, db, someUser(t, db).ID(), t0)
	reserve(placed.ID(), cutoff.Add(-20*time.Minute), ports.ReservationItem{ProductID: p.ID(), Quantity: 7})
	cancelled := newOrder(t, db, someUser(t, db).ID(), t0) // cancelled, but its release failed
	reserve(cancelled.ID(), cutoff.Add(-20*time.Minute), ports.ReservationItem{ProductID: p.ID(), Quantity: 2})
	_, err := db.ExecContext(context.Background(), `UPDATE orders SET status = 'cancelled', cancelled_at = now() WHERE id = $1`, cancelled.ID())
	require.NoError(t, err)
	fresh := uuid.NewString() // being placed right now
	reserve(fresh, cutoff, ports.ReservationItem{ProductID: q.ID(), Quantity: 11})
	require.Equal(t, int64(100-3-7-2), storedStock(t, cat, p.ID()))
	require.Equal(t, int64(100-5-11), storedStock(t, cat, q.ID()))

	released, err := cat.ReleaseOrphans(ctx(t), cutoff, 100)
	require.NoError(t, err)
	assert.Equal(t, 3, released, "the orphan's two lines and the cancelled order's one")
	assert.Zero(t, reservedRows(t, db, orphan))
	assert.Zero(t, reservedRows(t, db, cancelled.ID()))
	assert.Equal(t, 1, reservedRows(t, db, placed.ID()), "an order's reservation is untouched")
	assert.Equal(t, 1, reservedRows(t, db, fresh), "a reservation younger than the cutoff is untouched")
	assert.Equal(t, int64(100-7), storedStock(t, cat, p.ID()))
	assert.Equal(t, int64(100-11), storedStock(t, cat, q.ID()))

	released, err = cat.ReleaseOrphans(ctx(t), cutoff, 100)
	require.NoError(t, err)
	assert.Zero(t, released, "released once")
	assert.Equal(t, int64(100-7), storedStock(t, cat, p.ID()))
	assert.Equal(t, int64(100-11), storedStock(t, cat, q.ID()))

	// Later the fresh one is old enough, and still has no order.
	released, err = cat.ReleaseOrphans(ctx(t), cutoff.Add(time.Microsecond), 100)
	require.NoError(t, err)
	assert.Equal(t, 1, released)
	assert.Equal(t, int64(100), storedStock(t, cat, q.ID()))
	assert.Equal(t, 1, reservedRows(t, db, placed.ID()))
}

// limit bounds one call; calls go on where the last stopped.
func TestProductStoreReleaseOrphansInBatches(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	cat := postgres.NewProductStore(db, system.UUIDs{}, testsupport.NewClock(t0))
	p := newStoredProduct(t, cat, 100)
	for range 5 {
		require.NoError(t, cat.Reserve(ctx(t), uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID(), Quantity: 1}}, user.Actor{}))
	}
	var batches []int
	for {
		n, err := cat.ReleaseOrphans(ctx(t), t0.Add(time.Second), 2)
		require.NoError(t, err)
		batches = append(batches, n)
		if n < 2 {
			break
		}
	}
	assert.Equal(t, []int{2, 2, 1}, batches)
	assert.Equal(t, int64(100), storedStock(t, cat, p.ID()))
}

// Sweeps of several instances at once give each line back once: what one
// sweep holds the others skip rather than wait for.
func TestProductStoreConcurrentReleaseOrphansRestockOnce(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	cat := postgres.NewProductStore(db, system.UUIDs{}, testsupport.NewClock(t0))
	txm := postgres.NewTxManager(db)
	products := []*product.Product{newStoredProduct(t, cat, 1000), newStoredProduct(t, cat, 1000), newStoredProduct(t, cat, 1000)}
	orphans := func(n int) (lines int) {
		t.Helper()
		for i := range n {
			items := []ports.ReservationItem{{ProductID: products[i%3].ID(), Quantity: int64(1 + i%4)}}
			if i%2 == 0 {
				items = append(items, ports.ReservationItem{ProductID: products[(i+1)%3].ID(), Quantity: 2})
			}
			require.NoError(t, cat.Reserve(ctx(t), uuid.NewString(), items, user.Actor{}))
			lines += len(items)
		}
		return lines
	}
	cutoff := t0.Add(time.Second)
	assertRestocked := func() {
		t.Helper()
		for _, p := range products {
			assert.Equal(t, int64(1000), storedStock(t, cat, p.ID()), "stock given back exactly once")
		}
		var left int
		require.NoError(t, db.GetContext(ctx(t), &left, `SELECT count(*) FROM stock_reservations`))
		assert.Zero(t, left)
	}

	// A sweep that has taken the orphans but not committed yet: another
	// sweep skips them at once (no waiting) and gives nothing back.
	lines := orphans(4)
	var first int
	require.NoError(t, txm.WithinTx(ctx(t), func(txCtx context.Context) error {
		var err error
		first, err = cat.ReleaseOrphans(txCtx, cutoff, 100)
		require.NoError(t, err)
		other, err := cat.ReleaseOrphans(ctx(t), cutoff, 100) // a transaction of its own
		require.NoError(t, err)
		assert.Zero(t, other, "the lines the first sweep holds are skipped")
		return nil
	}))
	assert.Equal(t, lines, first)
	assertRestocked()

	// Racing sweeps drain a backlog between them.
	lines = orphans(30)
	var (
		wg    sync.WaitGroup
		mu    sync.Mutex
		total int
	)
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				n, err := cat.ReleaseOrphans(context.Background(), cutoff, 3)
				if !assert.NoError(t, err) {
					return
				}
				mu.Lock()
				total += n
				mu.Unlock()
				if n == 0 {
					return
				}
			}
		}()
	}
	wg.Wait()
	assert.Equal(t, lines, total, "every line released once")
	assertRestocked()
}
