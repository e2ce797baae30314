package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/ports"
)

var _ ports.ReceiptChecks = (*ReconciliationStore)(nil)

// FailedReceipts reads fiscal_receipts through its partial status index;
// the anti-join on reconciliation_issues (unique per kind and subject) is
// what makes a pass move past the receipts earlier passes reported.
func (s *ReconciliationStore) FailedReceipts(ctx context.Context, limit int) ([]ports.FailedReceipt, error) {
	var rows []struct {
		ID           string `db:"id"`
		OrderID      string `db:"order_id"`
		Provider     string `db:"provider"`
		Kind         string `db:"kind"`
		ProviderTxID string `db:"provider_transaction_id"`
		Reason       string `db:"reason"`
	}
	// A Click receipt is keyed by Click's payment id; the issue names the
	// attempt's click_trans_id, as the other Click issues do.
	err := sqlx.SelectContext(ctx, ext(ctx, s.db), &rows, `SELECT r.id, r.order_id, r.provider, r.kind,
			COALESCE(CASE WHEN r.provider = 'click' THEN (
				SELECT c.click_trans_id::text FROM click_transactions c
				WHERE c.order_id = r.order_id AND c.click_paydoc_id::text = r.provider_ref
				ORDER BY c.prepared_at DESC LIMIT 1) END, r.provider_ref) AS provider_transaction_id,
			COALESCE(r.last_error, r.message, '') AS reason
		FROM fiscal_receipts r
		WHERE r.status = 'failed'
			AND NOT EXISTS (SELECT 1 FROM reconciliation_issues i WHERE i.kind = $1 AND i.subject = r.id::text)
		ORDER BY r.updated_at, r.id
		LIMIT $2`, string(reconciliation.KindReceiptFailed), limit)
	if err != nil {
		return nil, fmt.Errorf("list failed receipts: %w", mapError(ctxErr(ctx, err)))
	}
	out := make([]ports.FailedReceipt, 0, len(rows))
	for _, r := range rows {
		out = append(out, ports.FailedReceipt{ID: r.ID, OrderID: r.OrderID, Provider: r.Provider, Kind: r.Kind,
			ProviderTransactionID: r.ProviderTxID, Reason: r.Reason})
	}
	return out, nil
}

// UnreceiptedOrders picks the orders first (bounded by limit, on the
// paid_at index) and only then looks up who paid them.
func (s *ReconciliationStore) UnreceiptedOrders(ctx context.Context, paidBefore time.Time, limit int) ([]ports.UnreceiptedOrder, error) {
	var rows []struct {
		OrderID      string    `db:"id"`
		PaidAt       time.Time `db:"paid_at"`
		Provider     string    `db:"provider"`
		ProviderTxID string    `db:"provider_transaction_id"`
	}
	err := sqlx.SelectContext(ctx, ext(ctx, s.db), &rows, `WITH due AS (
			SELECT o.id, o.paid_at FROM orders o
			WHERE o.paid_at IS NOT NULL AND o.paid_at < $1
				AND NOT EXISTS (SELECT 1 FROM fiscal_receipts r
					WHERE r.order_id = o.id AND r.kind = 'sale' AND r.status = 'issued')
				AND NOT EXISTS (SELECT 1 FROM reconciliation_issues i WHERE i.kind = $2 AND i.subject = o.id::text)
			ORDER BY o.paid_at, o.id
			LIMIT $3)
		SELECT d.id, d.paid_at, COALESCE(s.provider, '') AS provider,
			COALESCE(CASE s.provider
				WHEN 'payme' THEN (SELECT p.payme_id FROM payme_transactions p WHERE p.id::text = s.provider_tx_id)
				WHEN 'click' THEN (SELECT c.click_trans_id::text FROM click_transactions c WHERE c.id::text = s.provider_tx_id)
			END, '') AS provider_transaction_id
		FROM due d LEFT JOIN order_settlements s ON s.order_id = d.id
		ORDER BY d.paid_at, d.id`, dbTime(paidBefore), string(reconciliation.KindReceiptMissing), limit)
	if err != nil {
		return nil, fmt.Errorf("list orders without a receipt: %w", mapError(ctxErr(ctx, err)))
	}
	out := make([]ports.UnreceiptedOrder, 0, len(rows))
	for _, r := range rows {
		out = append(out, ports.UnreceiptedOrder{OrderID: r.OrderID, PaidAt: r.PaidAt.UTC(), Provider: r.Provider,
			ProviderTransactionID: r.ProviderTxID})
	}
	return out, nil
}
