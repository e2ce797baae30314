package analytics

import (
	"context"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

const (
	DefaultTopLimit = 10
	MaxTopLimit     = 100
)

// TopProducts ranks the best sellers by revenue.
type TopProducts struct {
	analytics ports.Analytics
}

// NewTopProducts wires the use case.
func NewTopProducts(analytics ports.Analytics) *TopProducts {
	return &TopProducts{analytics: analytics}
}

// TopProductsInput is the caller and the limit (nil when not given, so that
// an explicit 0 is refused rather than defaulted).
type TopProductsInput struct {
	Actor user.Actor
	Limit *int
}

// Handle returns up to limit products (1..100, default 10) of paid, shipped
// and delivered orders, highest revenue first. ErrNotAllowed (403) unless
// the caller is an admin; a *domain.ValidationError (422, field limit).
func (uc *TopProducts) Handle(ctx context.Context, in TopProductsInput) ([]ports.TopProduct, error) {
	if err := checkAdmin(in.Actor); err != nil {
		return nil, err
	}
	limit := DefaultTopLimit
	if in.Limit != nil {
		if limit = *in.Limit; limit < 1 || limit > MaxTopLimit {
			return nil, domain.Invalid("limit", domain.MsgBetween, domain.Args{"Min": 1, "Max": MaxTopLimit})
		}
	}
	top, err := uc.analytics.TopProducts(ctx, limit)
	if err != nil {
		return nil, err
	}
	if top == nil {
		top = []ports.TopProduct{}
	}
	return top, nil
}
