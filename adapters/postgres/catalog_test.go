package postgres_test

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/contract"
	"github.com/ultramarket/gateway/test/testenv"
)

func TestCatalogContract(t *testing.T) {
	// One database for the suite, emptied for each case: creating one per
	// case costs half a second each.
	db := testenv.Postgres(t)
	contract.RunCatalogSuite(t, func(t *testing.T) contract.Fixture {
		_, err := db.ExecContext(ctx(t), `TRUNCATE stock_reservations, products`)
		require.NoError(t, err)
		return contract.Fixture{Catalog: postgres.NewCatalog(db, system.UUIDs{}, contract.NewClock())}
	})
}

func newCatalogProduct(t *testing.T, cat *postgres.Catalog, stock int64) *product.Product {
	t.Helper()
	p, err := cat.Create(ctx(t), product.Draft{
		Name: "Suzani", Category: "textile", SellerID: uuid.NewString(), Price: 40_000_000, Stock: stock, Active: true,
	}, ports.Caller{})
	require.NoError(t, err)
	return p
}

func catalogStock(t *testing.T, cat *postgres.Catalog, id string) int64 {
	t.Helper()
	p, err := cat.Get(ctx(t), id, ports.Caller{})
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
func TestCatalogReserveJoinsCallerTx(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewCatalog(db, system.UUIDs{}, system.Clock{})
	txm := postgres.NewTxManager(db)
	p := newCatalogProduct(t, cat, 5)

	order := uuid.NewString()
	boom := errors.New("order insert failed")
	err := txm.WithinTx(ctx(t), func(ctx context.Context) error {
		require.NoError(t, cat.Reserve(ctx, order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 2}}, ports.Caller{}))
		return boom
	})
	require.ErrorIs(t, err, boom)
	assert.Equal(t, int64(5), catalogStock(t, cat, p.ID()), "rolled back with the caller")
	assert.Zero(t, reservedRows(t, db, order))

	require.NoError(t, txm.WithinTx(ctx(t), func(ctx context.Context) error {
		return cat.Reserve(ctx, order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 2}}, ports.Caller{})
	}))
	assert.Equal(t, int64(3), catalogStock(t, cat, p.ID()))
	assert.Equal(t, 1, reservedRows(t, db, order))
}

// A refused Reserve inside the caller's transaction undoes only its own
// changes (savepoint) and leaves the transaction usable.
func TestCatalogRefusedReserveKeepsCallerTxUsable(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewCatalog(db, system.UUIDs{}, system.Clock{})
	txm := postgres.NewTxManager(db)
	a := newCatalogProduct(t, cat, 5)
	b := newCatalogProduct(t, cat, 1)

	first, second := uuid.NewString(), uuid.NewString()
	require.NoError(t, txm.WithinTx(ctx(t), func(ctx context.Context) error {
		require.NoError(t, cat.Reserve(ctx, first, []ports.ReservationItem{{ProductID: a.ID(), Quantity: 1}}, ports.Caller{}))
		// a is taken before b runs short: that part must be undone, the first reservation kept.
		err := cat.Reserve(ctx, second, []ports.ReservationItem{
			{ProductID: a.ID(), Quantity: 1}, {ProductID: b.ID(), Quantity: 2},
		}, ports.Caller{})
		var ise *product.InsufficientStockError
		require.ErrorAs(t, err, &ise)
		// A failed statement (duplicate reservation) is undone too.
		err = cat.Reserve(ctx, first, []ports.ReservationItem{{ProductID: b.ID(), Quantity: 1}}, ports.Caller{})
		require.ErrorIs(t, err, domain.ErrConflict)
		_, err = cat.Get(ctx, a.ID(), ports.Caller{})
		return err // the transaction still runs statements
	}))
	assert.Equal(t, int64(4), catalogStock(t, cat, a.ID()))
	assert.Equal(t, int64(1), catalogStock(t, cat, b.ID()))
	assert.Equal(t, 1, reservedRows(t, db, first))
	assert.Zero(t, reservedRows(t, db, second))
}

// Concurrent releases of one order give the stock back once.
func TestCatalogConcurrentReleaseRestocksOnce(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewCatalog(db, system.UUIDs{}, system.Clock{})
	p := newCatalogProduct(t, cat, 10)
	order := uuid.NewString()
	require.NoError(t, cat.Reserve(ctx(t), order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 4}}, ports.Caller{}))

	var wg sync.WaitGroup
	for range 8 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			assert.NoError(t, cat.Release(context.Background(), order, ports.Caller{}))
		}()
	}
	wg.Wait()
	assert.Equal(t, int64(10), catalogStock(t, cat, p.ID()))
}

// Giving stock back never breaks the stock ceiling, even if the seller raised
// the stock to it meanwhile.
func TestCatalogReleaseCapsAtMaxStock(t *testing.T) {
	db := testenv.Postgres(t)
	cat := postgres.NewCatalog(db, system.UUIDs{}, system.Clock{})
	p := newCatalogProduct(t, cat, 10)
	order := uuid.NewString()
	require.NoError(t, cat.Reserve(ctx(t), order, []ports.ReservationItem{{ProductID: p.ID(), Quantity: 4}}, ports.Caller{}))
	_, err := cat.Replace(ctx(t), p.ID(), product.Draft{
		Name: p.Name(), Category: p.Category(), Price: p.Price().Tiyin(), Stock: product.MaxStock, Active: true,
	}, ports.Caller{})
	require.NoError(t, err)

	require.NoError(t, cat.Release(ctx(t), order, ports.Caller{}))
	assert.Equal(t, int64(product.MaxStock), catalogStock(t, cat, p.ID()))
}
