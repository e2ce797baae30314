package user

import (
	"fmt"
	"time"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
)

// ErrNotSeller: a seller profile is set only on a seller's account (409
// conflict): receipts name the seller of a product, and nobody else sells.
var ErrNotSeller = fmt.Errorf("user: not a seller: %w", domain.ErrConflict)

// SetSellerProfile records the seller's taxpayer number and VAT status (an
// admin's act, PUT /api/admin/users/:id/seller-profile); ErrNotSeller for
// any other role.
func (u *User) SetSellerProfile(p fiscal.SellerProfile, now time.Time) error {
	if u.role != RoleSeller {
		return ErrNotSeller
	}
	u.sellerProfile = &p
	u.updatedAt = now
	return nil
}

// WithSellerProfile sets the stored profile of a restored user and returns
// it; adapters only.
func (u *User) WithSellerProfile(p fiscal.SellerProfile) *User {
	u.sellerProfile = &p
	return u
}

// SellerProfile is the seller's profile; ok is false when an admin never
// set one. A profile stored while the user was a seller is kept if the role
// changes, but only a seller's is shown.
func (u *User) SellerProfile() (p fiscal.SellerProfile, ok bool) {
	if u.sellerProfile == nil {
		return fiscal.SellerProfile{}, false
	}
	return *u.sellerProfile, true
}
