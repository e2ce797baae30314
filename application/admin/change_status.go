package admin

import (
	"context"
	"fmt"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ChangeStatus lets an admin block or unblock a user. Blocking ends the
// user's sessions, so their tokens stop working at once.
type ChangeStatus struct {
	tx       ports.TxManager
	users    ports.UserRepository
	sessions ports.SessionStore
	clock    ports.Clock
}

// NewChangeStatus wires the use case.
func NewChangeStatus(tx ports.TxManager, users ports.UserRepository, sessions ports.SessionStore, clock ports.Clock) *ChangeStatus {
	return &ChangeStatus{tx: tx, users: users, sessions: sessions, clock: clock}
}

// ChangeStatusInput names the acting user (from the token), the target and
// the raw status from the request body.
type ChangeStatusInput struct {
	ActorID  string
	TargetID string
	Status   string
}

// Handle returns the updated user. Errors: user.ErrInvalidStatus (422, field
// status), user.ErrNotAllowed (403: not an admin, or an admin who is not a
// super_admin acting on an admin or super_admin; see user.ChangeStatus),
// user.ErrNotFound (404), user.ErrSelfChange and user.ErrLastSuperAdmin (409).
func (uc *ChangeStatus) Handle(ctx context.Context, in ChangeStatusInput) (*user.User, error) {
	status, err := user.ParseStatus(in.Status)
	if err != nil {
		return nil, err
	}
	target, err := applyToUser(ctx, uc.tx, uc.users, in.ActorID, in.TargetID, func(actor, t *user.User, superAdmins int) error {
		if err := user.ChangeStatus(actor, t, status, superAdmins, uc.clock.Now()); err != nil {
			return fmt.Errorf("set status of user %s to %s: %w", t.ID(), status, err)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if target.Status() == user.StatusBlocked {
		// Also when the user was blocked already: a retry after a failed
		// revoke still ends the sessions.
		if err := uc.sessions.RevokeAllForUser(ctx, target.ID(), "", uc.clock.Now()); err != nil {
			return nil, fmt.Errorf("end sessions of blocked user %s: %w", target.ID(), err)
		}
	}
	return target, nil
}
