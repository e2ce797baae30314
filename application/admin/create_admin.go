// Package admin holds the use cases of user administration.
package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// CreateAdmin makes a super_admin from the command line (`ultramarket
// create-admin`): the operator is trusted, so no actor check applies.
type CreateAdmin struct {
	tx     ports.TxManager
	users  ports.UserRepository
	hasher ports.PasswordHasher
	ids    ports.IDGenerator
	clock  ports.Clock
}

// NewCreateAdmin wires the use case.
func NewCreateAdmin(tx ports.TxManager, users ports.UserRepository, hasher ports.PasswordHasher, ids ports.IDGenerator, clock ports.Clock) *CreateAdmin {
	return &CreateAdmin{tx: tx, users: users, hasher: hasher, ids: ids, clock: clock}
}

// CreateAdminResult says what happened to the account.
type CreateAdminResult struct {
	User    *user.User
	Created bool // false: an existing account was promoted
}

// Handle creates a super_admin with the given email and password, or, when
// the email already has an account, promotes and activates it and leaves its
// password alone (a promotion should not lock its owner out).
func (uc *CreateAdmin) Handle(ctx context.Context, email, password, fullName string) (CreateAdminResult, error) {
	normalized, err := user.NormalizeEmail(email)
	if err != nil {
		return CreateAdminResult{}, err
	}
	if fullName == "" {
		fullName = "Administrator"
	}
	var res CreateAdminResult
	err = uc.tx.WithinTx(ctx, func(ctx context.Context) error {
		existing, err := uc.users.GetByEmail(ctx, normalized)
		switch {
		case err == nil:
			locked, err := uc.users.GetForUpdate(ctx, existing.ID())
			if err != nil {
				return err
			}
			locked.Promote(user.RoleSuperAdmin, uc.clock.Now())
			res = CreateAdminResult{User: locked}
			return uc.users.Update(ctx, locked)
		case !errors.Is(err, user.ErrNotFound):
			return err
		}
		if err := user.CheckPassword(password, normalized); err != nil {
			return err
		}
		hash, err := uc.hasher.Hash(ctx, password)
		if err != nil {
			return fmt.Errorf("hash password: %w", err)
		}
		now := uc.clock.Now()
		u, err := user.New(uc.ids.NewID(), normalized, hash, fullName, "", now)
		if err != nil {
			return err
		}
		u.Promote(user.RoleSuperAdmin, now)
		res = CreateAdminResult{User: u, Created: true}
		return uc.users.Create(ctx, u)
	})
	if err != nil {
		return CreateAdminResult{}, err
	}
	return res, nil
}
