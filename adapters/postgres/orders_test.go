package postgres_test

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/lib/pq"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.OrderRepository = (*postgres.OrderRepo)(nil)

func TestOrderCreateGetRoundTrip(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)

	for _, get := range []func(context.Context, string) (*order.Order, error){repo.Get, repo.GetForUpdate} {
		got, err := get(c, o.ID())
		require.NoError(t, err)
		assert.Equal(t, o.ID(), got.ID())
		assert.Equal(t, u.ID(), got.UserID())
		assert.Equal(t, order.StatusPendingPayment, got.Status())
		assert.Equal(t, o.Items(), got.Items(), "same lines in the same order")
		assert.Equal(t, money.MustTiyin(2*15_000_000+2_500_050), got.Total())
		assert.Equal(t, o.Address(), got.Address())
		assert.Equal(t, "call before delivery", got.Note())
		assert.True(t, got.CreatedAt().Equal(t0))
		assert.True(t, got.UpdatedAt().Equal(t0))
		assert.True(t, got.PaidAt().IsZero())
		assert.True(t, got.CancelledAt().IsZero())
	}
}

func TestOrderNotFound(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	for _, id := range []string{uuid.NewString(), "order-1"} {
		_, err := repo.Get(c, id)
		assert.ErrorIs(t, err, order.ErrNotFound)
		_, err = repo.GetForUpdate(c, id)
		assert.ErrorIs(t, err, order.ErrNotFound)
	}
	u := someUser(t, db)
	assert.ErrorIs(t, repo.Update(c, buildOrder(t, u.ID(), t0)), order.ErrNotFound)

	// An order of a user that does not exist.
	err := repo.Create(c, buildOrder(t, uuid.NewString(), t0))
	assert.ErrorIs(t, err, domain.ErrNotFound)
}

func TestOrderUpdateWalksTheStatusMachine(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)

	steps := []func(*order.Order, time.Time) error{
		func(o *order.Order, now time.Time) error { return o.MarkPaid(now) },
		func(o *order.Order, now time.Time) error { return o.AdvanceTo(order.StatusShipped, now) },
		func(o *order.Order, now time.Time) error { return o.AdvanceTo(order.StatusDelivered, now) },
	}
	for i, step := range steps {
		now := t0.Add(time.Duration(i+1) * time.Hour)
		require.NoError(t, step(o, now))
		require.NoError(t, repo.Update(c, o))
		got, err := repo.Get(c, o.ID())
		require.NoError(t, err)
		assert.Equal(t, o.Status(), got.Status())
		assert.True(t, got.UpdatedAt().Equal(now))
	}
	got, err := repo.Get(c, o.ID())
	require.NoError(t, err)
	assert.Equal(t, order.StatusDelivered, got.Status())
	assert.True(t, got.PaidAt().Equal(t0.Add(time.Hour)))
	assert.True(t, got.ShippedAt().Equal(t0.Add(2*time.Hour)))
	assert.True(t, got.DeliveredAt().Equal(t0.Add(3*time.Hour)))

	cancelled := newOrder(t, db, u.ID(), t0)
	require.NoError(t, cancelled.Cancel(t0.Add(time.Minute)))
	require.NoError(t, repo.Update(c, cancelled))
	got, err = repo.Get(c, cancelled.ID())
	require.NoError(t, err)
	assert.Equal(t, order.StatusCancelled, got.Status())
	assert.True(t, got.CancelledAt().Equal(t0.Add(time.Minute)))

	refunded := newOrder(t, db, u.ID(), t0)
	require.NoError(t, refunded.MarkPaid(t0.Add(time.Minute)))
	require.NoError(t, refunded.Refund(t0.Add(2*time.Minute)))
	require.NoError(t, repo.Update(c, refunded))
	got, err = repo.Get(c, refunded.ID())
	require.NoError(t, err)
	assert.Equal(t, order.StatusRefunded, got.Status())
	assert.True(t, got.RefundedAt().Equal(t0.Add(2*time.Minute)))
}

func TestOrderStatusTimesCheck(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)
	// A status without the timestamps its steps set: refused by the database.
	bad := []*order.Order{
		order.Restore(o.ID(), u.ID(), order.StatusPaid, o.Items(), o.Total(), o.Address(), "", t0, t0,
			time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}),
		order.Restore(o.ID(), u.ID(), order.StatusCancelled, o.Items(), o.Total(), o.Address(), "", t0, t0,
			t0, time.Time{}, time.Time{}, t0, time.Time{}), // cancelled but paid
		order.Restore(o.ID(), u.ID(), order.StatusRefunded, o.Items(), o.Total(), o.Address(), "", t0, t0,
			t0, t0, time.Time{}, time.Time{}, t0), // refunded after shipping
		order.Restore(o.ID(), u.ID(), order.Status("lost"), o.Items(), o.Total(), o.Address(), "", t0, t0,
			time.Time{}, time.Time{}, time.Time{}, time.Time{}, time.Time{}),
	}
	for _, b := range bad {
		t.Run(string(b.Status()), func(t *testing.T) {
			err := repo.Update(c, b)
			assert.ErrorIs(t, err, domain.ErrValidation, string(b.Status()))
		})
	}
}

func TestOrderMoneyChecksRefuseRawSQL(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)

	insert := func(total int64, currency string) error {
		_, err := db.ExecContext(c, `INSERT INTO orders (id, user_id, status, total, currency, shipping_region,
			shipping_city, shipping_street, shipping_phone) VALUES ($1, $2, 'pending_payment', $3, $4, 'R', 'C', 'S', '+998901234567')`,
			uuid.NewString(), u.ID(), total, currency)
		return err
	}
	for _, total := range []int64{0, -1, -32_500_050} {
		assertViolates(t, insert(total, "UZS"), "orders_total_check")
	}
	assertViolates(t, insert(100, "USD"), "orders_currency_check")
	// A lone order row with no items fails the deferred sum check at commit.
	assertViolates(t, insert(100, "UZS"), "orders_total_matches_items")

	for name, stmt := range map[string]string{
		"order_items_unit_price_check": `UPDATE order_items SET unit_price = 0, line_total = 0 WHERE order_id = $1`,
		"order_items_line_total_check": `UPDATE order_items SET line_total = line_total + 1 WHERE order_id = $1`,
		"order_items_quantity_check":   `UPDATE order_items SET quantity = 0, line_total = 0 WHERE order_id = $1`,
		"orders_total_matches_items":   `UPDATE orders SET total = total + 1 WHERE id = $1`,
	} {
		t.Run(name, func(t *testing.T) {
			_, err := db.ExecContext(c, stmt, o.ID())
			assertViolates(t, err, name)
		})
	}
	got, err := postgres.NewOrderRepo(db).Get(c, o.ID())
	require.NoError(t, err)
	assert.Equal(t, o.Total(), got.Total(), "nothing changed")
}

func TestOrderReadBackRechecksValues(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)
	_, err := db.ExecContext(c, `ALTER TABLE orders DROP CONSTRAINT orders_status_check, DROP CONSTRAINT orders_status_times_check;
		UPDATE orders SET status = 'teleported' WHERE id = '`+o.ID()+`'`)
	require.NoError(t, err)
	_, err = repo.Get(c, o.ID())
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
	_, _, err = repo.List(c, ports.OrderFilter{})
	assert.ErrorIs(t, err, postgres.ErrCorrupt)
}

func TestOrderList(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	alice, bob := someUser(t, db), someUser(t, db)
	var aliceOrders []*order.Order
	for i := range 7 {
		aliceOrders = append(aliceOrders, newOrder(t, db, alice.ID(), t0.Add(time.Duration(i)*time.Minute)))
	}
	for i := range 3 {
		newOrder(t, db, bob.ID(), t0.Add(time.Duration(i)*time.Second))
	}
	paid := aliceOrders[2]
	require.NoError(t, paid.MarkPaid(t0.Add(time.Hour)))
	require.NoError(t, repo.Update(c, paid))

	page, total, err := repo.List(c, ports.OrderFilter{UserID: alice.ID(), Page: 1, PageSize: 5})
	require.NoError(t, err)
	assert.Equal(t, 7, total)
	require.Len(t, page, 5)
	assert.Equal(t, aliceOrders[6].ID(), page[0].ID(), "newest first")
	for _, o := range page {
		assert.Len(t, o.Items(), 2, "items loaded with the page")
		assert.Equal(t, alice.ID(), o.UserID())
	}
	page, _, err = repo.List(c, ports.OrderFilter{UserID: alice.ID(), Page: 2, PageSize: 5})
	require.NoError(t, err)
	require.Len(t, page, 2)
	assert.Equal(t, aliceOrders[0].ID(), page[1].ID())

	all, total, err := repo.List(c, ports.OrderFilter{PageSize: 100})
	require.NoError(t, err)
	assert.Equal(t, 10, total)
	assert.Len(t, all, 10)

	onlyPaid, total, err := repo.List(c, ports.OrderFilter{Status: order.StatusPaid})
	require.NoError(t, err)
	require.Equal(t, 1, total)
	assert.Equal(t, paid.ID(), onlyPaid[0].ID())
	assert.Equal(t, order.StatusPaid, onlyPaid[0].Status())

	_, total, err = repo.List(c, ports.OrderFilter{UserID: bob.ID(), Status: order.StatusPaid})
	require.NoError(t, err)
	assert.Zero(t, total)

	none, total, err := repo.List(c, ports.OrderFilter{UserID: "nobody"})
	require.NoError(t, err)
	assert.Zero(t, total)
	assert.NotNil(t, none)
}

func TestOrderQueriesAreNotNPlusOne(t *testing.T) {
	t.Parallel()
	dbURL := testenv.PostgresURL(t)
	db, log := countingDB(t, dbURL)
	repo, tm := postgres.NewOrderRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	u := someUser(t, db)
	for i := range 20 {
		newOrder(t, db, u.ID(), t0.Add(time.Duration(i)*time.Second))
	}

	log.reset()
	orders, total, err := repo.List(c, ports.OrderFilter{PageSize: 15})
	require.NoError(t, err)
	require.Len(t, orders, 15)
	assert.Equal(t, 20, total)
	assert.Len(t, log.all(), 4, "count, page, items and receipts of the page: %q", log.all())

	log.reset()
	_, err = repo.Get(c, orders[0].ID())
	require.NoError(t, err)
	assert.Len(t, log.all(), 1, "an order, its items and its receipts in one statement: %q", log.all())

	log.reset()
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		got, err := repo.LockOverdue(ctx, t0.Add(time.Hour), ports.OverdueCursor{}, 100)
		require.Len(t, got, 20)
		return err
	}))
	assert.Len(t, log.all(), 3, "orders, their items, their receipts: %q", log.all())

	log.reset()
	newOrder(t, db, u.ID(), t0)
	assert.Len(t, log.all(), 1, "an order and its items in one statement: %q", log.all())
}

func TestOrderLockOverdueSkipsLockedRows(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, tm := postgres.NewOrderRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	u := someUser(t, db)
	cutoff := t0.Add(time.Hour)
	var overdue []string
	for i := range 10 {
		o := newOrder(t, db, u.ID(), t0.Add(time.Duration(i)*time.Minute))
		overdue = append(overdue, o.ID())
	}
	newOrder(t, db, u.ID(), cutoff.Add(time.Minute)) // not overdue yet
	paid := newOrder(t, db, u.ID(), t0)              // overdue but paid
	require.NoError(t, paid.MarkPaid(t0.Add(time.Minute)))
	require.NoError(t, repo.Update(c, paid))

	_, err := repo.LockOverdue(c, cutoff, ports.OverdueCursor{}, 10)
	assert.ErrorIs(t, err, postgres.ErrNoTx, "locks without a transaction would protect nothing")

	// Two sweepers at once, each holding its locks until both have looked.
	var mu sync.Mutex
	seen := map[string]int{}
	var wg sync.WaitGroup
	barrier := make(chan struct{})
	var arrived sync.WaitGroup
	arrived.Add(2)
	for range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			err := tm.WithinTx(context.Background(), func(ctx context.Context) error {
				got, err := repo.LockOverdue(ctx, cutoff, ports.OverdueCursor{}, 6)
				if err != nil {
					return err
				}
				mu.Lock()
				for _, o := range got {
					seen[o.ID()]++
					if o.Status() != order.StatusPendingPayment || len(o.Items()) != 2 {
						return fmt.Errorf("unexpected order %s", o.ID())
					}
				}
				mu.Unlock()
				arrived.Done()
				<-barrier // keep the locks while the other sweeper runs
				return nil
			})
			assert.NoError(t, err)
		}()
	}
	arrived.Wait()
	close(barrier)
	wg.Wait()
	assert.Len(t, seen, 10, "between them the sweepers got every overdue order")
	for id, n := range seen {
		assert.Equal(t, 1, n, "order %s locked by both", id)
		assert.Contains(t, overdue, id)
	}

	// Oldest first, limit respected.
	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		got, err := repo.LockOverdue(ctx, cutoff, ports.OverdueCursor{}, 3)
		require.NoError(t, err)
		require.Len(t, got, 3)
		assert.Equal(t, overdue[:3], []string{got[0].ID(), got[1].ID(), got[2].ID()})
		none, err := repo.LockOverdue(ctx, cutoff, ports.OverdueCursor{}, 0)
		require.NoError(t, err)
		assert.Empty(t, none)
		return nil
	}))
}

// The cursor walks the overdue orders batch after batch, oldest first,
// orders created at the same moment in id order, each once.
func TestOrderLockOverdueGoesOnAfterTheCursor(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo, tm := postgres.NewOrderRepo(db), postgres.NewTxManager(db)
	c := ctx(t)
	u := someUser(t, db)
	cutoff := t0.Add(time.Hour)
	var want []*order.Order
	for i := range 7 {
		// Pairs created at the same moment: only the id tells them apart.
		want = append(want, newOrder(t, db, u.ID(), t0.Add(time.Duration(i/2)*time.Minute)))
	}
	slices.SortFunc(want, func(a, b *order.Order) int {
		return cmp.Or(a.CreatedAt().Compare(b.CreatedAt()), cmp.Compare(a.ID(), b.ID()))
	})

	var got []string
	var after ports.OverdueCursor
	for batch := 0; ; batch++ {
		require.Less(t, batch, 10, "the walk ends")
		var locked []*order.Order
		require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
			var err error
			locked, err = repo.LockOverdue(ctx, cutoff, after, 3)
			return err
		}))
		for _, o := range locked {
			got = append(got, o.ID())
		}
		if len(locked) < 3 {
			break
		}
		last := locked[len(locked)-1]
		after = ports.OverdueCursor{CreatedAt: last.CreatedAt(), ID: last.ID()}
	}
	ids := make([]string, len(want))
	for i, o := range want {
		ids[i] = o.ID()
	}
	assert.Equal(t, ids, got)

	require.NoError(t, tm.WithinTx(c, func(ctx context.Context) error {
		_, err := repo.LockOverdue(ctx, cutoff, ports.OverdueCursor{CreatedAt: t0, ID: "not-a-uuid"}, 3)
		assert.ErrorIs(t, err, domain.ErrValidation)
		return nil
	}))
}

// assertViolates checks err is a check violation of the named constraint.
func assertViolates(t *testing.T, err error, constraint string) {
	t.Helper()
	require.Error(t, err, constraint)
	pe := pq.As(err)
	require.NotNil(t, pe, "%v", err)
	assert.Equal(t, "23514", string(pe.Code), "%v", err)
	assert.Equal(t, constraint, pe.Constraint, "%v", err)
}

// TestOrderGetReadsReceiptsAsListDoes: Get folds the receipts into the
// order's row as JSON, List reads them as rows; both must give the same
// receipts, in the same order, to the microsecond.
func TestOrderGetReadsReceiptsAsListDoes(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	repo := postgres.NewOrderRepo(db)
	c := ctx(t)
	u := someUser(t, db)
	o := newOrder(t, db, u.ID(), t0)
	at := t0.Add(90 * time.Minute)
	_, err := db.ExecContext(c, `INSERT INTO fiscal_receipts (order_id, provider, kind, status, provider_ref,
			terminal_id, fiscal_sign, qr_code_url, issued_at, created_at, updated_at)
		VALUES ($1, 'payme', 'sale', 'issued', 'p1', 'EP1', '800031554082', 'https://ofd.soliq.uz/epi?t=EP1&r=1',
			'2026-03-04 05:06:07.123456+05', $2, $2),
		       ($1, 'click', 'sale', 'pending', '77', NULL, NULL, NULL, NULL, $2, $2),
		       ($1, 'payme', 'refund', 'failed', 'p1', NULL, NULL, 'https://evil.example/x', NULL, $3, $3)`,
		o.ID(), at, at.Add(-time.Minute))
	require.NoError(t, err)

	got, err := repo.Get(c, o.ID())
	require.NoError(t, err)
	listed, _, err := repo.List(c, ports.OrderFilter{UserID: u.ID()})
	require.NoError(t, err)
	require.Len(t, listed, 1)
	require.Len(t, got.Receipts(), 3)
	assert.Equal(t, listed[0].Receipts(), got.Receipts())
	assert.Equal(t, time.Date(2026, 3, 4, 0, 6, 7, 123456000, time.UTC), got.Receipts()[2].IssuedAt(), "oldest first, then kind, then provider")
}
