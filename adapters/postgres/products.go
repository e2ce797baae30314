package postgres

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ProductStore is the built-in product catalog (ports.Catalog) in Postgres,
// used when no CATALOG_URL is configured. It applies the visibility the use case asks for
// in ProductQuery and never decides it: the Actor is not looked at.
//
// Deleted products are kept (deleted_at) because order items and reservations
// point at them; no method but Release ever touches one again.
type ProductStore struct {
	db    *sqlx.DB
	ids   ports.IDGenerator
	clock ports.Clock
	tx    *TxManager
}

var _ ports.Catalog = (*ProductStore)(nil)

// NewProductStore returns the built-in catalog on db.
func NewProductStore(db *sqlx.DB, ids ports.IDGenerator, clock ports.Clock) *ProductStore {
	return &ProductStore{db: db, ids: ids, clock: clock, tx: NewTxManager(db)}
}

const productColumns = `id, seller_id, name, description, category, price, stock, active, created_at, updated_at,
	ikpu_code, package_code, unit_code, vat_percent`

type productRow struct {
	ID          string    `db:"id"`
	SellerID    string    `db:"seller_id"`
	Name        string    `db:"name"`
	Description string    `db:"description"`
	Category    string    `db:"category"`
	Price       int64     `db:"price"`
	Stock       int64     `db:"stock"`
	Active      bool      `db:"active"`
	CreatedAt   time.Time `db:"created_at"`
	UpdatedAt   time.Time `db:"updated_at"`

	IKPUCode    sql.NullString `db:"ikpu_code"`
	PackageCode sql.NullString `db:"package_code"`
	UnitCode    sql.NullInt64  `db:"unit_code"`
	VATPercent  int            `db:"vat_percent"`
}

func (r productRow) toDomain() (*product.Product, error) {
	price, err := money.FromTiyin(r.Price)
	if err != nil || r.Price < 1 {
		return nil, fmt.Errorf("product %s: price %d: %w", r.ID, r.Price, ErrCorrupt)
	}
	if r.Stock < 0 {
		return nil, fmt.Errorf("product %s: stock %d: %w", r.ID, r.Stock, ErrCorrupt)
	}
	id, err := fiscal.NewIdentity(fiscal.IdentityDraft{IKPUCode: nullStringPtr(r.IKPUCode),
		PackageCode: nullStringPtr(r.PackageCode), UnitCode: nullInt64Ptr(r.UnitCode), VATPercent: &r.VATPercent})
	if err != nil {
		return nil, fmt.Errorf("product %s: fiscal identity: %w (%w)", r.ID, ErrCorrupt, err)
	}
	return product.Restore(r.ID, r.Name, r.Description, r.Category, r.SellerID, price, r.Stock, r.Active,
		r.CreatedAt.UTC(), r.UpdatedAt.UTC()).WithFiscal(id), nil
}

// fiscalArgs are a product's fiscal columns as statement arguments (NULL
// for what is not set).
func fiscalArgs(id fiscal.Identity) []any {
	return []any{nullString(id.IKPUCode()), nullString(id.PackageCode()),
		sql.NullInt64{Int64: int64(id.UnitCode()), Valid: id.UnitCode() != 0}, id.VATPercent()}
}

func nullStringPtr(s sql.NullString) *string {
	if !s.Valid {
		return nil
	}
	return &s.String
}

func nullInt64Ptr(n sql.NullInt64) *int64 {
	if !n.Valid {
		return nil
	}
	return &n.Int64
}

func productsOf(rows []productRow) ([]*product.Product, error) {
	out := make([]*product.Product, 0, len(rows))
	for _, row := range rows {
		p, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// List returns one page of non-deleted products, newest first, and how many
// match in total. Inactive products are left out unless q.IncludeInactive
// (everyone's) or q.InactiveOfSeller (that seller's) lets them in.
func (c *ProductStore) List(ctx context.Context, q ports.ProductQuery, _ user.Actor) (ports.ProductPage, error) {
	var l listQuery
	l.where("deleted_at IS NULL")
	if s := strings.TrimSpace(q.Q); s != "" {
		p := l.arg(likePattern(s))
		l.where("(name ILIKE " + p + " OR description ILIKE " + p + ")")
	}
	if cat := strings.TrimSpace(q.Category); cat != "" {
		l.where("lower(category) = lower(" + l.arg(cat) + ")")
	}
	if q.SellerID != "" {
		if !validID(q.SellerID) {
			// No product can have it; the uuid cast would fail in SQL.
			return ports.ProductPage{Items: []*product.Product{}}, nil
		}
		l.where("seller_id = " + l.arg(q.SellerID))
	}
	switch {
	case q.IncludeInactive:
	case validID(q.InactiveOfSeller):
		l.where("(active OR seller_id = " + l.arg(q.InactiveOfSeller) + ")")
	default:
		l.where("active")
	}
	var rows []productRow
	total, err := l.page(ctx, ext(ctx, c.db), "products", productColumns, q.Page, q.PageSize, &rows)
	if err != nil {
		return ports.ProductPage{}, err
	}
	items, err := productsOf(rows)
	if err != nil {
		return ports.ProductPage{}, err
	}
	return ports.ProductPage{Items: items, Total: total}, nil
}

// Get returns a non-deleted product, active or not (the use case decides who
// may see an inactive one); anything else is product.ErrNotFound.
func (c *ProductStore) Get(ctx context.Context, id string, _ user.Actor) (*product.Product, error) {
	return c.get(ctx, ext(ctx, c.db), id, "")
}

func (c *ProductStore) get(ctx context.Context, db sqlx.ExtContext, id, suffix string) (*product.Product, error) {
	if !validID(id) {
		return nil, fmt.Errorf("select product %s: %w", id, product.ErrNotFound)
	}
	var row productRow
	err := sqlx.GetContext(ctx, db, &row,
		`SELECT `+productColumns+` FROM products WHERE id = $1 AND deleted_at IS NULL`+suffix, id)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select product %s: %w", id, product.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select product %s: %w", id, mapError(err))
	}
	return row.toDomain()
}

// Create validates d through the domain and stores a new product. The draft's
// seller must be a UUID: the built-in catalog keys products by seller.
func (c *ProductStore) Create(ctx context.Context, d product.Draft, _ user.Actor) (*product.Product, error) {
	p, err := product.New(c.ids.NewID(), d, c.clock.Now())
	if err = withSellerCheck(err, d.SellerID); err != nil {
		return nil, err
	}
	var row productRow
	err = sqlx.GetContext(ctx, ext(ctx, c.db), &row, `INSERT INTO products (`+productColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14)
		RETURNING `+productColumns,
		append([]any{p.ID(), p.SellerID(), p.Name(), p.Description(), p.Category(), p.Price().Tiyin(), p.Stock(),
			p.Active(), dbTime(p.CreatedAt()), dbTime(p.UpdatedAt())}, fiscalArgs(p.Fiscal())...)...)
	if err != nil {
		return nil, fmt.Errorf("insert product %s: %w", p.ID(), mapError(err))
	}
	// What was stored (times cut to microseconds), so Create and a later Get agree.
	return row.toDomain()
}

// withSellerCheck adds a seller_id field error to the domain's validation
// result, so a client learns about every bad field at once.
func withSellerCheck(err error, sellerID string) error {
	if validID(sellerID) {
		return err
	}
	const msg = domain.MsgUUID
	var verr *domain.ValidationError
	if errors.As(err, &verr) {
		verr.Add("seller_id", msg)
		return err
	}
	if err != nil {
		return err
	}
	return domain.Invalid("seller_id", msg)
}

// Replace overwrites the editable fields of a non-deleted product through the
// domain (the seller never changes). Unknown or deleted: product.ErrNotFound;
// a bad draft: the domain's validation error.
func (c *ProductStore) Replace(ctx context.Context, id string, d product.Draft, _ user.Actor) (*product.Product, error) {
	var out *product.Product
	err := c.tx.WithinTx(ctx, func(ctx context.Context) error {
		db := ext(ctx, c.db)
		p, err := c.get(ctx, db, id, " FOR UPDATE")
		if err != nil {
			return err
		}
		if err := p.Replace(d, c.clock.Now()); err != nil {
			return err
		}
		var row productRow
		err = sqlx.GetContext(ctx, db, &row, `UPDATE products
			SET name = $2, description = $3, category = $4, price = $5, stock = $6, active = $7, updated_at = $8,
				ikpu_code = $9, package_code = $10, unit_code = $11, vat_percent = $12
			WHERE id = $1
			RETURNING `+productColumns,
			append([]any{p.ID(), p.Name(), p.Description(), p.Category(), p.Price().Tiyin(), p.Stock(), p.Active(),
				dbTime(p.UpdatedAt())}, fiscalArgs(p.Fiscal())...)...)
		if err != nil {
			return fmt.Errorf("update product %s: %w", id, mapError(err))
		}
		out, err = row.toDomain()
		return err
	})
	if err != nil {
		return nil, err
	}
	return out, nil
}

// Delete hides the product for good (soft delete); an unknown or already
// deleted product is product.ErrNotFound.
func (c *ProductStore) Delete(ctx context.Context, id string, _ user.Actor) error {
	if !validID(id) {
		return fmt.Errorf("delete product %s: %w", id, product.ErrNotFound)
	}
	now := dbTime(c.clock.Now())
	res, err := ext(ctx, c.db).ExecContext(ctx, `UPDATE products SET deleted_at = $2, updated_at = $2
		WHERE id = $1 AND deleted_at IS NULL`, id, now)
	if err != nil {
		return fmt.Errorf("delete product %s: %w", id, mapError(err))
	}
	return mustAffect(res, fmt.Sprintf("delete product %s", id), product.ErrNotFound)
}

// Lookup returns the non-deleted products among ids, active or not, in one
// query. Ids that are not UUIDs cannot exist and are skipped.
func (c *ProductStore) Lookup(ctx context.Context, ids []string, _ user.Actor) ([]*product.Product, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if validID(id) {
			valid = append(valid, id)
		}
	}
	if len(valid) == 0 {
		return []*product.Product{}, nil
	}
	var rows []productRow
	err := sqlx.SelectContext(ctx, ext(ctx, c.db), &rows, `SELECT `+productColumns+` FROM products
		WHERE id = ANY($1::uuid[]) AND deleted_at IS NULL`, pq.StringArray(valid))
	if err != nil {
		return nil, fmt.Errorf("look up %d products: %w", len(valid), mapError(err))
	}
	return productsOf(rows)
}

// Reserve takes the items' quantities off the products' stock and records
// them as the order's reservation, all or nothing:
//
//   - not enough stock: *product.InsufficientStockError naming the first
//     product (in id order) that ran short;
//   - a product that is unknown, deleted or not a UUID: product.ErrNotFound;
//     inactive: product.ErrInactive (422). The use case normally refused those
//     already after its Lookup; these answer the race where it changed since.
//   - an order that already holds a reservation: an error wrapping
//     domain.ErrConflict; release it first.
//   - bad input (order id not a UUID, no items, quantity < 1): a
//     *domain.ValidationError.
//
// It runs in one transaction, or inside the caller's (TxManager in ctx) under
// a savepoint, so a refusal undoes this call's changes only and leaves the
// caller's transaction usable. Products are locked in id order, by every
// Reserve and Release, so concurrent orders never deadlock.
func (c *ProductStore) Reserve(ctx context.Context, orderID string, items []ports.ReservationItem, _ user.Actor) error {
	if !validID(orderID) {
		return domain.Invalid("order_id", domain.MsgUUID)
	}
	lines, err := mergeLines(items)
	if err != nil {
		return fmt.Errorf("reserve order %s: %w", orderID, err)
	}
	err = c.atomically(ctx, func(ctx context.Context) error {
		db := ext(ctx, c.db)
		// Two concurrent first reservations of one order both pass this check;
		// the primary key still refuses the second when they share a product.
		var held bool
		err := sqlx.GetContext(ctx, db, &held, `SELECT EXISTS (SELECT 1 FROM stock_reservations WHERE order_id = $1)`, orderID)
		if err != nil {
			return fmt.Errorf("check reservation: %w", mapError(err))
		}
		if held {
			return fmt.Errorf("already holds a reservation: %w", domain.ErrConflict)
		}
		productIDs := make([]string, len(lines))
		quantities := make([]int64, len(lines))
		for i, l := range lines {
			productIDs[i], quantities[i] = l.ProductID, l.Quantity
		}
		// Three statements whatever the number of products (it was one
		// UPDATE per product): lock them all in id order, decide in Go on
		// the rows as locked, then take the stock and record the reservation
		// in one statement.
		var locked []stockRow
		err = sqlx.SelectContext(ctx, db, &locked, `SELECT id, stock, active, deleted_at IS NOT NULL AS deleted
			FROM products WHERE id = ANY($1::uuid[]) ORDER BY id FOR UPDATE`, pq.StringArray(productIDs))
		if err != nil {
			return fmt.Errorf("lock %d products: %w", len(productIDs), mapError(err))
		}
		if err := checkStock(lines, locked); err != nil {
			return err
		}
		_, err = db.ExecContext(ctx, `WITH w AS (SELECT p, q FROM unnest($2::uuid[], $3::bigint[]) AS i (p, q)),
			taken AS (UPDATE products SET stock = stock - w.q FROM w WHERE products.id = w.p)
			INSERT INTO stock_reservations (order_id, product_id, quantity, created_at) SELECT $1, p, q, $4 FROM w`,
			orderID, pq.StringArray(productIDs), pq.Int64Array(quantities), dbTime(c.clock.Now()))
		if err != nil {
			return fmt.Errorf("record reservation: %w", mapError(err))
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("reserve order %s: %w", orderID, err)
	}
	return nil
}

// mergeLines validates the items and returns one line per product (repeated
// products summed), in id order: the lock order of Reserve and Release.
func mergeLines(items []ports.ReservationItem) ([]ports.ReservationItem, error) {
	if len(items) == 0 {
		return nil, domain.Invalid("items", domain.MsgNotEmpty)
	}
	sum := make(map[string]int64, len(items))
	for i, it := range items {
		if it.Quantity < 1 || it.Quantity > product.MaxStock {
			return nil, domain.Invalid(fmt.Sprintf("items[%d].quantity", i), domain.MsgRange, domain.Args{"Min": 1, "Max": product.MaxStock})
		}
		id, ok := domain.ParseID(it.ProductID)
		if !ok {
			return nil, fmt.Errorf("product %s: %w", it.ProductID, product.ErrNotFound)
		}
		sum[id] += it.Quantity
	}
	lines := make([]ports.ReservationItem, 0, len(sum))
	for id, q := range sum {
		lines = append(lines, ports.ReservationItem{ProductID: id, Quantity: q})
	}
	// Canonical lower-case UUID strings sort like Postgres sorts uuids.
	slices.SortFunc(lines, func(a, b ports.ReservationItem) int { return cmp.Compare(a.ProductID, b.ProductID) })
	return lines, nil
}

// stockRow is a product as Reserve locked it.
type stockRow struct {
	ID      string `db:"id"`
	Stock   int64  `db:"stock"`
	Active  bool   `db:"active"`
	Deleted bool   `db:"deleted"`
}

// checkStock refuses the reservation for the first line, in id order, whose
// product is unknown or deleted (product.ErrNotFound), inactive
// (product.ErrInactive) or short of stock (*product.InsufficientStockError).
// lines and locked are both in id order.
func checkStock(lines []ports.ReservationItem, locked []stockRow) error {
	byID := make(map[string]stockRow, len(locked))
	for _, r := range locked {
		byID[r.ID] = r
	}
	for _, l := range lines {
		r, ok := byID[l.ProductID]
		switch {
		case !ok || r.Deleted:
			return fmt.Errorf("product %s: %w", l.ProductID, product.ErrNotFound)
		case !r.Active:
			return fmt.Errorf("product %s: %w", l.ProductID, product.ErrInactive)
		case r.Stock < l.Quantity:
			return &product.InsufficientStockError{ProductID: l.ProductID}
		}
	}
	return nil
}

type reservationRow struct {
	ProductID string `db:"product_id"`
	Quantity  int64  `db:"quantity"`
}

// Release gives the order's reserved quantities back to the products and
// forgets the reservation. The rows are deleted and the stock added back in
// one transaction, so a second (or concurrent) Release finds nothing and adds
// nothing. An unknown order, or an id that is not a UUID, has nothing to give
// back: nil.
func (c *ProductStore) Release(ctx context.Context, orderID string, _ user.Actor) error {
	if !validID(orderID) {
		return nil
	}
	err := c.atomically(ctx, func(ctx context.Context) error {
		db := ext(ctx, c.db)
		var lines []reservationRow
		err := sqlx.SelectContext(ctx, db, &lines,
			`DELETE FROM stock_reservations WHERE order_id = $1 RETURNING product_id, quantity`, orderID)
		if err != nil {
			return fmt.Errorf("delete reservation: %w", mapError(err))
		}
		slices.SortFunc(lines, func(a, b reservationRow) int { return cmp.Compare(a.ProductID, b.ProductID) })
		for _, l := range lines {
			// Capped: a seller may have raised the stock to the maximum while
			// the order held some; failing the release would hold it forever.
			_, err := db.ExecContext(ctx, `UPDATE products SET stock = LEAST(stock + $2, $3) WHERE id = $1`,
				l.ProductID, l.Quantity, product.MaxStock)
			if err != nil {
				return fmt.Errorf("give back stock of product %s: %w", l.ProductID, mapError(err))
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("release order %s: %w", orderID, err)
	}
	return nil
}

// ReleaseOrphans gives back the stock of reservations made before olderThan
// whose order does not exist, or was cancelled or refunded (their own release
// after commit failed), at most limit reservation lines (one product
// of one order each; limit < 1 means 100), and returns how many lines it
// released. It is the safety net of order placement: PlaceOrder reserves
// before the order's transaction and releases when that transaction fails,
// but the release can fail too (the same outage), and then nothing else
// remembers the reservation. Pass an olderThan far enough in the past that
// no placement still running can be behind it (the job uses now - 10
// minutes): a reservation younger than its order's transaction is not an
// orphan yet.
//
// One transaction locks the orphan lines with FOR UPDATE SKIP LOCKED,
// deletes them and adds their quantities back to the products (in id order,
// capped like Release), so several instances may sweep at once and each line
// is given back once: what one sweep holds the others skip. A concurrent
// Release of the same order either deleted the rows first (the sweep skips
// them) or waits for the sweep and finds them gone. Run it again while it
// returns limit to drain a backlog.
//
// It reads the orders table, which this catalog shares the database with;
// without an index on created_at it scans the reservations at each call, a
// cost that grows with them (paid orders keep theirs).
func (c *ProductStore) ReleaseOrphans(ctx context.Context, olderThan time.Time, limit int) (released int, err error) {
	if limit < 1 {
		limit = 100
	}
	err = c.tx.WithinTx(ctx, func(ctx context.Context) error {
		released = 0 // the transaction may be retried
		db := ext(ctx, c.db)
		var lines []reservationRow
		err := sqlx.SelectContext(ctx, db, &lines, `WITH orphan AS (
				SELECT r.order_id, r.product_id FROM stock_reservations r
				WHERE r.created_at < $1 AND NOT EXISTS (
					SELECT 1 FROM orders o WHERE o.id = r.order_id AND o.status NOT IN ('cancelled', 'refunded'))
				ORDER BY r.created_at, r.order_id, r.product_id
				LIMIT $2
				FOR UPDATE OF r SKIP LOCKED)
			DELETE FROM stock_reservations r USING orphan
			WHERE r.order_id = orphan.order_id AND r.product_id = orphan.product_id
			RETURNING r.product_id, r.quantity`, dbTime(olderThan), limit)
		if err != nil {
			return fmt.Errorf("delete orphan reservations: %w", mapError(err))
		}
		byProduct := make(map[string]int64, len(lines))
		for _, l := range lines {
			byProduct[l.ProductID] += l.Quantity
		}
		ids := make([]string, 0, len(byProduct))
		for id := range byProduct {
			ids = append(ids, id)
		}
		slices.Sort(ids) // the lock order of Reserve and Release
		for _, id := range ids {
			_, err := db.ExecContext(ctx, `UPDATE products SET stock = LEAST(stock + $2, $3) WHERE id = $1`,
				id, byProduct[id], product.MaxStock)
			if err != nil {
				return fmt.Errorf("give back stock of product %s: %w", id, mapError(err))
			}
		}
		released = len(lines)
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("release orphan reservations: %w", err)
	}
	return released, nil
}

// atomically runs fn so that its writes all happen or none do: in a
// transaction of its own, or, when ctx already carries one of this pool, under
// a savepoint of it, so a refusal undoes fn's writes only and the caller's
// transaction stays usable.
func (c *ProductStore) atomically(ctx context.Context, fn func(ctx context.Context) error) error {
	if !inTx(ctx, c.db) {
		return c.tx.WithinTx(ctx, fn)
	}
	db := ext(ctx, c.db)
	if _, err := db.ExecContext(ctx, `SAVEPOINT catalog_stock`); err != nil {
		return fmt.Errorf("savepoint: %w", mapError(err))
	}
	if err := fn(ctx); err != nil {
		// Without the request's cancellation: after a timeout the savepoint
		// must still be rolled back for the caller's transaction to be usable.
		if _, rerr := db.ExecContext(context.WithoutCancel(ctx), `ROLLBACK TO SAVEPOINT catalog_stock`); rerr != nil {
			return errors.Join(err, fmt.Errorf("rollback to savepoint: %w", mapError(rerr)))
		}
		return err
	}
	if _, err := db.ExecContext(ctx, `RELEASE SAVEPOINT catalog_stock`); err != nil {
		return fmt.Errorf("release savepoint: %w", mapError(err))
	}
	return nil
}
