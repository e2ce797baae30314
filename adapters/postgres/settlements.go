package postgres

import (
	"context"
	"fmt"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// SettlementRepo implements ports.Settlements: one row per paid order, so the
// second provider to succeed fails on the primary key.
type SettlementRepo struct {
	db *sqlx.DB
}

var _ ports.Settlements = (*SettlementRepo)(nil)

// NewSettlementRepo returns a SettlementRepo on db.
func NewSettlementRepo(db *sqlx.DB) *SettlementRepo { return &SettlementRepo{db: db} }

// Record notes that providerTxID of provider paid orderID. An order that
// already has a settlement returns payment.ErrAlreadyPaid; an unknown order
// returns order.ErrNotFound.
func (r *SettlementRepo) Record(ctx context.Context, orderID string, provider payment.Provider, providerTxID string) error {
	switch provider {
	case payment.ProviderPayme, payment.ProviderClick:
	default:
		return fmt.Errorf("record settlement of order %s: %w", orderID, domain.Invalid("provider", domain.MsgEither, domain.Args{"Values": "payme", "Last": "click"}))
	}
	if !validID(orderID) {
		return fmt.Errorf("record settlement of order %s: %w", orderID, order.ErrNotFound)
	}
	if providerTxID == "" {
		return fmt.Errorf("record settlement of order %s: %w", orderID, domain.Invalid("provider_tx_id", domain.MsgNotEmpty))
	}
	_, err := ext(ctx, r.db).ExecContext(ctx, `INSERT INTO order_settlements (order_id, provider, provider_tx_id)
		VALUES ($1, $2, $3)`, orderID, string(provider), providerTxID)
	if err != nil {
		return fmt.Errorf("record settlement of order %s by %s %s: %w", orderID, provider, providerTxID, mapError(err))
	}
	return nil
}
