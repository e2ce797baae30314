package ports

//go:generate go run github.com/golang/mock/mockgen -source=fiscal.go -destination=mocks/fiscal.go -package=mocks

import (
	"context"

	"github.com/ultramarket/gateway/domain/fiscal"
)

// SellerProfiles reads the fiscal profiles of sellers, which an order's
// lines snapshot when it is placed.
type SellerProfiles interface {
	// SellerProfilesOf returns the profiles of those of sellerIDs that have
	// one, keyed by seller id; ids without a profile (or that name nobody)
	// are left out.
	SellerProfilesOf(ctx context.Context, sellerIDs []string) (map[string]fiscal.SellerProfile, error)
}
