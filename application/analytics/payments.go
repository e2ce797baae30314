package analytics

import (
	"context"

	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Payments sums completed payments by provider.
type Payments struct {
	analytics ports.Analytics
}

// NewPayments wires the use case.
func NewPayments(analytics ports.Analytics) *Payments {
	return &Payments{analytics: analytics}
}

// PaymentsInput is the caller.
type PaymentsInput struct {
	Actor user.Actor
}

// providers lists every provider a report names, with zeros when unused.
var providers = []payment.Provider{payment.ProviderPayme, payment.ProviderClick}

// Handle returns the count and amount of completed payments of each provider
// (refunded ones are not completed). ErrNotAllowed (403) unless the caller
// is an admin.
func (uc *Payments) Handle(ctx context.Context, in PaymentsInput) (map[payment.Provider]ports.ProviderTotal, error) {
	if err := checkAdmin(in.Actor); err != nil {
		return nil, err
	}
	totals, err := uc.analytics.PaymentsByProvider(ctx)
	if err != nil {
		return nil, err
	}
	out := make(map[payment.Provider]ports.ProviderTotal, len(providers))
	for _, p := range providers {
		out[p] = totals[p]
	}
	return out, nil
}
