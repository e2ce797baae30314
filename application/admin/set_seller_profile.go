package admin

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// SetSellerProfile lets an admin record a seller's taxpayer number (TIN or
// PINFL) and VAT status, which the receipts of their products name.
type SetSellerProfile struct {
	tx       ports.TxManager
	users    ports.UserRepository
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewSetSellerProfile wires the use case.
func NewSetSellerProfile(tx ports.TxManager, users ports.UserRepository, sessions ports.SessionStore, clock ports.Clock) *SetSellerProfile {
	return &SetSellerProfile{tx: tx, users: users, sessions: sessions, clock: clock}
}

// SetSellerProfileInput names the acting user (from the token), the seller
// and the profile from the request body.
type SetSellerProfileInput struct {
	ActorID  string
	TargetID string
	Profile  fiscal.SellerProfileDraft
}

// Handle returns the seller with the new profile. Errors: a validation error
// for the profile (422: tin/pinfl); user.ErrNotAllowed (403) when the actor
// is not an active admin; user.ErrNotFound (404); user.ErrNotSeller (409)
// when the target is not a seller.
func (uc *SetSellerProfile) Handle(ctx context.Context, in SetSellerProfileInput) (*user.User, error) {
	profile, err := fiscal.NewSellerProfile(in.Profile)
	if err != nil {
		return nil, err
	}
	var target *user.User
	err = uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		actor, t, err := lockActorAndTarget(ctx, uc.users, in.ActorID, in.TargetID)
		if err != nil {
			return err
		}
		if !actor.IsActive() || !actor.Role().IsAdmin() {
			return fmt.Errorf("set seller profile of %s: %w", in.TargetID, user.ErrNotAllowed)
		}
		if err := t.SetSellerProfile(profile, uc.clock.Now()); err != nil {
			return fmt.Errorf("set seller profile of %s: %w", t.ID(), err)
		}
		target = t
		return uc.users.Update(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	// After commit: the seller's sessions show the profile in GET me from
	// their cached copy, which must go (ports.SessionStore.CacheProfile).
	if err := uc.sessions.ForgetProfiles(ctx, target.ID()); err != nil {
		return nil, fmt.Errorf("forget cached profiles of user %s: %w", target.ID(), err)
	}
	return target, nil
}
