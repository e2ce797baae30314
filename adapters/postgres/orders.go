package postgres

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/ports"
)

// OrderRepo implements ports.OrderRepository. An order is always read with its
// items and receipts: one order in one query (orderWithItemsSelect), a page
// or batch of orders in three (the orders, all their items, all their
// receipts).
type OrderRepo struct {
	db *sqlx.DB
}

var _ ports.OrderRepository = (*OrderRepo)(nil)

// NewOrderRepo returns an OrderRepo on db.
func NewOrderRepo(db *sqlx.DB) *OrderRepo { return &OrderRepo{db: db} }

const orderColumns = `id, user_id, status, total, currency, shipping_region, shipping_city, shipping_street,
	shipping_phone, note, created_at, updated_at, paid_at, shipped_at, delivered_at, cancelled_at, refunded_at,
	refund_authorized_at`

type orderRow struct {
	ID             string       `db:"id"`
	UserID         string       `db:"user_id"`
	Status         string       `db:"status"`
	Total          int64        `db:"total"`
	Currency       string       `db:"currency"`
	ShippingRegion string       `db:"shipping_region"`
	ShippingCity   string       `db:"shipping_city"`
	ShippingStreet string       `db:"shipping_street"`
	ShippingPhone  string       `db:"shipping_phone"`
	Note           string       `db:"note"`
	CreatedAt      time.Time    `db:"created_at"`
	UpdatedAt      time.Time    `db:"updated_at"`
	PaidAt         sql.NullTime `db:"paid_at"`
	ShippedAt      sql.NullTime `db:"shipped_at"`
	DeliveredAt    sql.NullTime `db:"delivered_at"`
	CancelledAt    sql.NullTime `db:"cancelled_at"`
	RefundedAt     sql.NullTime `db:"refunded_at"`
	// RefundAuthorizedAt: an admin allowed the refund (migration 00008).
	RefundAuthorizedAt sql.NullTime `db:"refund_authorized_at"`
}

type orderItemRow struct {
	OrderID     string         `db:"order_id"`
	ProductID   string         `db:"product_id"`
	Name        string         `db:"name"`
	UnitPrice   int64          `db:"unit_price"`
	Quantity    int64          `db:"quantity"`
	LineTotal   int64          `db:"line_total"`
	IKPUCode    sql.NullString `db:"ikpu_code"`
	PackageCode sql.NullString `db:"package_code"`
	UnitCode    sql.NullInt64  `db:"unit_code"`
	VATPercent  int            `db:"vat_percent"`
	VATAmount   int64          `db:"vat_amount"`
	SellerTIN   sql.NullString `db:"seller_tin"`
	SellerPINFL sql.NullString `db:"seller_pinfl"`
}

const orderItemColumns = `order_id, product_id, name, unit_price, quantity, line_total,
	ikpu_code, package_code, unit_code, vat_percent, vat_amount, seller_tin, seller_pinfl`

// orderWithItemsRow is one order with its items and its fiscal receipts,
// each a JSON array in the same row, so that reading (or locking) one order
// costs one statement, not three: the Payme and Click calls each lock their
// order, and every statement is a round trip. FOR UPDATE locks the orders
// row only; the items of an order never change once it is placed, and a
// receipt is the provider's report, which no lock of ours orders.
type orderWithItemsRow struct {
	orderRow
	Items    []byte `db:"items"`
	Receipts []byte `db:"receipts"`
}

// orderWithItemsSelect reads orders (unaliased: the subselects name
// orders.id) as orderWithItemsRow; the caller adds WHERE and any FOR UPDATE.
// Receipts come oldest first, as receiptsOf sorts them; issued_at travels as
// Unix microseconds, exact whatever the session's time zone.
const orderWithItemsSelect = `SELECT ` + orderColumns + `,
	COALESCE((SELECT json_agg(json_build_object('order_id', i.order_id, 'product_id', i.product_id, 'name', i.name,
			'unit_price', i.unit_price, 'quantity', i.quantity, 'line_total', i.line_total,
			'ikpu_code', i.ikpu_code, 'package_code', i.package_code, 'unit_code', i.unit_code,
			'vat_percent', i.vat_percent, 'vat_amount', i.vat_amount,
			'seller_tin', i.seller_tin, 'seller_pinfl', i.seller_pinfl)
			ORDER BY i.position, i.product_id)
		FROM order_items i WHERE i.order_id = orders.id), '[]') AS items,
	COALESCE((SELECT json_agg(json_build_object('provider', r.provider, 'kind', r.kind, 'status', r.status,
			'qr_code_url', r.qr_code_url, 'fiscal_sign', r.fiscal_sign, 'terminal_id', r.terminal_id,
			'issued_at_us', (extract(epoch FROM r.issued_at) * 1000000)::bigint)
			ORDER BY r.created_at, r.kind, r.provider)
		FROM fiscal_receipts r WHERE r.order_id = orders.id), '[]') AS receipts
	FROM orders`

const orderWithItemsQuery = orderWithItemsSelect + ` WHERE id = $1`

// orderItemJSON is one element of orderWithItemsRow.Items (null for NULL).
type orderItemJSON struct {
	OrderID     string  `json:"order_id"`
	ProductID   string  `json:"product_id"`
	Name        string  `json:"name"`
	UnitPrice   int64   `json:"unit_price"`
	Quantity    int64   `json:"quantity"`
	LineTotal   int64   `json:"line_total"`
	IKPUCode    *string `json:"ikpu_code"`
	PackageCode *string `json:"package_code"`
	UnitCode    *int64  `json:"unit_code"`
	VATPercent  int     `json:"vat_percent"`
	VATAmount   int64   `json:"vat_amount"`
	SellerTIN   *string `json:"seller_tin"`
	SellerPINFL *string `json:"seller_pinfl"`
}

func (j orderItemJSON) row() orderItemRow {
	unit := sql.NullInt64{}
	if j.UnitCode != nil {
		unit = sql.NullInt64{Int64: *j.UnitCode, Valid: true}
	}
	return orderItemRow{OrderID: j.OrderID, ProductID: j.ProductID, Name: j.Name, UnitPrice: j.UnitPrice,
		Quantity: j.Quantity, LineTotal: j.LineTotal, IKPUCode: nullStringOf(j.IKPUCode), PackageCode: nullStringOf(j.PackageCode),
		UnitCode: unit, VATPercent: j.VATPercent, VATAmount: j.VATAmount, SellerTIN: nullStringOf(j.SellerTIN),
		SellerPINFL: nullStringOf(j.SellerPINFL)}
}

// orderReceiptJSON is one element of orderWithItemsRow.Receipts (null for
// NULL).
type orderReceiptJSON struct {
	Provider   string  `json:"provider"`
	Kind       string  `json:"kind"`
	Status     string  `json:"status"`
	QRCodeURL  *string `json:"qr_code_url"`
	FiscalSign *string `json:"fiscal_sign"`
	TerminalID *string `json:"terminal_id"`
	IssuedAtUs *int64  `json:"issued_at_us"`
}

func (j orderReceiptJSON) row(orderID string) receiptRow {
	issued := sql.NullTime{}
	if j.IssuedAtUs != nil {
		issued = sql.NullTime{Time: time.UnixMicro(*j.IssuedAtUs).UTC(), Valid: true}
	}
	return receiptRow{OrderID: orderID, Provider: j.Provider, Kind: j.Kind, Status: j.Status,
		QRCodeURL: nullStringOf(j.QRCodeURL), FiscalSign: nullStringOf(j.FiscalSign), TerminalID: nullStringOf(j.TerminalID), IssuedAt: issued}
}

func (r orderItemRow) toDomain() (order.Item, error) {
	price, err := money.FromTiyin(r.UnitPrice)
	if err != nil || price.IsZero() {
		return order.Item{}, fmt.Errorf("order %s item %s: unit price %d: %w", r.OrderID, r.ProductID, r.UnitPrice, ErrCorrupt)
	}
	if r.Quantity < 1 || r.Quantity > order.MaxQuantity {
		return order.Item{}, fmt.Errorf("order %s item %s: quantity %d: %w", r.OrderID, r.ProductID, r.Quantity, ErrCorrupt)
	}
	line, err := price.Times(r.Quantity)
	if err != nil || line.Tiyin() != r.LineTotal {
		return order.Item{}, fmt.Errorf("order %s item %s: line total %d: %w", r.OrderID, r.ProductID, r.LineTotal, ErrCorrupt)
	}
	vat, err := money.FromTiyin(r.VATAmount)
	if err != nil || r.VATAmount < 0 || r.VATAmount > r.LineTotal {
		return order.Item{}, fmt.Errorf("order %s item %s: vat amount %d: %w", r.OrderID, r.ProductID, r.VATAmount, ErrCorrupt)
	}
	snapshot := fiscal.RestoreLine(fiscal.LineRecord{
		Name: r.Name, UnitPrice: price, LineTotal: line, Quantity: r.Quantity,
		IKPUCode: r.IKPUCode.String, PackageCode: r.PackageCode.String, UnitCode: int(r.UnitCode.Int64),
		VATPercent: r.VATPercent, VATAmount: vat,
		Seller: fiscal.Principal{TIN: r.SellerTIN.String, PINFL: r.SellerPINFL.String},
	})
	return order.Item{ProductID: r.ProductID, Name: r.Name, UnitPrice: price, Quantity: r.Quantity, Fiscal: snapshot}, nil
}

// toDomain rebuilds the order from its row and item rows, re-checking what
// the domain relies on: a known status, one currency, a positive total that
// is the sum of the lines.
func (r orderRow) toDomain(itemRows []orderItemRow) (*order.Order, error) {
	status, err := order.ParseStatus(r.Status)
	if err != nil {
		return nil, fmt.Errorf("order %s: status %q: %w", r.ID, r.Status, ErrCorrupt)
	}
	if r.Currency != money.Currency {
		return nil, fmt.Errorf("order %s: currency %q: %w", r.ID, r.Currency, ErrCorrupt)
	}
	total, err := money.FromTiyin(r.Total)
	if err != nil || total.IsZero() {
		return nil, fmt.Errorf("order %s: total %d: %w", r.ID, r.Total, ErrCorrupt)
	}
	if len(itemRows) == 0 {
		return nil, fmt.Errorf("order %s: no items: %w", r.ID, ErrCorrupt)
	}
	items := make([]order.Item, 0, len(itemRows))
	var sum money.Money
	for _, ir := range itemRows {
		it, err := ir.toDomain()
		if err != nil {
			return nil, err
		}
		if sum, err = sum.Add(it.LineTotal()); err != nil {
			return nil, fmt.Errorf("order %s: items overflow: %w", r.ID, ErrCorrupt)
		}
		items = append(items, it)
	}
	if !sum.Equal(total) {
		return nil, fmt.Errorf("order %s: total %d, items sum to %d: %w", r.ID, r.Total, sum.Tiyin(), ErrCorrupt)
	}
	addr := order.Address{Region: r.ShippingRegion, City: r.ShippingCity, Street: r.ShippingStreet, Phone: r.ShippingPhone}
	return order.Restore(r.ID, r.UserID, status, items, total, addr, r.Note,
		r.CreatedAt.UTC(), r.UpdatedAt.UTC(), fromNull(r.PaidAt), fromNull(r.ShippedAt),
		fromNull(r.DeliveredAt), fromNull(r.CancelledAt), fromNull(r.RefundedAt)).
		RestoreRefundAuthorization(fromNull(r.RefundAuthorizedAt)), nil
}

// Create inserts the order and its items in one statement, so they are
// stored together even outside a transaction (the deferred
// orders_total_matches_items check sees both).
func (r *OrderRepo) Create(ctx context.Context, o *order.Order) error {
	items := o.Items()
	productIDs := make([]string, len(items))
	names := make([]string, len(items))
	prices := make([]int64, len(items))
	quantities := make([]int64, len(items))
	lineTotals := make([]int64, len(items))
	var f fiscalColumns
	for i, it := range items {
		productIDs[i], names[i] = it.ProductID, it.Name
		prices[i], quantities[i], lineTotals[i] = it.UnitPrice.Tiyin(), it.Quantity, it.LineTotal().Tiyin()
		f.add(it.Fiscal)
	}
	a := o.Address()
	_, err := ext(ctx, r.db).ExecContext(ctx, `WITH o AS (
			INSERT INTO orders (`+orderColumns+`)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $30)
			RETURNING id
		)
		INSERT INTO order_items (order_id, product_id, position, name, unit_price, quantity, line_total,
			ikpu_code, package_code, unit_code, vat_percent, vat_amount, seller_tin, seller_pinfl)
		SELECT o.id, i.product_id, i.ord - 1, i.name, i.unit_price, i.quantity, i.line_total,
			NULLIF(i.ikpu_code, ''), NULLIF(i.package_code, ''), NULLIF(i.unit_code, 0), i.vat_percent,
			i.vat_amount, NULLIF(i.seller_tin, ''), NULLIF(i.seller_pinfl, '')
		FROM o, unnest($18::uuid[], $19::text[], $20::bigint[], $21::bigint[], $22::bigint[],
				$23::text[], $24::text[], $25::int[], $26::int[], $27::bigint[], $28::text[], $29::text[])
			WITH ORDINALITY AS i (product_id, name, unit_price, quantity, line_total,
				ikpu_code, package_code, unit_code, vat_percent, vat_amount, seller_tin, seller_pinfl, ord)`,
		o.ID(), o.UserID(), string(o.Status()), o.Total().Tiyin(), money.Currency,
		a.Region, a.City, a.Street, a.Phone, o.Note(),
		dbTime(o.CreatedAt()), dbTime(o.UpdatedAt()), nullTime(o.PaidAt()), nullTime(o.ShippedAt()),
		nullTime(o.DeliveredAt()), nullTime(o.CancelledAt()), nullTime(o.RefundedAt()),
		pq.StringArray(productIDs), pq.StringArray(names), pq.Int64Array(prices), pq.Int64Array(quantities),
		pq.Int64Array(lineTotals), pq.StringArray(f.ikpu), pq.StringArray(f.pkg), pq.Int64Array(f.unit),
		pq.Int64Array(f.vatPercent), pq.Int64Array(f.vatAmount), pq.StringArray(f.tin), pq.StringArray(f.pinfl),
		nullTime(o.RefundAuthorizedAt()))
	if err != nil {
		return fmt.Errorf("insert order %s: %w", o.ID(), mapError(err))
	}
	return nil
}

// fiscalColumns are the fiscal snapshots of an order's items as the
// parallel arrays Create unnests ("" and 0 for what is not set).
type fiscalColumns struct {
	ikpu, pkg, tin, pinfl       []string
	unit, vatPercent, vatAmount []int64
}

func (f *fiscalColumns) add(l fiscal.Line) {
	f.ikpu = append(f.ikpu, l.IKPUCode())
	f.pkg = append(f.pkg, l.PackageCode())
	f.unit = append(f.unit, int64(l.UnitCode()))
	f.vatPercent = append(f.vatPercent, int64(l.VATPercent()))
	f.vatAmount = append(f.vatAmount, l.VATAmount().Tiyin())
	f.tin = append(f.tin, l.Seller().TIN)
	f.pinfl = append(f.pinfl, l.Seller().PINFL)
}

// Update saves the status, its timestamps and the refund authorization;
// items and amounts never change.
func (r *OrderRepo) Update(ctx context.Context, o *order.Order) error {
	if !validID(o.ID()) {
		return fmt.Errorf("update order %s: %w", o.ID(), order.ErrNotFound)
	}
	res, err := ext(ctx, r.db).ExecContext(ctx, `UPDATE orders
		SET status = $2, updated_at = $3, paid_at = $4, shipped_at = $5, delivered_at = $6,
			cancelled_at = $7, refunded_at = $8, refund_authorized_at = $9
		WHERE id = $1`,
		o.ID(), string(o.Status()), dbTime(o.UpdatedAt()), nullTime(o.PaidAt()), nullTime(o.ShippedAt()),
		nullTime(o.DeliveredAt()), nullTime(o.CancelledAt()), nullTime(o.RefundedAt()), nullTime(o.RefundAuthorizedAt()))
	if err != nil {
		return fmt.Errorf("update order %s: %w", o.ID(), mapError(err))
	}
	return mustAffect(res, fmt.Sprintf("update order %s", o.ID()), order.ErrNotFound)
}

// Get returns the order with its items, or order.ErrNotFound.
func (r *OrderRepo) Get(ctx context.Context, id string) (*order.Order, error) {
	return r.get(ctx, id, "")
}

// GetForUpdate is Get that also locks the order row until the transaction in
// ctx ends (items are immutable and need no lock).
func (r *OrderRepo) GetForUpdate(ctx context.Context, id string) (*order.Order, error) {
	return r.get(ctx, id, " FOR UPDATE")
}

func (r *OrderRepo) get(ctx context.Context, id, suffix string) (*order.Order, error) {
	if !validID(id) {
		return nil, fmt.Errorf("select order %s: %w", id, order.ErrNotFound)
	}
	o, err := getOrder(ctx, ext(ctx, r.db), orderWithItemsQuery+suffix, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select order %s: %w", id, order.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select order %s: %w", id, err)
	}
	return o, nil
}

// getOrder runs query, an orderWithItemsSelect, and builds the one order it
// returns with its items and receipts; no row is sql.ErrNoRows, for the
// caller to name.
func getOrder(ctx context.Context, q sqlx.QueryerContext, query string, args ...any) (*order.Order, error) {
	var row orderWithItemsRow
	if err := sqlx.GetContext(ctx, q, &row, query, args...); err != nil {
		if errors.Is(err, sql.ErrNoRows) {
			return nil, err
		}
		return nil, mapError(err)
	}
	var decoded []orderItemJSON
	if err := json.Unmarshal(row.Items, &decoded); err != nil {
		return nil, fmt.Errorf("decode the items of order %s: %w", row.ID, err)
	}
	items := make([]orderItemRow, len(decoded))
	for i, it := range decoded {
		items[i] = it.row()
	}
	o, err := row.toDomain(items)
	if err != nil {
		return nil, err
	}
	var receiptsJSON []orderReceiptJSON
	if err := json.Unmarshal(row.Receipts, &receiptsJSON); err != nil {
		return nil, fmt.Errorf("decode the receipts of order %s: %w", row.ID, err)
	}
	var receipts []fiscal.Receipt
	for _, j := range receiptsJSON {
		rc, err := j.row(row.ID).toDomain()
		if err != nil {
			return nil, err
		}
		receipts = append(receipts, rc)
	}
	return o.WithReceipts(receipts), nil
}

// List returns one page of orders, newest first, and how many match in total.
func (r *OrderRepo) List(ctx context.Context, f ports.OrderFilter) ([]*order.Order, int, error) {
	var l listQuery
	if f.UserID != "" {
		if !validID(f.UserID) {
			return []*order.Order{}, 0, nil // no order belongs to a user that cannot exist
		}
		l.where("user_id = " + l.arg(f.UserID))
	}
	if f.Status != "" {
		l.where("status = " + l.arg(string(f.Status)))
	}
	q := ext(ctx, r.db)
	var rows []orderRow
	total, err := l.page(ctx, q, "orders", orderColumns, f.Page, f.PageSize, &rows)
	if err != nil {
		return nil, 0, err
	}
	orders, err := r.withItems(ctx, q, rows)
	if err != nil {
		return nil, 0, err
	}
	return orders, total, nil
}

// LockOverdue locks up to limit pending_payment orders created before cutoff,
// oldest first, skipping rows another transaction holds. It must run in a
// transaction (ErrNoTx otherwise): the locks are what keep two sweepers apart.
func (r *OrderRepo) LockOverdue(ctx context.Context, cutoff time.Time, after ports.OverdueCursor, limit int) ([]*order.Order, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock overdue orders: %w", ErrNoTx)
	}
	if limit <= 0 {
		return []*order.Order{}, nil
	}
	// A zero cursor starts at the beginning; ids are compared as UUIDs, the
	// order of the primary key.
	var afterTime sql.NullTime
	var afterID sql.NullString
	if !after.CreatedAt.IsZero() {
		if !validID(after.ID) {
			return nil, fmt.Errorf("lock overdue orders after %q: %w", after.ID, domain.Invalid("id", domain.MsgUUID))
		}
		afterTime = sql.NullTime{Time: dbTime(after.CreatedAt), Valid: true}
		afterID = sql.NullString{String: after.ID, Valid: true}
	}
	q := ext(ctx, r.db)
	var rows []orderRow
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT `+orderColumns+` FROM orders
		WHERE status = 'pending_payment' AND created_at < $1
		  AND ($2::timestamptz IS NULL OR (created_at, id) > ($2::timestamptz, $3::uuid))
		ORDER BY created_at, id
		LIMIT $4
		FOR UPDATE SKIP LOCKED`, dbTime(cutoff), afterTime, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("lock overdue orders before %s: %w", cutoff.UTC().Format(time.RFC3339), mapError(err))
	}
	return r.withItems(ctx, q, rows)
}

// withItems loads the items of all rows in one query and builds the orders,
// keeping the order of rows.
func (r *OrderRepo) withItems(ctx context.Context, q sqlx.ExtContext, rows []orderRow) ([]*order.Order, error) {
	out := make([]*order.Order, 0, len(rows))
	if len(rows) == 0 {
		return out, nil
	}
	ids := make([]string, len(rows))
	for i, row := range rows {
		ids[i] = row.ID
	}
	var itemRows []orderItemRow
	err := sqlx.SelectContext(ctx, q, &itemRows, `SELECT `+orderItemColumns+`
		FROM order_items WHERE order_id = ANY($1::uuid[])
		ORDER BY order_id, position, product_id`, pq.StringArray(ids))
	if err != nil {
		return nil, fmt.Errorf("select items of %d orders: %w", len(ids), mapError(err))
	}
	byOrder := make(map[string][]orderItemRow, len(rows))
	for _, ir := range itemRows {
		byOrder[ir.OrderID] = append(byOrder[ir.OrderID], ir)
	}
	receipts, err := receiptsOf(ctx, q, ids)
	if err != nil {
		return nil, err
	}
	for _, row := range rows {
		o, err := row.toDomain(byOrder[row.ID])
		if err != nil {
			return nil, err
		}
		out = append(out, o.WithReceipts(receipts[row.ID]))
	}
	return out, nil
}
