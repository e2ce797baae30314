package postgres_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

var _ ports.Analytics = (*postgres.Analytics)(nil)

func zone(t *testing.T, name string) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation(name)
	require.NoError(t, err)
	return loc
}

// settle moves a stored order to status, paid at paidAt (for statuses
// that are reached through paid).
func settle(t *testing.T, db *sqlx.DB, o *order.Order, status order.Status, paidAt time.Time) {
	t.Helper()
	repo := postgres.NewOrderRepo(db)
	switch status {
	case order.StatusPendingPayment:
		return
	case order.StatusCancelled:
		require.NoError(t, o.Cancel(paidAt))
	default:
		require.NoError(t, o.MarkPaid(paidAt))
		switch status {
		case order.StatusShipped:
			require.NoError(t, o.AdvanceTo(order.StatusShipped, paidAt.Add(time.Hour)))
		case order.StatusDelivered:
			require.NoError(t, o.AdvanceTo(order.StatusShipped, paidAt.Add(time.Hour)))
			require.NoError(t, o.AdvanceTo(order.StatusDelivered, paidAt.Add(2*time.Hour)))
		case order.StatusRefunded:
			require.NoError(t, o.Refund(paidAt.Add(time.Hour)))
		}
	}
	require.NoError(t, repo.Update(ctx(t), o))
}

// paidAt stores an order of the fixture's total (32 500 050 tiyin) in status, paid at when.
func paidAt(t *testing.T, db *sqlx.DB, userID string, status order.Status, when time.Time) *order.Order {
	t.Helper()
	o := newOrder(t, db, userID, when.Add(-time.Hour))
	settle(t, db, o, status, when)
	return o
}

// point is a SalesPoint in a comparable form.
type point struct {
	Start   string
	Orders  int64
	Revenue int64
}

func pointsOf(pts []ports.SalesPoint) []point {
	out := make([]point, 0, len(pts))
	for _, p := range pts {
		out = append(out, point{p.PeriodStart.Format(time.RFC3339), p.Orders, p.Revenue.Tiyin()})
	}
	return out
}

const orderTotal = 2*15_000_000 + 2_500_050 // buildOrder's total

func TestAnalyticsSalesByDayInTashkent(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	u := someUser(t, db).ID()
	tash := zone(t, "Asia/Tashkent") // UTC+5 all year

	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 5, 31, 18, 59, 59, 0, time.UTC))        // May 31 23:59:59 local: before from
	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 5, 31, 19, 0, 0, 0, time.UTC))          // Jun 1 00:00 local
	paidAt(t, db, u, order.StatusDelivered, time.Date(2025, 6, 1, 10, 0, 0, 0, time.UTC))      // Jun 1
	paidAt(t, db, u, order.StatusRefunded, time.Date(2025, 6, 1, 11, 0, 0, 0, time.UTC))       // refunded: no revenue
	paidAt(t, db, u, order.StatusShipped, time.Date(2025, 6, 2, 18, 59, 59, 0, time.UTC))      // Jun 2 23:59:59 local
	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 6, 4, 18, 59, 59, 999999000, time.UTC)) // last instant of Jun 4
	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 6, 4, 19, 0, 0, 0, time.UTC))           // Jun 5 00:00 local: to is exclusive
	paidAt(t, db, u, order.StatusCancelled, time.Date(2025, 6, 3, 9, 0, 0, 0, time.UTC))
	paidAt(t, db, u, order.StatusPendingPayment, time.Date(2025, 6, 3, 9, 0, 0, 0, time.UTC))

	// The use case turns from=2025-06-01&to=2025-06-04 into [Jun 1 00:00, Jun 5 00:00) local.
	from, to := time.Date(2025, 6, 1, 0, 0, 0, 0, tash), time.Date(2025, 6, 5, 0, 0, 0, 0, tash)
	pts, err := a.Sales(ctx(t), from, to, ports.IntervalDay, tash)
	require.NoError(t, err)
	assert.Equal(t, []point{
		{"2025-06-01T00:00:00+05:00", 2, 2 * orderTotal},
		{"2025-06-02T00:00:00+05:00", 1, orderTotal},
		{"2025-06-03T00:00:00+05:00", 0, 0}, // empty day, still there
		{"2025-06-04T00:00:00+05:00", 1, orderTotal},
	}, pointsOf(pts))
	for _, p := range pts {
		assert.Equal(t, tash, p.PeriodStart.Location())
	}

	// In UTC the same orders fall into other days.
	pts, err = a.Sales(ctx(t), from, to, ports.IntervalDay, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, []point{
		{"2025-05-31T00:00:00Z", 1, orderTotal},
		{"2025-06-01T00:00:00Z", 1, orderTotal},
		{"2025-06-02T00:00:00Z", 1, orderTotal},
		{"2025-06-03T00:00:00Z", 0, 0},
		{"2025-06-04T00:00:00Z", 1, orderTotal},
	}, pointsOf(pts))
}

func TestAnalyticsSalesWeeksStartOnMonday(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	u := someUser(t, db).ID()
	tash := zone(t, "Asia/Tashkent")

	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 6, 8, 23, 0, 0, 0, tash)) // Sunday: week of Mon Jun 2
	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 6, 9, 0, 30, 0, 0, tash)) // Monday: week of Jun 9
	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 6, 9, 22, 0, 0, 0, tash))

	// From a Wednesday to a Friday: the first period is the week from holds.
	pts, err := a.Sales(ctx(t), time.Date(2025, 6, 4, 0, 0, 0, 0, tash), time.Date(2025, 6, 20, 0, 0, 0, 0, tash), ports.IntervalWeek, tash)
	require.NoError(t, err)
	assert.Equal(t, []point{
		{"2025-06-02T00:00:00+05:00", 1, orderTotal},
		{"2025-06-09T00:00:00+05:00", 2, 2 * orderTotal},
		{"2025-06-16T00:00:00+05:00", 0, 0},
	}, pointsOf(pts))
	for _, p := range pts {
		assert.Equal(t, time.Monday, p.PeriodStart.Weekday())
	}
}

func TestAnalyticsSalesByMonthWithAnEmptyMonth(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	u := someUser(t, db).ID()
	tash := zone(t, "Asia/Tashkent")

	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 1, 31, 23, 30, 0, 0, tash))
	paidAt(t, db, u, order.StatusDelivered, time.Date(2025, 3, 1, 0, 10, 0, 0, tash))

	pts, err := a.Sales(ctx(t), time.Date(2025, 1, 15, 0, 0, 0, 0, tash), time.Date(2025, 4, 1, 0, 0, 0, 0, tash), ports.IntervalMonth, tash)
	require.NoError(t, err)
	assert.Equal(t, []point{
		{"2025-01-01T00:00:00+05:00", 1, orderTotal},
		{"2025-02-01T00:00:00+05:00", 0, 0},
		{"2025-03-01T00:00:00+05:00", 1, orderTotal},
	}, pointsOf(pts), "April is not in [from, to)")
}

func TestAnalyticsSalesDaysAreCalendarDaysAcrossDST(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	u := someUser(t, db).ID()
	ny := zone(t, "America/New_York") // clocks go forward on 2025-03-09

	paidAt(t, db, u, order.StatusPaid, time.Date(2025, 3, 10, 3, 30, 0, 0, time.UTC)) // Mar 9 23:30 EDT

	pts, err := a.Sales(ctx(t), time.Date(2025, 3, 8, 0, 0, 0, 0, ny), time.Date(2025, 3, 11, 0, 0, 0, 0, ny), ports.IntervalDay, ny)
	require.NoError(t, err)
	assert.Equal(t, []point{
		{"2025-03-08T00:00:00-05:00", 0, 0},
		{"2025-03-09T00:00:00-05:00", 1, orderTotal},
		{"2025-03-10T00:00:00-04:00", 0, 0},
	}, pointsOf(pts))
}

func TestAnalyticsSalesEmptyRangeAndBadInput(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	c := ctx(t)

	pts, err := a.Sales(c, t0, t0, ports.IntervalDay, time.UTC)
	require.NoError(t, err)
	assert.Equal(t, []ports.SalesPoint{}, pts)
	pts, err = a.Sales(c, t0, t0.Add(-time.Hour), ports.IntervalDay, time.UTC)
	require.NoError(t, err)
	assert.Empty(t, pts)

	_, err = a.Sales(c, t0, t0.Add(time.Hour), ports.Interval("hour"), time.UTC)
	assert.Error(t, err)
	_, err = a.Sales(c, t0, t0.Add(time.Hour), ports.IntervalDay, time.Local)
	assert.Error(t, err)
}

func TestAnalyticsOrdersByStatus(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	u := someUser(t, db).ID()

	got, err := a.OrdersByStatus(ctx(t))
	require.NoError(t, err)
	assert.Empty(t, got)

	for _, s := range []order.Status{order.StatusPendingPayment, order.StatusPendingPayment, order.StatusPaid,
		order.StatusShipped, order.StatusDelivered, order.StatusDelivered, order.StatusDelivered, order.StatusCancelled} {
		paidAt(t, db, u, s, t0)
	}
	got, err = a.OrdersByStatus(ctx(t))
	require.NoError(t, err)
	assert.Equal(t, map[order.Status]int64{
		order.StatusPendingPayment: 2, order.StatusPaid: 1, order.StatusShipped: 1,
		order.StatusDelivered: 3, order.StatusCancelled: 1,
	}, got)
}

func TestAnalyticsPaymentsByProviderCountsCompletedPayments(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	c := ctx(t)
	u := someUser(t, db).ID()
	payme, click, settlements := postgres.NewPaymeRepo(db), postgres.NewClickRepo(db), postgres.NewSettlementRepo(db)
	performAt := time.UnixMilli(paymeT0).Add(time.Minute)

	got, err := a.PaymentsByProvider(c)
	require.NoError(t, err)
	assert.Empty(t, got)

	paidByPayme := func() *payment.PaymeTransaction {
		o := newOrder(t, db, u, t0)
		tx := newPayme(t, o, paymeT0)
		require.NoError(t, payme.Insert(c, tx))
		_, err := tx.Perform(performAt)
		require.NoError(t, err)
		require.NoError(t, payme.Update(c, tx))
		require.NoError(t, settlements.Record(c, o.ID(), payment.ProviderPayme, tx.ID()))
		return tx
	}
	paidByClick := func(clickTransID int64) {
		o := newOrder(t, db, u, t0)
		tx := newClick(t, o, clickTransID)
		require.NoError(t, click.Insert(c, tx))
		require.NoError(t, tx.Confirm(t0.Add(time.Minute)))
		require.NoError(t, click.Update(c, tx))
		require.NoError(t, settlements.Record(c, o.ID(), payment.ProviderClick, tx.ID()))
	}

	paidByPayme()
	paidByClick(501)
	paidByClick(502)
	refunded := paidByPayme()
	_, err = refunded.Cancel(payment.ReasonRefund, true, performAt.Add(time.Minute))
	require.NoError(t, err)
	require.NoError(t, payme.Update(c, refunded))
	// A transaction that never paid anything.
	require.NoError(t, payme.Insert(c, newPayme(t, newOrder(t, db, u, t0), paymeT0)))
	require.NoError(t, click.Insert(c, newClick(t, newOrder(t, db, u, t0), 503)))

	got, err = a.PaymentsByProvider(c)
	require.NoError(t, err)
	assert.Equal(t, map[payment.Provider]ports.ProviderTotal{
		payment.ProviderPayme: {Count: 1, Amount: money.MustTiyin(orderTotal)},
		payment.ProviderClick: {Count: 2, Amount: money.MustTiyin(2 * orderTotal)},
	}, got)
}

func TestAnalyticsTopProductsByRevenue(t *testing.T) {
	t.Parallel()
	db := testenv.Postgres(t)
	a := postgres.NewAnalytics(db)
	c := ctx(t)
	u := someUser(t, db).ID()
	repo := postgres.NewOrderRepo(db)
	pa, pb, pc := uuid.NewString(), uuid.NewString(), uuid.NewString()

	place := func(status order.Status, paid time.Time, items ...order.Item) {
		o, err := order.New(uuid.NewString(), u, items, shipTo, "", paid.Add(-time.Hour))
		require.NoError(t, err)
		require.NoError(t, repo.Create(c, o))
		settle(t, db, o, status, paid)
	}
	item := func(id, name string, price, qty int64) order.Item {
		return order.Item{ProductID: id, Name: name, UnitPrice: money.MustTiyin(price), Quantity: qty}
	}
	place(order.StatusPaid, t0, item(pa, "Lagan", 1000, 2), item(pb, "Choynak", 5000, 1))
	place(order.StatusShipped, t0.Add(time.Hour), item(pa, "Lagan (Rishton)", 1100, 3))
	place(order.StatusRefunded, t0, item(pc, "Do'ppi", 10_000, 10))
	place(order.StatusPendingPayment, t0, item(pc, "Do'ppi", 10_000, 1))
	place(order.StatusCancelled, t0, item(pc, "Do'ppi", 10_000, 1))
	place(order.StatusDelivered, t0, item(pc, "Do'ppi", 3000, 1))

	got, err := a.TopProducts(c, 10)
	require.NoError(t, err)
	assert.Equal(t, []ports.TopProduct{
		{ProductID: pa, Name: "Lagan (Rishton)", Quantity: 5, Revenue: money.MustTiyin(2000 + 3300)},
		{ProductID: pb, Name: "Choynak", Quantity: 1, Revenue: money.MustTiyin(5000)},
		{ProductID: pc, Name: "Do'ppi", Quantity: 1, Revenue: money.MustTiyin(3000)},
	}, got, "the latest name; refunded, unpaid and cancelled orders do not count")

	got, err = a.TopProducts(c, 2)
	require.NoError(t, err)
	require.Len(t, got, 2)
	assert.Equal(t, pb, got[1].ProductID)

	got, err = a.TopProducts(c, 0)
	require.NoError(t, err)
	assert.Equal(t, []ports.TopProduct{}, got)
}
