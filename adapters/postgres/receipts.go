package postgres

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

type receiptRow struct {
	OrderID    string         `db:"order_id"`
	Provider   string         `db:"provider"`
	Kind       string         `db:"kind"`
	Status     string         `db:"status"`
	QRCodeURL  sql.NullString `db:"qr_code_url"`
	FiscalSign sql.NullString `db:"fiscal_sign"`
	TerminalID sql.NullString `db:"terminal_id"`
	IssuedAt   sql.NullTime   `db:"issued_at"`
}

func (r receiptRow) toDomain() (fiscal.Receipt, error) {
	rc, err := fiscal.NewReceipt(payment.Provider(r.Provider), fiscal.Kind(r.Kind), fiscal.Status(r.Status),
		fiscal.ReceiptData{QRCodeURL: r.QRCodeURL.String, FiscalSign: r.FiscalSign.String,
			TerminalID: r.TerminalID.String, IssuedAt: fromNull(r.IssuedAt)})
	if err != nil {
		return fiscal.Receipt{}, fmt.Errorf("receipt of order %s: %w (%w)", r.OrderID, ErrCorrupt, err)
	}
	return rc, nil
}

// receiptsOf loads the fiscal receipts of the orders, oldest first, keyed by
// order id, in one query.
func receiptsOf(ctx context.Context, q sqlx.QueryerContext, orderIDs []string) (map[string][]fiscal.Receipt, error) {
	var rows []receiptRow
	err := sqlx.SelectContext(ctx, q, &rows, `SELECT order_id, provider, kind, status, qr_code_url, fiscal_sign,
			terminal_id, issued_at
		FROM fiscal_receipts WHERE order_id = ANY($1::uuid[])
		ORDER BY order_id, created_at, kind, provider`, pq.StringArray(orderIDs))
	if err != nil {
		return nil, fmt.Errorf("select receipts of %d orders: %w", len(orderIDs), mapError(err))
	}
	out := make(map[string][]fiscal.Receipt, len(orderIDs))
	for _, row := range rows {
		rc, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out[row.OrderID] = append(out[row.OrderID], rc)
	}
	return out, nil
}

// ClickReceiptStore implements ports.ClickReceipts on fiscal_receipts: the
// sale receipt of a Click payment is the row (click, payment id, sale).
type ClickReceiptStore struct {
	db *sqlx.DB
}

var _ ports.ClickReceipts = (*ClickReceiptStore)(nil)

// NewClickReceiptStore returns the store on db.
func NewClickReceiptStore(db *sqlx.DB) *ClickReceiptStore { return &ClickReceiptStore{db: db} }

// AddPending inserts the pending receipt; an existing one is left as it is.
func (s *ClickReceiptStore) AddPending(ctx context.Context, orderID string, paymentID int64, now time.Time) error {
	_, err := ext(ctx, s.db).ExecContext(ctx, `INSERT INTO fiscal_receipts
			(order_id, provider, kind, status, provider_ref, created_at, updated_at)
		VALUES ($1, 'click', 'sale', 'pending', $2, $3, $3)
		ON CONFLICT (provider, provider_ref, kind) DO NOTHING`, orderID, clickRef(paymentID), dbTime(now))
	if err != nil {
		return fmt.Errorf("add click receipt of payment %d: %w", paymentID, mapError(err))
	}
	return nil
}

// Get reads the receipt's progress.
func (s *ClickReceiptStore) Get(ctx context.Context, paymentID int64) (ports.ClickReceiptState, error) {
	var row struct {
		OrderID     string       `db:"order_id"`
		Status      string       `db:"status"`
		SubmittedAt sql.NullTime `db:"submitted_at"`
		Attempts    int          `db:"attempts"`
	}
	err := sqlx.GetContext(ctx, ext(ctx, s.db), &row, `SELECT order_id, status, submitted_at, attempts
		FROM fiscal_receipts WHERE provider = 'click' AND provider_ref = $1 AND kind = 'sale'`, clickRef(paymentID))
	if errors.Is(err, sql.ErrNoRows) {
		return ports.ClickReceiptState{}, fmt.Errorf("click receipt of payment %d: %w", paymentID, payment.ErrNotFound)
	}
	if err != nil {
		return ports.ClickReceiptState{}, fmt.Errorf("click receipt of payment %d: %w", paymentID, mapError(err))
	}
	st, err := fiscal.ParseStatus(row.Status)
	if err != nil {
		return ports.ClickReceiptState{}, fmt.Errorf("click receipt of payment %d: %w (%w)", paymentID, ErrCorrupt, err)
	}
	return ports.ClickReceiptState{OrderID: row.OrderID, Status: st, Submitted: row.SubmittedAt.Valid,
		Attempts: row.Attempts}, nil
}

// MarkSubmitted sets submitted_at once.
func (s *ClickReceiptStore) MarkSubmitted(ctx context.Context, paymentID int64, now time.Time) error {
	return s.update(ctx, paymentID, "mark submitted",
		`submitted_at = COALESCE(submitted_at, $2), updated_at = $2`, dbTime(now))
}

// MarkIssued stores the link and the print time.
func (s *ClickReceiptStore) MarkIssued(ctx context.Context, paymentID int64, data fiscal.ReceiptData, now time.Time) error {
	return s.update(ctx, paymentID, "mark issued",
		`status = 'issued', qr_code_url = NULLIF($3, ''), issued_at = $4, last_error = NULL, updated_at = $2`,
		dbTime(now), data.QRCodeURL, nullTime(data.IssuedAt))
}

// RecordFailure counts the try and, when final, gives the receipt up.
func (s *ClickReceiptStore) RecordFailure(ctx context.Context, paymentID int64, reason string, final bool, now time.Time) error {
	if r := []rune(reason); len(r) > 500 {
		reason = string(r[:500])
	}
	return s.update(ctx, paymentID, "record failure",
		`attempts = attempts + 1, last_error = $3, status = CASE WHEN $4 THEN 'failed' ELSE status END, updated_at = $2`,
		dbTime(now), reason, final)
}

func (s *ClickReceiptStore) update(ctx context.Context, paymentID int64, what, set string, args ...any) error {
	res, err := ext(ctx, s.db).ExecContext(ctx, `UPDATE fiscal_receipts SET `+set+`
		WHERE provider = 'click' AND provider_ref = $1 AND kind = 'sale'`, append([]any{clickRef(paymentID)}, args...)...)
	if err != nil {
		return fmt.Errorf("%s: click receipt of payment %d: %w", what, paymentID, mapError(err))
	}
	return mustAffect(res, fmt.Sprintf("%s: click receipt of payment %d", what, paymentID), payment.ErrNotFound)
}

func clickRef(paymentID int64) string { return strconv.FormatInt(paymentID, 10) }
