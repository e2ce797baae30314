package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/payment"
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
