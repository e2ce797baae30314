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
	"github.com/lib/pq/pqerror"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymeRepo implements ports.PaymeRepository and ports.FiscalStore on the
// payme_transactions table; the ports' comments are the contract. Locking
// reads are SELECT … FOR UPDATE and return ErrNoTx outside a transaction.
type PaymeRepo struct {
	db *sqlx.DB
}

var (
	_ ports.PaymeRepository = (*PaymeRepo)(nil)
	_ ports.FiscalStore     = (*PaymeRepo)(nil)
)

// NewPaymeRepo returns a PaymeRepo on db.
func NewPaymeRepo(db *sqlx.DB) *PaymeRepo { return &PaymeRepo{db: db} }

const paymeColumns = `id, payme_id, payme_time, order_id, account, amount, state, reason,
	create_time, perform_time, cancel_time`

type paymeRow struct {
	ID          string        `db:"id"`
	PaymeID     string        `db:"payme_id"`
	PaymeTime   int64         `db:"payme_time"`
	OrderID     string        `db:"order_id"`
	Account     []byte        `db:"account"`
	Amount      int64         `db:"amount"`
	State       int16         `db:"state"`
	Reason      sql.NullInt16 `db:"reason"`
	CreateTime  int64         `db:"create_time"`
	PerformTime int64         `db:"perform_time"`
	CancelTime  int64         `db:"cancel_time"`
}

func (r paymeRow) toDomain() (*payment.PaymeTransaction, error) {
	state := payment.PaymeState(r.State)
	switch state {
	case payment.PaymeCreated, payment.PaymePerformed, payment.PaymeCancelled, payment.PaymeCancelledAfterPerform:
	default:
		return nil, fmt.Errorf("payme transaction %s: state %d: %w", r.ID, r.State, ErrCorrupt)
	}
	var reason *payment.Reason
	if r.Reason.Valid {
		rs, err := payment.ParseReason(int(r.Reason.Int16))
		if err != nil {
			return nil, fmt.Errorf("payme transaction %s: reason %d: %w", r.ID, r.Reason.Int16, ErrCorrupt)
		}
		reason = &rs
	}
	amount, err := money.FromTiyin(r.Amount)
	if err != nil || amount.IsZero() {
		return nil, fmt.Errorf("payme transaction %s: amount %d: %w", r.ID, r.Amount, ErrCorrupt)
	}
	account := map[string]string{}
	if len(r.Account) > 0 {
		if err := json.Unmarshal(r.Account, &account); err != nil {
			//nolint:errorlint // the category is ErrCorrupt; the JSON error is detail for the log, not something to match
			return nil, fmt.Errorf("payme transaction %s: account: %w (%v)", r.ID, ErrCorrupt, err)
		}
	}
	if r.PaymeTime <= 0 || r.CreateTime <= 0 || r.PerformTime < 0 || r.CancelTime < 0 {
		return nil, fmt.Errorf("payme transaction %s: times: %w", r.ID, ErrCorrupt)
	}
	return payment.RestorePaymeTransaction(r.ID, r.PaymeID, r.OrderID, r.PaymeTime, amount, account,
		state, reason, r.CreateTime, r.PerformTime, r.CancelTime), nil
}

func reasonValue(r *payment.Reason) sql.NullInt16 {
	if r == nil {
		return sql.NullInt16{}
	}
	return sql.NullInt16{Int16: int16(*r), Valid: true} //nolint:gosec // G115: a Reason is one of Payme's codes 1..10 (payment.ParseReason)
}

// Insert relies on payme_one_live_tx_per_order, the payme_id key and the
// order foreign key (mapError names their domain errors).
func (r *PaymeRepo) Insert(ctx context.Context, t *payment.PaymeTransaction) error {
	account, err := json.Marshal(nonNilMap(t.Account()))
	if err != nil {
		return fmt.Errorf("insert payme transaction %s: account: %w", t.PaymeID(), err)
	}
	// account goes as a string: a []byte argument travels in binary (see
	// Open), and jsonb's binary form is not JSON text.
	_, err = ext(ctx, r.db).ExecContext(ctx, `INSERT INTO payme_transactions (`+paymeColumns+`)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)`,
		t.ID(), t.PaymeID(), t.PaymeTime(), t.OrderID(), string(account), t.Amount().Tiyin(), int16(t.State()), //nolint:gosec // G115: PaymeState is -2..2
		reasonValue(t.Reason()), t.CreateTime(), t.PerformTime(), t.CancelTime())
	if err != nil {
		return fmt.Errorf("insert payme transaction %s for order %s: %w", t.PaymeID(), t.OrderID(), mapError(err))
	}
	return nil
}

func (r *PaymeRepo) Update(ctx context.Context, t *payment.PaymeTransaction) error {
	if !validID(t.ID()) {
		return fmt.Errorf("update payme transaction %s: %w", t.ID(), payment.ErrNotFound)
	}
	res, err := ext(ctx, r.db).ExecContext(ctx, `UPDATE payme_transactions
		SET state = $2, reason = $3, perform_time = $4, cancel_time = $5
		WHERE id = $1`,
		t.ID(), int16(t.State()), reasonValue(t.Reason()), t.PerformTime(), t.CancelTime()) //nolint:gosec // G115: PaymeState is -2..2
	if err != nil {
		return fmt.Errorf("update payme transaction %s: %w", t.ID(), mapError(err))
	}
	return mustAffect(res, fmt.Sprintf("update payme transaction %s", t.ID()), payment.ErrNotFound)
}

func (r *PaymeRepo) GetByPaymeID(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error) {
	return r.get(ctx, paymeID, "")
}

func (r *PaymeRepo) GetByPaymeIDForUpdate(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock payme transaction %s: %w", paymeID, ErrNoTx)
	}
	return r.get(ctx, paymeID, " FOR UPDATE")
}

// LockOrderOf finds the order through the transaction's row without locking
// that row, so the lock order stays order, then transaction. The transaction's
// order_id never changes, so the order found is the transaction's for good.
func (r *PaymeRepo) LockOrderOf(ctx context.Context, paymeID string) (*order.Order, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock the order of payme transaction %s: %w", paymeID, ErrNoTx)
	}
	o, err := getOrder(ctx, ext(ctx, r.db), orderWithItemsSelect+`
		WHERE id = (SELECT p.order_id FROM payme_transactions p WHERE p.payme_id = $1)
		FOR UPDATE OF orders`, paymeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("lock the order of payme transaction %s: %w", paymeID, payment.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("lock the order of payme transaction %s: %w", paymeID, err)
	}
	return o, nil
}

func (r *PaymeRepo) get(ctx context.Context, paymeID, suffix string) (*payment.PaymeTransaction, error) {
	var row paymeRow
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &row,
		`SELECT `+paymeColumns+` FROM payme_transactions WHERE payme_id = $1`+suffix, paymeID)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select payme transaction %s: %w", paymeID, payment.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select payme transaction %s: %w", paymeID, mapError(err))
	}
	return row.toDomain()
}

// ListHoldersForUpdate selects the rows payme_one_live_tx_per_order counts.
func (r *PaymeRepo) ListHoldersForUpdate(ctx context.Context, orderID string) ([]*payment.PaymeTransaction, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock payme transactions holding order %s: %w", orderID, ErrNoTx)
	}
	if !validID(orderID) {
		return []*payment.PaymeTransaction{}, nil
	}
	return r.list(ctx, fmt.Sprintf("payme transactions holding order %s", orderID),
		`WHERE order_id = $1 AND state IN (1, 2) ORDER BY payme_time, id FOR UPDATE`, orderID)
}

func (r *PaymeRepo) ListByOrder(ctx context.Context, orderID string) ([]*payment.PaymeTransaction, error) {
	if !validID(orderID) {
		return []*payment.PaymeTransaction{}, nil
	}
	return r.list(ctx, fmt.Sprintf("payme transactions of order %s", orderID),
		`WHERE order_id = $1 ORDER BY payme_time, id`, orderID)
}

func (r *PaymeRepo) ListByPaymeTime(ctx context.Context, from, to int64) ([]*payment.PaymeTransaction, error) {
	return r.list(ctx, fmt.Sprintf("payme transactions from %d to %d", from, to),
		`WHERE payme_time BETWEEN $1 AND $2 ORDER BY payme_time, id`, from, to)
}

// LockTimedOut and HasLive select by payment.PaymeLiveSince, the domain's
// bound: timed out is state 1 with a Payme time before it, live is state 1
// with one at or after it.
func (r *PaymeRepo) LockTimedOut(ctx context.Context, now time.Time, limit int) ([]*payment.PaymeTransaction, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock timed-out payme transactions: %w", ErrNoTx)
	}
	if limit <= 0 {
		return []*payment.PaymeTransaction{}, nil
	}
	since := payment.PaymeLiveSince(now)
	return r.list(ctx, fmt.Sprintf("payme transactions timed out before %d", since),
		`WHERE state = 1 AND payme_time < $1 ORDER BY payme_time, id LIMIT $2 FOR UPDATE SKIP LOCKED`,
		since, limit)
}

func (r *PaymeRepo) HasLive(ctx context.Context, orderID string, now time.Time) (bool, error) {
	if !validID(orderID) {
		return false, nil
	}
	var live bool
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &live, `SELECT EXISTS (
		SELECT 1 FROM payme_transactions WHERE order_id = $1 AND state = 1 AND payme_time >= $2)`,
		orderID, payment.PaymeLiveSince(now))
	if err != nil {
		return false, fmt.Errorf("check live payme transaction of order %s: %w", orderID, mapError(err))
	}
	return live, nil
}

// SaveFiscalData keeps each kind's JSON in its own column of the
// transaction (fiscal_perform, fiscal_cancel) and the receipt in
// fiscal_receipts, in one statement. A replay of the same JSON leaves the
// receipt row as it was (updated_at included).
func (r *PaymeRepo) SaveFiscalData(ctx context.Context, paymeID string, d ports.PaymeFiscalData) error {
	var column string
	switch d.Kind {
	case ports.FiscalPerform:
		column = "fiscal_perform"
	case ports.FiscalCancel:
		column = "fiscal_cancel"
	default:
		return fmt.Errorf("save payme fiscal data %s: %w", paymeID, domain.Invalid("type", domain.MsgEither, domain.Args{"Values": "PERFORM", "Last": "CANCEL"}))
	}
	var obj map[string]json.RawMessage
	if err := json.Unmarshal(d.Raw, &obj); err != nil || obj == nil {
		return fmt.Errorf("save payme fiscal data %s: %w", paymeID, domain.Invalid("fiscal_data", domain.MsgJSONObject))
	}
	rc := d.Receipt
	var statusCode sql.NullInt64
	if d.StatusCode >= 0 {
		statusCode = sql.NullInt64{Int64: int64(d.StatusCode), Valid: true}
	}
	// column is one of two constants above, never input.
	var found int
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &found, `WITH t AS (
			UPDATE payme_transactions SET `+column+` = $2::jsonb WHERE payme_id = $1 RETURNING order_id
		), receipt AS (
			INSERT INTO fiscal_receipts (order_id, provider, kind, status, provider_ref, receipt_id, status_code,
				message, terminal_id, fiscal_sign, qr_code_url, issued_at, raw, created_at, updated_at)
			SELECT t.order_id, 'payme', $3, $4, $1, NULLIF($5, ''), $6, NULLIF($7, ''), NULLIF($8, ''),
				NULLIF($9, ''), NULLIF($10, ''), $11, $2::jsonb, now(), now()
			FROM t
			ON CONFLICT (provider, provider_ref, kind) DO UPDATE SET
				status = EXCLUDED.status, receipt_id = EXCLUDED.receipt_id, status_code = EXCLUDED.status_code,
				message = EXCLUDED.message, terminal_id = EXCLUDED.terminal_id, fiscal_sign = EXCLUDED.fiscal_sign,
				qr_code_url = EXCLUDED.qr_code_url, issued_at = EXCLUDED.issued_at, raw = EXCLUDED.raw,
				updated_at = EXCLUDED.updated_at
			WHERE fiscal_receipts.raw IS DISTINCT FROM EXCLUDED.raw
		)
		SELECT count(*) FROM t`,
		paymeID, string(d.Raw), string(rc.Kind()), string(rc.Status()), d.ReceiptID, statusCode, d.Message,
		rc.TerminalID(), rc.FiscalSign(), rc.QRCodeURL(), nullTime(rc.IssuedAt()))
	if pq.As(err, pqerror.UntranslatableCharacter) != nil {
		// JSONB cannot hold \u0000; a receipt with one is invalid input, not an outage.
		return fmt.Errorf("save payme fiscal data %s %s: %w (%w)", d.Kind, paymeID,
			domain.Invalid("fiscal_data", domain.MsgNoNUL), err)
	}
	if err != nil {
		return fmt.Errorf("save payme fiscal data %s %s: %w", d.Kind, paymeID, mapError(err))
	}
	if found == 0 {
		return fmt.Errorf("save payme fiscal data %s %s: %w", d.Kind, paymeID, payment.ErrNotFound)
	}
	return nil
}

func (r *PaymeRepo) list(ctx context.Context, what, tail string, args ...any) ([]*payment.PaymeTransaction, error) {
	var rows []paymeRow
	if err := sqlx.SelectContext(ctx, ext(ctx, r.db), &rows,
		`SELECT `+paymeColumns+` FROM payme_transactions `+tail, args...); err != nil {
		return nil, fmt.Errorf("select %s: %w", what, mapError(err))
	}
	out := make([]*payment.PaymeTransaction, 0, len(rows))
	for _, row := range rows {
		t, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}

func nonNilMap(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}
