package postgres_test

import (
	"bytes"
	"context"
	"errors"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/test/testenv"
)

func tables(t *testing.T, db *sqlx.DB) []string {
	t.Helper()
	var names []string
	require.NoError(t, db.SelectContext(ctx(t), &names, `SELECT table_name FROM information_schema.tables
		WHERE table_schema = 'public' AND table_name <> 'goose_db_version' ORDER BY table_name`))
	return names
}

func columns(t *testing.T, db *sqlx.DB, table string) []string {
	t.Helper()
	var names []string
	require.NoError(t, db.SelectContext(ctx(t), &names, `SELECT column_name FROM information_schema.columns
		WHERE table_schema = 'public' AND table_name = $1 ORDER BY column_name`, table))
	return names
}

func TestMigrateRoundTripAndStatus(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t) // already up
	c := ctx(t)
	all := []string{"cart_items", "click_cancel_claims", "click_transactions", "fiscal_receipts", "idempotency_keys", "job_leases",
		"order_items", "order_placements", "order_refunds", "order_settlements", "orders", "outbox", "payme_transactions",
		"products", "reconciliation_checks", "reconciliation_issues", "stock_reservations", "users"}
	require.Equal(t, all, tables(t, db))

	var out bytes.Buffer
	require.NoError(t, postgres.Migrate(c, db.DB, "status", &out))
	assert.Contains(t, out.String(), "00001_users_catalog.sql")
	assert.Contains(t, out.String(), "00003_payments.sql")
	assert.NotContains(t, out.String(), "pending")

	out.Reset()
	require.NoError(t, postgres.Migrate(c, db.DB, "up", &out), "up again is a no-op")
	assert.Contains(t, out.String(), "up to date")

	out.Reset()
	require.NoError(t, postgres.Migrate(c, db.DB, "down", &out))
	assert.Contains(t, out.String(), "00010_fiscal.sql", "down rolls back the newest migration only")
	assert.NotContains(t, tables(t, db), "fiscal_receipts")
	assert.Contains(t, tables(t, db), "reconciliation_issues")
	migrateDownTo(t, db, 8)
	assert.NotContains(t, tables(t, db), "reconciliation_issues")
	assert.Contains(t, tables(t, db), "order_refunds")
	migrateDownTo(t, db, 5)
	assert.NotContains(t, tables(t, db), "outbox")
	assert.Contains(t, tables(t, db), "order_placements")
	migrateDownTo(t, db, 2)
	assert.NotContains(t, tables(t, db), "payme_transactions")
	assert.Contains(t, tables(t, db), "orders")

	out.Reset()
	require.NoError(t, postgres.Migrate(c, db.DB, "status", &out))
	assert.Regexp(t, `00010_fiscal\.sql\s+pending`, out.String())
	assert.Regexp(t, `00009_reconciliation\.sql\s+pending`, out.String())
	assert.Regexp(t, `00008_refunds\.sql\s+pending`, out.String())
	assert.Regexp(t, `00007_phone_accounts\.sql\s+pending`, out.String())
	assert.Regexp(t, `00006_outbox\.sql\s+pending`, out.String())
	assert.Regexp(t, `00003_payments\.sql\s+pending`, out.String())
	assert.Regexp(t, `00002_orders\.sql\s+applied`, out.String())

	require.NoError(t, postgres.Migrate(c, db.DB, "reset", &out))
	assert.Empty(t, tables(t, db), "every Down drops what its Up made")
	var fns int
	require.NoError(t, db.GetContext(c, &fns, `SELECT count(*) FROM pg_proc p JOIN pg_namespace n ON n.oid = p.pronamespace
		WHERE n.nspname = 'public'`))
	assert.Zero(t, fns, "functions dropped too")

	out.Reset()
	require.NoError(t, postgres.Migrate(c, db.DB, "down", &out), "down with nothing applied is not an error")

	require.NoError(t, postgres.Migrate(c, db.DB, "up", nil))
	assert.Equal(t, all, tables(t, db))

	pending, err := postgres.MigrationsPending(c, db.DB)
	require.NoError(t, err)
	assert.False(t, pending)

	err = postgres.Migrate(c, db.DB, "sideways", nil)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "unknown migrate command")
}

// TestMigrateClickUUIDKeepsAttemptsAndSettlements: attempts stored before
// 00004 get a UUID id and keep their integer as prepare_id (Click still
// knows them by it), and the settlement of an order Click paid names the
// attempt by its new UUID; Down puts both back.
func TestMigrateClickUUIDKeepsAttemptsAndSettlements(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	migrateDownTo(t, db, 3) // back to 00003
	var intType string
	require.NoError(t, db.GetContext(c, &intType, `SELECT data_type FROM information_schema.columns
		WHERE table_name = 'click_transactions' AND column_name = 'id'`))
	require.Equal(t, "bigint", intType)

	paid := orderAtOldSchema(t, db)
	pending := orderAtOldSchema(t, db)
	var confirmedID, preparedID int64
	require.NoError(t, db.GetContext(c, &confirmedID, `INSERT INTO click_transactions (click_trans_id, click_paydoc_id,
		service_id, order_id, amount, amount_raw, state, prepared_at, confirmed_at)
		VALUES (701, 801, 12345, $1, $2, '1', 2, now(), now()) RETURNING id`, paid.ID(), paid.Total().Tiyin()))
	require.NoError(t, db.GetContext(c, &preparedID, `INSERT INTO click_transactions (click_trans_id, click_paydoc_id,
		service_id, order_id, amount, amount_raw, state, prepared_at)
		VALUES (702, 802, 12345, $1, $2, '1', 1, now()) RETURNING id`, pending.ID(), pending.Total().Tiyin()))
	_, err := db.ExecContext(c, `INSERT INTO order_settlements (order_id, provider, provider_tx_id) VALUES ($1, 'click', $2)`,
		paid.ID(), strconv.FormatInt(confirmedID, 10))
	require.NoError(t, err)
	// A cancelled order: one attempt ended with it (the invented -9 of old),
	// one Click had cancelled before with its own error.
	cancelledOrder := orderAtOldSchema(t, db)
	_, err = db.ExecContext(c, `UPDATE orders SET status = 'cancelled', cancelled_at = $2, updated_at = $2 WHERE id = $1`,
		cancelledOrder.ID(), t0.Add(time.Hour))
	require.NoError(t, err)
	var endedWithOrder, cancelledByClick int64
	require.NoError(t, db.GetContext(c, &endedWithOrder, `INSERT INTO click_transactions (click_trans_id, click_paydoc_id,
		service_id, order_id, amount, amount_raw, state, click_error, prepared_at, cancelled_at)
		VALUES (704, 804, 12345, $1, $2, '1', -1, -9, $3, $4) RETURNING id`,
		cancelledOrder.ID(), cancelledOrder.Total().Tiyin(), t0, t0.Add(time.Hour)))
	require.NoError(t, db.GetContext(c, &cancelledByClick, `INSERT INTO click_transactions (click_trans_id, click_paydoc_id,
		service_id, order_id, amount, amount_raw, state, click_error, prepared_at, cancelled_at)
		VALUES (705, 805, 12345, $1, $2, '1', -1, -5017, $3, $4) RETURNING id`,
		cancelledOrder.ID(), cancelledOrder.Total().Tiyin(), t0, t0.Add(time.Minute)))

	require.NoError(t, postgres.Migrate(c, db.DB, "up", nil))
	repo := postgres.NewClickRepo(db)
	byPrepareID := func(id int64) (*payment.ClickTransaction, error) {
		return locking(t, db, func(c context.Context) (*payment.ClickTransaction, error) { return repo.GetByPrepareIDForUpdate(c, id) })
	}
	confirmed, err := byPrepareID(confirmedID)
	require.NoError(t, err)
	prepared, err := byPrepareID(preparedID)
	require.NoError(t, err)
	for _, a := range []*payment.ClickTransaction{confirmed, prepared} {
		_, err := uuid.Parse(a.ID())
		assert.NoError(t, err, "attempt %d got a UUID", a.PrepareID())
	}
	assert.NotEqual(t, confirmed.ID(), prepared.ID())
	assert.Equal(t, int64(701), confirmed.ClickTransID())
	var settledBy string
	require.NoError(t, db.GetContext(c, &settledBy, `SELECT provider_tx_id FROM order_settlements WHERE order_id = $1`, paid.ID()))
	assert.Equal(t, confirmed.ID(), settledBy, "the settlement names the attempt by its UUID")
	ended, err := byPrepareID(endedWithOrder)
	require.NoError(t, err)
	assert.Nil(t, ended.ClickError(), "no invented Click error for an attempt ended with its order")
	byClick, err := byPrepareID(cancelledByClick)
	require.NoError(t, err)
	require.NotNil(t, byClick.ClickError())
	assert.Equal(t, -5017, *byClick.ClickError(), "what Click sent is kept")

	// New attempts go on numbering merchant_prepare_id where the old ones stopped.
	next := newClick(t, pending, 703)
	require.NoError(t, repo.Insert(c, next))
	assert.Greater(t, next.PrepareID(), preparedID)

	migrateDownTo(t, db, 3)
	require.NoError(t, db.GetContext(c, &settledBy, `SELECT provider_tx_id FROM order_settlements WHERE order_id = $1`, paid.ID()))
	assert.Equal(t, strconv.FormatInt(confirmedID, 10), settledBy)
	var ids []int64
	require.NoError(t, db.SelectContext(c, &ids, `SELECT id FROM click_transactions ORDER BY id`))
	assert.Equal(t, []int64{confirmedID, preparedID, endedWithOrder, cancelledByClick, next.PrepareID()}, ids)
	var oldError int
	require.NoError(t, db.GetContext(c, &oldError, `SELECT click_error FROM click_transactions WHERE id = $1`, endedWithOrder))
	assert.Equal(t, -9, oldError, "Down stores what the old code expects")
}

func TestMigrateConcurrentUpIsSerialised(t *testing.T) {
	t.Parallel()
	dbURL := testenv.EmptyDatabaseURL(t)
	require.NoError(t, postgres.EnsureDatabase(ctx(t), dbURL))
	a, b := testenv.OpenURL(t, dbURL), testenv.OpenURL(t, dbURL)
	errs := make(chan error, 2)
	for _, db := range []*sqlx.DB{a, b} {
		go func() { errs <- postgres.Migrate(context.Background(), db.DB, "up", nil) }()
	}
	require.NoError(t, <-errs)
	require.NoError(t, <-errs)
	assert.Equal(t, tables(t, testenv.Postgres(t)), tables(t, a), "every table of a fresh database, each made once")
}

func TestEnsureDatabaseCreatesMissingAndIsIdempotent(t *testing.T) {
	t.Parallel()
	dbURL := testenv.EmptyDatabaseURL(t)
	c := ctx(t)

	_, err := postgres.Open(c, dbURL, postgres.PoolOptions{})
	require.Error(t, err, "the database does not exist yet")

	require.NoError(t, postgres.EnsureDatabase(c, dbURL))
	require.NoError(t, postgres.EnsureDatabase(c, dbURL), "second call: exists, nothing to do")

	// Racing callers: one creates, the others see 42P04 or the existing row.
	race := testenv.EmptyDatabaseURL(t)
	errs := make(chan error, 4)
	for range 4 {
		go func() { errs <- postgres.EnsureDatabase(context.Background(), race) }()
	}
	for range 4 {
		require.NoError(t, <-errs)
	}

	db, err := postgres.Open(c, dbURL, postgres.PoolOptions{})
	require.NoError(t, err)
	defer db.Close()
	require.NoError(t, postgres.NewPinger(db).Ping(c))
}

func TestEnsureDatabaseQuotesTheName(t *testing.T) {
	t.Parallel()
	base := testenv.EmptyDatabaseURL(t)
	odd := strings.Replace(base, "/ut_", "/ut_Odd%22Name%20", 1) // ut_Odd"Name <hex>
	require.NotEqual(t, base, odd)
	c := ctx(t)
	require.NoError(t, postgres.EnsureDatabase(c, odd))
	t.Cleanup(func() {
		admin := testenv.OpenURL(t, testenv.PostgresAdminURL())
		var name string
		require.NoError(t, admin.GetContext(context.Background(), &name,
			`SELECT datname FROM pg_database WHERE datname LIKE 'ut_Odd"Name %'`))
		_, err := admin.ExecContext(context.Background(), `DROP DATABASE "`+strings.ReplaceAll(name, `"`, `""`)+`" WITH (FORCE)`)
		require.NoError(t, err)
	})
	db, err := postgres.Open(c, odd, postgres.PoolOptions{})
	require.NoError(t, err)
	_ = db.Close()
}

func TestOpenUnreachableIsUnavailable(t *testing.T) {
	t.Parallel()
	start := time.Now()
	_, err := postgres.Open(ctx(t), "postgres://postgres:secret@127.0.0.1:1/x?sslmode=disable&connect_timeout=2",
		postgres.PoolOptions{PingTimeout: 2 * time.Second})
	require.Error(t, err)
	assert.True(t, errors.Is(err, domain.ErrUnavailable), "%v", err)
	assert.NotContains(t, err.Error(), "secret")
	assert.Less(t, time.Since(start), 5*time.Second)

	_, err = postgres.Open(ctx(t), "postgres://postgres:secret@[::1", postgres.PoolOptions{})
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "secret")
}

func TestPingerReportsAClosedPool(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	p := postgres.NewPinger(db)
	require.NoError(t, p.Ping(ctx(t)))
	require.NoError(t, db.Close())
	require.Error(t, p.Ping(ctx(t)))
}

// migrateDownTo rolls migrations back one at a time until version is the
// newest applied, so a test of one migration keeps working as later ones land.
// orderAtOldSchema stores a pending order with the columns migration 00002
// made, for tests that run below the newest migration: the repository
// writes columns later migrations add.
func orderAtOldSchema(t *testing.T, db *sqlx.DB) *order.Order {
	t.Helper()
	o := buildOrder(t, someUser(t, db).ID(), t0)
	tx, err := db.BeginTxx(ctx(t), nil) // the order and its items together: the total check is deferred to commit
	require.NoError(t, err)
	defer func() { _ = tx.Rollback() }()
	a := o.Address()
	_, err = tx.ExecContext(ctx(t), `INSERT INTO orders (id, user_id, status, total, shipping_region, shipping_city,
		shipping_street, shipping_phone, created_at, updated_at) VALUES ($1, $2, 'pending_payment', $3, $4, $5, $6, $7, $8, $8)`,
		o.ID(), o.UserID(), o.Total().Tiyin(), a.Region, a.City, a.Street, a.Phone, t0)
	require.NoError(t, err)
	for i, it := range o.Items() {
		_, err = tx.ExecContext(ctx(t), `INSERT INTO order_items (order_id, product_id, position, name, unit_price, quantity, line_total)
			VALUES ($1, $2, $3, $4, $5, $6, $7)`, o.ID(), it.ProductID, i, it.Name, it.UnitPrice.Tiyin(), it.Quantity, it.LineTotal().Tiyin())
		require.NoError(t, err)
	}
	require.NoError(t, tx.Commit())
	return o
}

func migrateDownTo(t *testing.T, db *sqlx.DB, version int64) {
	t.Helper()
	c := ctx(t)
	for range 100 {
		var current int64
		require.NoError(t, db.GetContext(c, &current,
			`SELECT COALESCE(MAX(version_id), 0) FROM goose_db_version`))
		if current <= version {
			require.Equal(t, version, current, "migrated below the version asked for")
			return
		}
		require.NoError(t, postgres.Migrate(c, db.DB, "down", nil))
	}
	t.Fatalf("could not roll back to migration %d", version)
}
