package admin_test

import (
	"context"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testsupport"
)

func newChangeStatus(t *testing.T) (*admin.ChangeStatus, adminMocks) {
	m := newAdminMocks(t)
	return admin.NewChangeStatus(testsupport.InlineTx{}, m.users, m.sessions, testsupport.FixedClock(now)), m
}

func TestChangeStatus_BlockingEndsTheTargetsSessions(t *testing.T) {
	uc, m := newChangeStatus(t)
	target := restore(targetID, user.RoleSeller, user.StatusActive)
	gomock.InOrder(
		m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil),
		m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleAdmin, user.StatusActive), nil),
		m.users.EXPECT().Update(gomock.Any(), target).Return(nil),
		m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), targetID, "", now).Return(nil),
	)

	got, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "blocked"})
	require.NoError(t, err)
	assert.Same(t, target, got)
	assert.Equal(t, user.StatusBlocked, target.Status())
}

func TestChangeStatus_UnblockingEndsNoSession(t *testing.T) {
	uc, m := newChangeStatus(t) // no revoke
	target := restore(targetID, user.RoleSeller, user.StatusBlocked)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleAdmin, user.StatusActive), nil)
	m.users.EXPECT().Update(gomock.Any(), target).Return(nil)

	got, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "active"})
	require.NoError(t, err)
	assert.Equal(t, user.StatusActive, got.Status())
}

func TestChangeStatus_AdminCannotBlockSuperAdmin(t *testing.T) {
	uc, m := newChangeStatus(t) // no Update, no revoke
	target := restore(targetID, user.RoleSuperAdmin, user.StatusActive)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(2, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleAdmin, user.StatusActive), nil)

	_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "blocked"})
	assert.ErrorIs(t, err, user.ErrNotAllowed)
	assert.ErrorIs(t, err, domain.ErrForbidden)
	assert.Equal(t, user.StatusActive, target.Status())
}

func TestChangeStatus_AdminCannotBlockOrUnblockAdmins(t *testing.T) {
	for _, tc := range []struct {
		role   user.Role
		from   user.Status
		status string
	}{
		{user.RoleAdmin, user.StatusActive, "blocked"},
		{user.RoleAdmin, user.StatusBlocked, "active"},
		{user.RoleSuperAdmin, user.StatusBlocked, "active"},
	} {
		t.Run(string(tc.role)+" to "+tc.status, func(t *testing.T) {
			uc, m := newChangeStatus(t) // no Update, no revoke
			target := restore(targetID, tc.role, tc.from)
			m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(2, nil)
			m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil)
			m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleAdmin, user.StatusActive), nil)

			_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: tc.status})
			assert.ErrorIs(t, err, user.ErrNotAllowed)
			assert.ErrorIs(t, err, domain.ErrForbidden)
			assert.Equal(t, tc.from, target.Status())
		})
	}
}

func TestChangeStatus_SuperAdminBlocksAnAdmin(t *testing.T) {
	uc, m := newChangeStatus(t)
	target := restore(targetID, user.RoleAdmin, user.StatusActive)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(target, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleSuperAdmin, user.StatusActive), nil)
	m.users.EXPECT().Update(gomock.Any(), target).Return(nil)
	m.sessions.EXPECT().RevokeAllForUser(gomock.Any(), targetID, "", now).Return(nil)

	got, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "blocked"})
	require.NoError(t, err)
	assert.Equal(t, user.StatusBlocked, got.Status())
}

func TestChangeStatus_BlockingOneselfIsAConflict(t *testing.T) {
	uc, m := newChangeStatus(t) // no Update, no revoke
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(2, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleSuperAdmin, user.StatusActive), nil).Times(1)

	_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: actorID, Status: "blocked"})
	assert.ErrorIs(t, err, user.ErrSelfChange)
	assert.ErrorIs(t, err, domain.ErrConflict)
}

func TestChangeStatus_LastSuperAdminCannotBeBlocked(t *testing.T) {
	uc, m := newChangeStatus(t)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(restore(targetID, user.RoleSuperAdmin, user.StatusActive), nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleSuperAdmin, user.StatusActive), nil)

	_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "blocked"})
	assert.ErrorIs(t, err, user.ErrLastSuperAdmin)
}

func TestChangeStatus_NonAdminActorIsForbidden(t *testing.T) {
	uc, m := newChangeStatus(t)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(restore(targetID, user.RoleCustomer, user.StatusActive), nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), actorID).Return(restore(actorID, user.RoleSeller, user.StatusActive), nil)

	_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "blocked"})
	assert.ErrorIs(t, err, user.ErrNotAllowed)
}

func TestChangeStatus_MissingTargetIsNotFound(t *testing.T) {
	uc, m := newChangeStatus(t)
	m.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	m.users.EXPECT().GetForUpdate(gomock.Any(), targetID).Return(nil, user.ErrNotFound)

	_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "blocked"})
	assert.ErrorIs(t, err, user.ErrNotFound)
}

func TestChangeStatus_UnknownStatusIsValidationOnStatus(t *testing.T) {
	uc, _ := newChangeStatus(t) // no database call at all
	_, err := uc.Handle(context.Background(), admin.ChangeStatusInput{ActorID: actorID, TargetID: targetID, Status: "deleted"})
	assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, err))
}
