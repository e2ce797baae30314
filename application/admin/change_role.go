package admin

import (
	"context"
	"errors"
	"fmt"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ChangeRole lets a super_admin give a user another role. The role travels in
// access tokens, so the user's sessions end and their next login carries the
// new one.
type ChangeRole struct {
	tx       ports.TxManager
	users    ports.UserRepository
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewChangeRole wires the use case.
func NewChangeRole(tx ports.TxManager, users ports.UserRepository, sessions ports.SessionStore, clock ports.Clock) *ChangeRole {
	return &ChangeRole{tx: tx, users: users, sessions: sessions, clock: clock}
}

// ChangeRoleInput names the acting user (from the token), the target and the
// raw role from the request body.
type ChangeRoleInput struct {
	ActorID  string
	TargetID string
	Role     string
}

// Handle returns the updated user. Errors: user.ErrInvalidRole (422, field
// role), user.ErrNotAllowed (403: the actor is not a super_admin),
// user.ErrNotFound (404: no such target), user.ErrSelfChange and
// user.ErrLastSuperAdmin (409). The actor's role is read from the database,
// not the token, so a just-demoted admin cannot act on a stale token.
func (uc *ChangeRole) Handle(ctx context.Context, in ChangeRoleInput) (*user.User, error) {
	role, err := user.ParseRole(in.Role)
	if err != nil {
		return nil, err
	}
	target, err := applyToUser(ctx, uc.tx, uc.users, in.ActorID, in.TargetID, func(actor, t *user.User, superAdmins int) error {
		if err := user.ChangeRole(actor, t, role, superAdmins, uc.clock.Now()); err != nil {
			return fmt.Errorf("change role of user %s to %s: %w", t.ID(), role, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	// After commit, and even when the role did not change, so that retrying a
	// request whose revoke failed still ends the sessions.
	if err := uc.sessions.RevokeAllForUser(ctx, target.ID(), "", uc.clock.Now()); err != nil {
		return nil, fmt.Errorf("end sessions of user %s after role change: %w", target.ID(), err)
	}
	return target, nil
}

// applyToUser runs a role or status rule on the target in one transaction and
// saves the result. The super_admin rows are locked first, then the two users
// in id order: every admin change takes its locks in the same order, so two
// admins acting at once wait for each other instead of deadlocking, and the
// super_admin count the rule sees cannot change under it.
func applyToUser(ctx context.Context, tx ports.TxManager, users ports.UserRepository, actorID, targetID string,
	rule func(actor, target *user.User, superAdmins int) error) (*user.User, error) {
	var target *user.User
	err := tx.WithinTx(ctx, func(ctx context.Context) error {
		n, err := users.CountActiveSuperAdminsForUpdate(ctx)
		if err != nil {
			return err
		}
		actor, t, err := lockActorAndTarget(ctx, users, actorID, targetID)
		if err != nil {
			return err
		}
		if err := rule(actor, t, n); err != nil {
			return err
		}
		target = t
		return users.Update(ctx, t)
	})
	if err != nil {
		return nil, err
	}
	return target, nil
}

// lockActorAndTarget locks both users' rows in id order. A missing actor
// (deleted since their token was issued) may do nothing: user.ErrNotAllowed;
// a missing target is user.ErrNotFound.
func lockActorAndTarget(ctx context.Context, users ports.UserRepository, actorID, targetID string) (actor, target *user.User, err error) {
	get := func(id string) (*user.User, error) {
		u, err := users.GetForUpdate(ctx, id)
		switch {
		case errors.Is(err, user.ErrNotFound) && id == actorID:
			return nil, fmt.Errorf("actor %s: %w", id, user.ErrNotAllowed)
		case err != nil:
			return nil, err
		}
		return u, nil
	}
	if actorID == targetID {
		u, err := get(actorID)
		return u, u, err
	}
	firstID, secondID := actorID, targetID
	if secondID < firstID {
		firstID, secondID = secondID, firstID
	}
	first, err := get(firstID)
	if err != nil {
		return nil, nil, err
	}
	second, err := get(secondID)
	if err != nil {
		return nil, nil, err
	}
	if firstID == actorID {
		return first, second, nil
	}
	return second, first, nil
}
