package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// ClickRepo implements ports.ClickRepository on the click_transactions table;
// the port's comments are the contract. The row's id is the attempt's UUID
// (ours, shown to clients); prepare_id, from a sequence, is Click's
// merchant_prepare_id. Locking reads are SELECT … FOR UPDATE and return ErrNoTx
// outside a transaction.
type ClickRepo struct {
	db *sqlx.DB
}

var _ ports.ClickRepository = (*ClickRepo)(nil)

// NewClickRepo returns a ClickRepo on db.
func NewClickRepo(db *sqlx.DB) *ClickRepo { return &ClickRepo{db: db} }

const clickColumns = `id, prepare_id, click_trans_id, click_paydoc_id, service_id, order_id, amount, amount_raw, state,
	click_error, prepared_at, confirmed_at, cancelled_at`

type clickRow struct {
	ID            string        `db:"id"`
	PrepareID     int64         `db:"prepare_id"`
	ClickTransID  int64         `db:"click_trans_id"`
	ClickPaydocID int64         `db:"click_paydoc_id"`
	ServiceID     int64         `db:"service_id"`
	OrderID       string        `db:"order_id"`
	Amount        int64         `db:"amount"`
	AmountRaw     string        `db:"amount_raw"`
	State         int16         `db:"state"`
	ClickError    sql.NullInt32 `db:"click_error"`
	PreparedAt    time.Time     `db:"prepared_at"`
	ConfirmedAt   sql.NullTime  `db:"confirmed_at"`
	CancelledAt   sql.NullTime  `db:"cancelled_at"`
}

func (r clickRow) toDomain() (*payment.ClickTransaction, error) {
	state := payment.ClickState(r.State)
	switch state {
	case payment.ClickPrepared, payment.ClickConfirmed, payment.ClickCancelled, payment.ClickCancelledAfterConfirm:
	default:
		return nil, fmt.Errorf("click transaction %s: state %d: %w", r.ID, r.State, ErrCorrupt)
	}
	amount, err := money.FromTiyin(r.Amount)
	if err != nil || amount.IsZero() {
		return nil, fmt.Errorf("click transaction %s: amount %d: %w", r.ID, r.Amount, ErrCorrupt)
	}
	var clickError *int
	if r.ClickError.Valid {
		e := int(r.ClickError.Int32)
		clickError = &e
	}
	return payment.RestoreClickTransaction(r.ID, r.PrepareID, r.ClickTransID, r.ClickPaydocID, r.ServiceID, r.OrderID,
		amount, r.AmountRaw, state, clickError, r.PreparedAt.UTC(), fromNull(r.ConfirmedAt), fromNull(r.CancelledAt)), nil
}

func clickErrorValue(e *int) sql.NullInt32 {
	if e == nil {
		return sql.NullInt32{}
	}
	return sql.NullInt32{Int32: int32(*e), Valid: true} //nolint:gosec // G115: Click's error is parsed with bit size 32 (adapters/click)
}

func (r *ClickRepo) Insert(ctx context.Context, t *payment.ClickTransaction) error {
	if !validID(t.ID()) {
		return fmt.Errorf("insert click transaction %d for order %s: %w", t.ClickTransID(), t.OrderID(),
			domain.Invalid("id", domain.MsgUUID))
	}
	var prepareID int64
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &prepareID, `INSERT INTO click_transactions
		(id, click_trans_id, click_paydoc_id, service_id, order_id, amount, amount_raw, state,
		 click_error, prepared_at, confirmed_at, cancelled_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12)
		RETURNING prepare_id`,
		t.ID(), t.ClickTransID(), t.ClickPaydocID(), t.ServiceID(), t.OrderID(), t.Amount().Tiyin(), t.AmountRaw(),
		int(t.State()), clickErrorValue(t.ClickError()), dbTime(t.PreparedAt()),
		nullTime(t.ConfirmedAt()), nullTime(t.CancelledAt()))
	if err != nil {
		return fmt.Errorf("insert click transaction %d for order %s: %w", t.ClickTransID(), t.OrderID(), mapError(err))
	}
	t.SetPrepareID(prepareID)
	return nil
}

// Update relies on click_one_confirmed_per_order (mapError: ErrAlreadyPaid).
func (r *ClickRepo) Update(ctx context.Context, t *payment.ClickTransaction) error {
	if !validID(t.ID()) {
		return fmt.Errorf("update click transaction %s: %w", t.ID(), payment.ErrNotFound)
	}
	res, err := ext(ctx, r.db).ExecContext(ctx, `UPDATE click_transactions
		SET state = $2, click_error = $3, confirmed_at = $4, cancelled_at = $5
		WHERE id = $1`,
		t.ID(), int(t.State()), clickErrorValue(t.ClickError()),
		nullTime(t.ConfirmedAt()), nullTime(t.CancelledAt()))
	if err != nil {
		return fmt.Errorf("update click transaction %s: %w", t.ID(), mapError(err))
	}
	return mustAffect(res, "update click transaction "+t.ID(), payment.ErrNotFound)
}

func (r *ClickRepo) GetByClickTransIDForUpdate(ctx context.Context, clickTransID int64) (*payment.ClickTransaction, error) {
	return r.get(ctx, fmt.Sprintf("click transaction with click_trans_id %d", clickTransID), "click_trans_id", clickTransID)
}

func (r *ClickRepo) GetByPrepareIDForUpdate(ctx context.Context, prepareID int64) (*payment.ClickTransaction, error) {
	return r.get(ctx, fmt.Sprintf("click transaction with prepare id %d", prepareID), "prepare_id", prepareID)
}

func (r *ClickRepo) get(ctx context.Context, what, column string, value int64) (*payment.ClickTransaction, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock %s: %w", what, ErrNoTx)
	}
	var row clickRow
	err := sqlx.GetContext(ctx, ext(ctx, r.db), &row,
		`SELECT `+clickColumns+` FROM click_transactions WHERE `+column+` = $1 FOR UPDATE`, value)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("select %s: %w", what, payment.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("select %s: %w", what, mapError(err))
	}
	return row.toDomain()
}

func (r *ClickRepo) ListByOrder(ctx context.Context, orderID string) ([]*payment.ClickTransaction, error) {
	return r.list(ctx, orderID, "")
}

func (r *ClickRepo) ListByOrderForUpdate(ctx context.Context, orderID string) ([]*payment.ClickTransaction, error) {
	if !inTx(ctx, r.db) {
		return nil, fmt.Errorf("lock click transactions of order %s: %w", orderID, ErrNoTx)
	}
	return r.list(ctx, orderID, " FOR UPDATE")
}

func (r *ClickRepo) list(ctx context.Context, orderID, suffix string) ([]*payment.ClickTransaction, error) {
	out := []*payment.ClickTransaction{}
	if !validID(orderID) {
		return out, nil
	}
	var rows []clickRow
	if err := sqlx.SelectContext(ctx, ext(ctx, r.db), &rows, `SELECT `+clickColumns+
		` FROM click_transactions WHERE order_id = $1 ORDER BY prepare_id`+suffix, orderID); err != nil {
		return nil, fmt.Errorf("select click transactions of order %s: %w", orderID, mapError(err))
	}
	for _, row := range rows {
		t, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, t)
	}
	return out, nil
}
