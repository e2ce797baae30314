package payments

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymeCheckTransaction reports a transaction as stored. It never mutates:
// a state-1 transaction past its 12 hours is reported as state 1 until
// Create, Perform or the sweep cancels it.
type PaymeCheckTransaction struct {
	payme ports.PaymeRepository
}

// NewPaymeCheckTransaction wires the use case.
func NewPaymeCheckTransaction(payme ports.PaymeRepository) *PaymeCheckTransaction {
	return &PaymeCheckTransaction{payme: payme}
}

// Handle returns the transaction with Payme id paymeID, or payment.ErrNotFound.
// It reads the last committed state: a Perform or Cancel in progress commits
// its transaction and order together, so either is seen whole or not at all.
func (uc *PaymeCheckTransaction) Handle(ctx context.Context, paymeID string) (*payment.PaymeTransaction, error) {
	t, err := uc.payme.GetByPaymeID(ctx, paymeID)
	if err != nil {
		return nil, fmt.Errorf("payme check %s: %w", paymeID, err)
	}
	return t, nil
}
