package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// Analytics implements ports.Analytics with aggregate queries over orders,
// order items, settlements and payment transactions. Revenue counts orders
// whose status is paid, shipped or delivered (refunded and cancelled ones
// never do).
type Analytics struct {
	db *sqlx.DB
}

var _ ports.Analytics = (*Analytics)(nil)

// NewAnalytics returns an Analytics on db.
func NewAnalytics(db *sqlx.DB) *Analytics { return &Analytics{db: db} }

// revenueStatuses is the SQL list of statuses whose orders count as revenue.
const revenueStatuses = `('paid', 'shipped', 'delivered')`

// maxTopLimit bounds TopProducts; the use case validates, this keeps a bad
// value from reaching SQL.
const maxTopLimit = 100

type salesRow struct {
	PeriodStart time.Time `db:"period_start"`
	Orders      int64     `db:"orders"`
	Revenue     int64     `db:"revenue"`
}

// Sales buckets revenue-counting orders by paid_at in [from, to) into
// periods of interval in loc, in time order.
//
// Periods are cut on the wall clock of loc: timestamps are turned into local
// time with AT TIME ZONE and truncated with date_trunc (whose 'week' is the
// ISO week, starting on Monday), and each period's start is turned back into
// an instant. generate_series walks local time from the period holding from
// to the one holding the last instant before to, so every period of the
// range is present, empty ones with zero orders and revenue, and a day is a
// calendar day even across a DST change. An empty range (from ≥ to) has no
// periods.
func (a *Analytics) Sales(ctx context.Context, from, to time.Time, interval ports.Interval, loc *time.Location) ([]ports.SalesPoint, error) {
	switch interval {
	case ports.IntervalDay, ports.IntervalWeek, ports.IntervalMonth:
	default:
		return nil, fmt.Errorf("sales by %q: %w", interval, domain.Invalid("interval", domain.MsgEither, domain.Args{"Values": "day, week", "Last": "month"}))
	}
	if loc == nil {
		loc = time.UTC
	}
	zone := loc.String()
	if zone == "Local" {
		return nil, fmt.Errorf("sales: %w", domain.Invalid("tz", domain.MsgNamedTimeZone))
	}
	out := []ports.SalesPoint{}
	if !from.Before(to) {
		return out, nil
	}
	var rows []salesRow
	err := sqlx.SelectContext(ctx, ext(ctx, a.db), &rows, `WITH periods AS (
			SELECT generate_series(
				date_trunc($3, $1::timestamptz AT TIME ZONE $4),
				date_trunc($3, ($2::timestamptz - interval '1 microsecond') AT TIME ZONE $4),
				('1 ' || $3)::interval) AS local_start
		), sales AS (
			SELECT date_trunc($3, paid_at AT TIME ZONE $4) AS local_start,
				count(*) AS orders, sum(total) AS revenue
			FROM orders
			WHERE status IN `+revenueStatuses+` AND paid_at >= $1 AND paid_at < $2
			GROUP BY 1
		)
		SELECT p.local_start AT TIME ZONE $4 AS period_start,
			COALESCE(s.orders, 0) AS orders, COALESCE(s.revenue, 0)::bigint AS revenue
		FROM periods p LEFT JOIN sales s ON s.local_start = p.local_start
		ORDER BY p.local_start`,
		dbTime(from), dbTime(to), string(interval), zone)
	if err != nil {
		return nil, fmt.Errorf("sales by %s in %s: %w", interval, zone, mapError(err))
	}
	for _, r := range rows {
		revenue, err := money.FromTiyin(r.Revenue)
		if err != nil || r.Orders < 0 {
			return nil, fmt.Errorf("sales period %s: %d orders, revenue %d: %w", r.PeriodStart, r.Orders, r.Revenue, ErrCorrupt)
		}
		out = append(out, ports.SalesPoint{PeriodStart: r.PeriodStart.In(loc), Orders: r.Orders, Revenue: revenue})
	}
	return out, nil
}

// OrdersByStatus counts every order by status; statuses without orders are
// left out.
func (a *Analytics) OrdersByStatus(ctx context.Context) (map[order.Status]int64, error) {
	var rows []struct {
		Status string `db:"status"`
		Count  int64  `db:"count"`
	}
	err := sqlx.SelectContext(ctx, ext(ctx, a.db), &rows, `SELECT status, count(*) AS count FROM orders GROUP BY status`)
	if err != nil {
		return nil, fmt.Errorf("count orders by status: %w", mapError(err))
	}
	out := make(map[order.Status]int64, len(rows))
	for _, r := range rows {
		s, err := order.ParseStatus(r.Status)
		if err != nil {
			return nil, fmt.Errorf("orders by status: status %q: %w", r.Status, ErrCorrupt)
		}
		out[s] = r.Count
	}
	return out, nil
}

// PaymentsByProvider counts and sums the payments that paid an order and are
// still completed (Payme state 2, Click confirmed): each settlement joined to
// the transaction it names. A payment refunded since then no longer counts.
// Providers without payments are left out.
func (a *Analytics) PaymentsByProvider(ctx context.Context) (map[payment.Provider]ports.ProviderTotal, error) {
	var rows []struct {
		Provider string `db:"provider"`
		Count    int64  `db:"count"`
		Amount   int64  `db:"amount"`
	}
	err := sqlx.SelectContext(ctx, ext(ctx, a.db), &rows, `SELECT s.provider, count(*) AS count,
			COALESCE(sum(COALESCE(p.amount, c.amount)), 0)::bigint AS amount
		FROM order_settlements s
		LEFT JOIN payme_transactions p
			ON s.provider = 'payme' AND p.id::text = s.provider_tx_id AND p.state = 2
		LEFT JOIN click_transactions c
			ON s.provider = 'click' AND c.id::text = s.provider_tx_id AND c.state = 2
		WHERE p.id IS NOT NULL OR c.id IS NOT NULL
		GROUP BY s.provider`)
	if err != nil {
		return nil, fmt.Errorf("sum payments by provider: %w", mapError(err))
	}
	out := make(map[payment.Provider]ports.ProviderTotal, len(rows))
	for _, r := range rows {
		p := payment.Provider(r.Provider)
		amount, err := money.FromTiyin(r.Amount)
		if (p != payment.ProviderPayme && p != payment.ProviderClick) || err != nil {
			return nil, fmt.Errorf("payments by provider: %q, amount %d: %w", r.Provider, r.Amount, ErrCorrupt)
		}
		out[p] = ports.ProviderTotal{Count: r.Count, Amount: amount}
	}
	return out, nil
}

// TopProducts ranks the products of revenue-counting orders by revenue (the
// sum of their line totals), then by product id for a stable order. The name
// is the one of the product's most recently paid line, since names change.
func (a *Analytics) TopProducts(ctx context.Context, limit int) ([]ports.TopProduct, error) {
	out := []ports.TopProduct{}
	if limit <= 0 {
		return out, nil
	}
	limit = min(limit, maxTopLimit)
	var rows []struct {
		ProductID string `db:"product_id"`
		Name      string `db:"name"`
		Quantity  int64  `db:"quantity"`
		Revenue   int64  `db:"revenue"`
	}
	err := sqlx.SelectContext(ctx, ext(ctx, a.db), &rows, `SELECT i.product_id,
			(array_agg(i.name ORDER BY o.paid_at DESC, o.id DESC))[1] AS name,
			sum(i.quantity)::bigint AS quantity, sum(i.line_total)::bigint AS revenue
		FROM order_items i JOIN orders o ON o.id = i.order_id
		WHERE o.status IN `+revenueStatuses+`
		GROUP BY i.product_id
		ORDER BY revenue DESC, i.product_id
		LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("top %d products: %w", limit, mapError(err))
	}
	for _, r := range rows {
		revenue, err := money.FromTiyin(r.Revenue)
		if err != nil || r.Quantity < 1 {
			return nil, fmt.Errorf("top product %s: quantity %d, revenue %d: %w", r.ProductID, r.Quantity, r.Revenue, ErrCorrupt)
		}
		out = append(out, ports.TopProduct{ProductID: r.ProductID, Name: r.Name, Quantity: r.Quantity, Revenue: revenue})
	}
	return out, nil
}
