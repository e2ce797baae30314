package payments

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/ports"
)

// PaymeGetStatement lists the transactions Payme created in a period, for
// Payme's reconciliation.
type PaymeGetStatement struct {
	payme ports.PaymeRepository
}

// NewPaymeGetStatement wires the use case.
func NewPaymeGetStatement(payme ports.PaymeRepository) *PaymeGetStatement {
	return &PaymeGetStatement{payme: payme}
}

// Handle returns every transaction, whatever its state, with
// from <= Payme time <= to (Unix ms), oldest first. Create calls that were
// refused stored nothing and so are not listed; a Create refused because its
// Payme time was already past the timeout is, as Payme can see it with
// CheckTransaction (state -1, reason 4). from > to is an empty period.
func (uc *PaymeGetStatement) Handle(ctx context.Context, from, to int64) ([]*payment.PaymeTransaction, error) {
	if from > to {
		return []*payment.PaymeTransaction{}, nil
	}
	txs, err := uc.payme.ListByPaymeTime(ctx, from, to)
	if err != nil {
		return nil, fmt.Errorf("payme statement %d..%d: %w", from, to, err)
	}
	return txs, nil
}
