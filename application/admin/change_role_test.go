package admin_test

import (
	"context"
	"errors"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

// The target's id sorts before the actor's, so locking in id order takes the
// target first.
const (
	actorID  = "bbbbbbbb-0000-4000-8000-000000000002"
	targetID = "aaaaaaaa-0000-4000-8000-000000000001"
)

func restore(id string, role user.Role, status user.Status) *user.User {
	return user.Restore(id, id+"@example.uz", "h", "Name", "", role, status, now, now)
}

type adminMocks struct {
	users    *mocks.MockUserRepository
	sessions *mocks.MockSessionStore
}

func newAdminMocks(t *testing.T) adminMocks {
	ctrl := gomock.NewController(t)
	return adminMocks{users: mocks.NewMockUserRepository(ctrl), sessions: mocks.NewMockSessionStore(ctrl)}
}

func newChangeRole(t *testing.T) (*admin.ChangeRole, adminMocks) {
	m := newAdminMocks(t)
	return admin.NewChangeRole(testsupport.InlineTx{}, m.users, m.sessions, testsupport.FixedClock(now)), m
}

func TestChangeRole_UpdatesThenEndsTheTargetsSessions(t *testing.T) {
	uc, m := newChangeRole(t)
	actor := restore(actorID, user.RoleSuperAdmin, user.StatusActive)
	target := restore(targetID, user.RoleCustomer, user.StatusActive)
	gomock.InOrder(
		m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(actor, nil),
		m.users.EXPECT().Update(gomock.Any(), target).Return(nil),
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), targetID, "", now).Return(nil),
	)

	got, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "seller"})
	require.NoError(t, err)
	assert.Same(t, target, got)
	assert.Equal(t, user.RoleSeller, target.Role())
	assert.Equal(t, user.RoleSuperAdmin, actor.Role())
}

func TestChangeRole_LocksInIDOrderWhicheverSideIsTheActor(t *testing.T) {
	uc, m := newChangeRole(t)
	// Swap the sides: the actor's id now sorts first.
	actor := restore(targetID, user.RoleSuperAdmin, user.StatusActive)
	target := restore(actorID, user.RoleSeller, user.StatusActive)
	gomock.InOrder(
		m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(actor, nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(target, nil),
		m.users.EXPECT().Update(gomock.Any(), target).Return(nil),
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), actorID, "", now).Return(nil),
	)

	got, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: targetID, TargetID: actorID, Role: "admin"})
	require.NoError(t, err)
	assert.Equal(t, user.RoleAdmin, got.Role())
}

func TestChangeRole_SelfChangeIsAConflictAndEndsNoSession(t *testing.T) {
	uc, m := newChangeRole(t) // no Update, no revoke
	self := restore(actorID, user.RoleSuperAdmin, user.StatusActive)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(2, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(self, nil).Times(1)

	_, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: actorID, Role: "admin"})
	assert.ErrorIs(t, err, user.ErrSelfChange)
	assert.ErrorIs(t, err, domain.ErrConflict)
	assert.Equal(t, user.RoleSuperAdmin, self.Role())
}

func TestChangeRole_OnlySuperAdmins(t *testing.T) {
	uc, m := newChangeRole(t) // no Update, no revoke
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(restore(targetID, user.RoleCustomer, user.StatusActive), nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleAdmin, user.StatusActive), nil)

	_, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "admin"})
	assert.ErrorIs(t, err, user.ErrNotAllowed)
	assert.ErrorIs(t, err, domain.ErrForbidden)
}

func TestChangeRole_LastSuperAdminCannotBeDemoted(t *testing.T) {
	uc, m := newChangeRole(t)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(restore(targetID, user.RoleSuperAdmin, user.StatusActive), nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleSuperAdmin, user.StatusActive), nil)

	_, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "customer"})
	assert.ErrorIs(t, err, user.ErrLastSuperAdmin)
}

func TestChangeRole_MissingTargetIsNotFoundMissingActorIsForbidden(t *testing.T) {
	uc, m := newChangeRole(t)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil).Times(2)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(nil, user.ErrNotFound)
	_, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "seller"})
	assert.ErrorIs(t, err, user.ErrNotFound)

	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(restore(targetID, user.RoleCustomer, user.StatusActive), nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(nil, user.ErrNotFound)
	_, err = uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "seller"})
	assert.ErrorIs(t, err, user.ErrNotAllowed)
	assert.NotErrorIs(t, err, domain.ErrNotFound)
}

func TestChangeRole_UnknownRoleIsValidationOnRole(t *testing.T) {
	uc, _ := newChangeRole(t) // no database call at all
	_, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "root"})
	assert.Equal(t, []string{"role"}, testsupport.FieldsOf(t, err))
}

func TestChangeRole_RevokeFailureIsReported(t *testing.T) {
	uc, m := newChangeRole(t)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(restore(targetID, user.RoleCustomer, user.StatusActive), nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleSuperAdmin, user.StatusActive), nil)
	m.users.EXPECT().Update(gomock.Any(), gomock.Any()).Return(nil)
	down := errors.Join(errors.New("redis down"), domain.ErrUnavailable)
	m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), targetID, "", now).Return(down)

	_, err := uc.Handle(context.Background(), admin.ChangeRoleInput{ActorID: actorID, TargetID: targetID, Role: "seller"})
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}
