package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// RefundRepo implements ports.RefundRepository on order_refunds, the audit
// of admin refunds.
type RefundRepo struct {
	db *sqlx.DB
}

var _ ports.RefundRepository = (*RefundRepo)(nil)

// NewRefundRepo returns a RefundRepo on db.
func NewRefundRepo(db *sqlx.DB) *RefundRepo { return &RefundRepo{db: db} }

type refundRow struct {
	ID        string    `db:"id"`
	OrderID   string    `db:"order_id"`
	Provider  string    `db:"provider"`
	Outcome   string    `db:"outcome"`
	Reason    string    `db:"reason"`
	AdminID   string    `db:"admin_id"`
	CreatedAt time.Time `db:"created_at"`
}

func (r refundRow) toDomain() (*payment.Refund, error) {
	provider := payment.Provider(r.Provider)
	if provider != payment.ProviderPayme && provider != payment.ProviderClick {
		return nil, fmt.Errorf("refund %s: provider %q: %w", r.ID, r.Provider, ErrCorrupt)
	}
	outcome := payment.RefundOutcome(r.Outcome)
	if outcome != payment.RefundReversed && outcome != payment.RefundAuthorized {
		return nil, fmt.Errorf("refund %s: outcome %q: %w", r.ID, r.Outcome, ErrCorrupt)
	}
	return payment.RestoreRefund(r.ID, r.OrderID, provider, outcome, r.Reason, r.AdminID, r.CreatedAt.UTC()), nil
}

func (r *RefundRepo) Add(ctx context.Context, f *payment.Refund) error {
	if !validID(f.ID()) {
		return fmt.Errorf("insert refund of order %s: %w", f.OrderID(), domain.Invalid("id", domain.MsgUUID))
	}
	_, err := ext(ctx, r.db).ExecContext(ctx, `INSERT INTO order_refunds
		(id, order_id, provider, outcome, reason, admin_id, created_at)
		VALUES ($1, $2, $3, $4, $5, $6, $7)`,
		f.ID(), f.OrderID(), string(f.Provider()), string(f.Outcome()), f.Reason(), f.AdminID(), dbTime(f.CreatedAt()))
	if err != nil {
		return fmt.Errorf("insert refund of order %s: %w", f.OrderID(), mapError(err))
	}
	return nil
}

func (r *RefundRepo) ListByOrder(ctx context.Context, orderID string) ([]*payment.Refund, error) {
	out := []*payment.Refund{}
	if !validID(orderID) {
		return out, nil
	}
	var rows []refundRow
	if err := sqlx.SelectContext(ctx, ext(ctx, r.db), &rows, `SELECT id, order_id, provider, outcome, reason, admin_id, created_at
		FROM order_refunds WHERE order_id = $1 ORDER BY created_at, id`, orderID); err != nil {
		return nil, fmt.Errorf("select refunds of order %s: %w", orderID, mapError(err))
	}
	for _, row := range rows {
		f, err := row.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}
