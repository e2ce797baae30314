package postgres

import (
	"context"
	"database/sql"
	"fmt"

	"github.com/jmoiron/sqlx"
	"github.com/lib/pq"

	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

var _ ports.SellerProfiles = (*UserRepo)(nil)

// sellerProfile reads the row's profile columns; ok is false without one.
func (r userRow) sellerProfile() (fiscal.SellerProfile, bool) {
	if !r.SellerVATPayer.Valid {
		return fiscal.SellerProfile{}, false
	}
	return fiscal.RestoreSellerProfile(r.SellerTIN.String, r.SellerPINFL.String, r.SellerVATPayer.Bool), true
}

// sellerProfileArgs are u's profile columns as statement arguments.
func sellerProfileArgs(u *user.User) (tin, pinfl sql.NullString, vatPayer sql.NullBool) {
	p, ok := u.SellerProfile()
	if !ok {
		return tin, pinfl, vatPayer
	}
	return nullString(p.TIN()), nullString(p.PINFL()), sql.NullBool{Bool: p.VATPayer(), Valid: true}
}

// SellerProfilesOf returns the profiles of the sellers among ids that have
// one; ids that are not UUIDs name nobody and are skipped.
func (r *UserRepo) SellerProfilesOf(ctx context.Context, ids []string) (map[string]fiscal.SellerProfile, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if validID(id) {
			valid = append(valid, id)
		}
	}
	out := make(map[string]fiscal.SellerProfile, len(valid))
	if len(valid) == 0 {
		return out, nil
	}
	var rows []userRow
	err := sqlx.SelectContext(ctx, ext(ctx, r.db), &rows, `SELECT `+userColumns+` FROM users
		WHERE id = ANY($1::uuid[]) AND seller_vat_payer IS NOT NULL`, pq.StringArray(valid))
	if err != nil {
		return nil, fmt.Errorf("select seller profiles of %d users: %w", len(valid), mapError(err))
	}
	for _, row := range rows {
		if p, ok := row.sellerProfile(); ok {
			out[row.ID] = p
		}
	}
	return out, nil
}
