package app

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"errors"
	"fmt"
	"io"

	"github.com/jmoiron/sqlx"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Demo accounts created by SEED_DEMO.
const (
	DemoAdminEmail  = "admin@ultramarket.uz"
	DemoSellerEmail = "seller@ultramarket.uz"
)

// seedDemo creates a demo super admin, a demo seller and demo products, once.
// The random passwords are printed to out (not to the JSON log) the one time
// the accounts are created: nobody can learn them later.
func seedDemo(ctx context.Context, db *sqlx.DB, tx ports.TxManager, users ports.UserRepository,
	hasher ports.PasswordHasher, ids ports.IDGenerator, clock ports.Clock, out io.Writer) error {
	adminUser, err := seedUser(ctx, users, hasher, ids, clock, out, DemoAdminEmail, "Demo Admin", user.RoleSuperAdmin)
	if err != nil {
		return err
	}
	_ = adminUser
	seller, err := seedUser(ctx, users, hasher, ids, clock, out, DemoSellerEmail, "Demo Seller", user.RoleSeller)
	if err != nil {
		return err
	}
	_ = tx
	if err := seedSellerProfile(ctx, users, seller, clock); err != nil {
		return err
	}
	_, err = postgres.SeedDemoProducts(ctx, db, seller.ID(), clock.Now())
	return err
}

// DemoSellerTIN is the demo seller's taxpayer number: the right shape (9
// digits), nobody's real number.
const DemoSellerTIN = "300000001"

// seedSellerProfile gives the demo seller a profile (a VAT-paying company)
// once, so the demo orders' receipts name a seller.
func seedSellerProfile(ctx context.Context, users ports.UserRepository, seller *user.User, clock ports.Clock) error {
	if _, ok := seller.SellerProfile(); ok || seller.Role() != user.RoleSeller {
		return nil
	}
	tin := DemoSellerTIN
	p, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: &tin, VATPayer: true})
	if err != nil {
		return err
	}
	if err := seller.SetSellerProfile(p, clock.Now()); err != nil {
		return err
	}
	return users.Update(ctx, seller)
}

func seedUser(ctx context.Context, users ports.UserRepository, hasher ports.PasswordHasher, ids ports.IDGenerator,
	clock ports.Clock, out io.Writer, email, name string, role user.Role) (*user.User, error) {
	existing, err := users.GetByEmail(ctx, email)
	if err == nil {
		return existing, nil
	}
	if !errors.Is(err, user.ErrNotFound) {
		return nil, err
	}
	password, err := randomPassword()
	if err != nil {
		return nil, err
	}
	hash, err := hasher.Hash(ctx, password)
	if err != nil {
		return nil, err
	}
	now := clock.Now()
	u, err := user.New(ids.NewID(), email, hash, name, "", now)
	if err != nil {
		return nil, err
	}
	u.Promote(role, now)
	if err := users.Create(ctx, u); err != nil {
		if errors.Is(err, user.ErrEmailTaken) { // another instance seeded it first
			return users.GetByEmail(ctx, email)
		}
		return nil, err
	}
	fmt.Fprintf(out, "demo %s created: %s / %s (shown once)\n", role, email, password)
	return u, nil
}

func randomPassword() (string, error) {
	b := make([]byte, 12)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}
