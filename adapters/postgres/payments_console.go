package postgres

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymentConsole implements ports.PaymentConsole: both providers' attempts
// as one list, read from payme_transactions and click_transactions through
// one UNION ALL, so filters, counting and paging happen in SQL.
type PaymentConsole struct {
	db *sqlx.DB
}

var _ ports.PaymentConsole = (*PaymentConsole)(nil)

// NewPaymentConsole returns a PaymentConsole on db.
func NewPaymentConsole(db *sqlx.DB) *PaymentConsole { return &PaymentConsole{db: db} }

// paymentsUnion is every attempt in our API's terms. Payme's times are
// Unix milliseconds, 0 when unset, turned into timestamps exactly (integer
// milliseconds, no float). Both providers number their states alike (1, 2,
// -1, -2), which clientStates maps. A Click attempt's provider id is
// click_trans_id in decimal, as GET /api/payments shows it.
const paymentsUnion = `(
	SELECT id, 'payme' AS provider, payme_id AS provider_transaction_id, order_id, amount, state::int AS state,
		'epoch'::timestamptz + create_time * interval '1 millisecond' AS created_at,
		CASE WHEN perform_time > 0 THEN 'epoch'::timestamptz + perform_time * interval '1 millisecond' END AS performed_at,
		CASE WHEN cancel_time > 0 THEN 'epoch'::timestamptz + cancel_time * interval '1 millisecond' END AS cancelled_at,
		reason::int AS cancel_reason
	FROM payme_transactions
	UNION ALL
	SELECT id, 'click', click_trans_id::text, order_id, amount, state::int,
		prepared_at, confirmed_at, cancelled_at, click_error
	FROM click_transactions
) AS payments`

const paymentColumns = `id, provider, provider_transaction_id, order_id, amount, state, created_at, performed_at,
	cancelled_at, cancel_reason`

// clientStates maps our API's states to the stored numbers, shared by both
// providers (payment.PaymeState and payment.ClickState).
var clientStates = map[payment.ClientState]int{
	payment.ClientPending:   1,
	payment.ClientCompleted: 2,
	payment.ClientCancelled: -1,
	payment.ClientRefunded:  -2,
}

type paymentRecordRow struct {
	ID                    string        `db:"id"`
	Provider              string        `db:"provider"`
	ProviderTransactionID string        `db:"provider_transaction_id"`
	OrderID               string        `db:"order_id"`
	Amount                int64         `db:"amount"`
	State                 int           `db:"state"`
	CreatedAt             time.Time     `db:"created_at"`
	PerformedAt           sql.NullTime  `db:"performed_at"`
	CancelledAt           sql.NullTime  `db:"cancelled_at"`
	CancelReason          sql.NullInt32 `db:"cancel_reason"`
}

func (r paymentRecordRow) toPort() (ports.PaymentRecord, error) {
	var state payment.ClientState
	for s, n := range clientStates {
		if n == r.State {
			state = s
		}
	}
	provider := payment.Provider(r.Provider)
	if state == "" || (provider != payment.ProviderPayme && provider != payment.ProviderClick) {
		return ports.PaymentRecord{}, fmt.Errorf("%s transaction %s: state %d: %w", r.Provider, r.ID, r.State, ErrCorrupt)
	}
	amount, err := money.FromTiyin(r.Amount)
	if err != nil || amount.IsZero() {
		return ports.PaymentRecord{}, fmt.Errorf("%s transaction %s: amount %d: %w", r.Provider, r.ID, r.Amount, ErrCorrupt)
	}
	out := ports.PaymentRecord{
		ID: r.ID, Provider: provider, ProviderTransactionID: r.ProviderTransactionID, OrderID: r.OrderID,
		Amount: amount, State: state, CreatedAt: r.CreatedAt.UTC(),
		PerformedAt: fromNull(r.PerformedAt), CancelledAt: fromNull(r.CancelledAt),
	}
	if r.CancelReason.Valid {
		n := int(r.CancelReason.Int32)
		out.CancelReason = &n
	}
	return out, nil
}

// where turns the filter into conditions. An order id that cannot be one
// matches nothing rather than failing the cast.
func (c *PaymentConsole) where(f ports.PaymentFilter) listQuery {
	var l listQuery
	if f.Provider != "" {
		l.where("provider = " + l.arg(string(f.Provider)))
	}
	if f.State != "" {
		n, ok := clientStates[f.State]
		if !ok {
			n = 0 // no attempt has state 0
		}
		l.where("state = " + l.arg(n))
	}
	if f.OrderID != "" {
		if !validID(f.OrderID) {
			l.where("FALSE")
		} else {
			l.where("order_id = " + l.arg(f.OrderID) + "::uuid")
		}
	}
	if !f.From.IsZero() {
		l.where("created_at >= " + l.arg(dbTime(f.From)))
	}
	if !f.To.IsZero() {
		l.where("created_at < " + l.arg(dbTime(f.To)))
	}
	return l
}

func (c *PaymentConsole) List(ctx context.Context, f ports.PaymentFilter) ([]ports.PaymentRecord, int, error) {
	l := c.where(f)
	var rows []paymentRecordRow
	total, err := l.page(ctx, ext(ctx, c.db), paymentsUnion, paymentColumns, f.Page, f.PageSize, &rows)
	if err != nil {
		return nil, 0, err
	}
	out := make([]ports.PaymentRecord, 0, len(rows))
	for _, row := range rows {
		rec, err := row.toPort()
		if err != nil {
			return nil, 0, err
		}
		out = append(out, rec)
	}
	return out, total, nil
}

func (c *PaymentConsole) Count(ctx context.Context, f ports.PaymentFilter) (int, error) {
	l := c.where(f)
	var n int
	if err := sqlx.GetContext(ctx, ext(ctx, c.db), &n, `SELECT count(*) FROM `+paymentsUnion+l.whereSQL(), l.args...); err != nil {
		return 0, fmt.Errorf("count payments: %w", mapError(err))
	}
	return n, nil
}

// Each streams the rows: an export of many thousand attempts is never held
// in memory whole.
func (c *PaymentConsole) Each(ctx context.Context, f ports.PaymentFilter, fn func(ports.PaymentRecord) error) error {
	l := c.where(f)
	rows, err := ext(ctx, c.db).QueryxContext(ctx, `SELECT `+paymentColumns+` FROM `+paymentsUnion+l.whereSQL()+
		` ORDER BY created_at DESC, id DESC`, l.args...)
	if err != nil {
		return fmt.Errorf("select payments: %w", mapError(err))
	}
	defer rows.Close()
	for rows.Next() {
		var row paymentRecordRow
		if err := rows.StructScan(&row); err != nil {
			return fmt.Errorf("scan payment: %w", mapError(err))
		}
		rec, err := row.toPort()
		if err != nil {
			return err
		}
		if err := fn(rec); err != nil {
			return err
		}
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("select payments: %w", mapError(err))
	}
	return nil
}
