package user_test

import (
	"fmt"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/user"
)

var roles = []user.Role{user.RoleCustomer, user.RoleSeller, user.RoleAdmin, user.RoleSuperAdmin}

func mkUser(id string, r user.Role, s user.Status) *user.User {
	return user.Restore(id, id+"@example.com", "h", id, "", r, s, t0, t0)
}

// expectRole is the whole role policy written out independently of the code.
func expectRole(actor, target user.Role, targetStatus user.Status, self bool, to user.Role, supers int) error {
	if actor != user.RoleSuperAdmin {
		return user.ErrNotAllowed
	}
	if self {
		return user.ErrSelfChange
	}
	if target == user.RoleSuperAdmin && targetStatus == user.StatusActive && to != user.RoleSuperAdmin && supers <= 1 {
		return user.ErrLastSuperAdmin
	}
	return nil
}

func TestChangeRoleMatrix(t *testing.T) {
	t1 := t0.Add(time.Hour)
	for _, actorRole := range roles {
		for _, targetRole := range roles {
			for _, targetStatus := range []user.Status{user.StatusActive, user.StatusBlocked} {
				for _, self := range []bool{false, true} {
					if self && targetRole != actorRole {
						continue
					}
					for _, to := range roles {
						for _, supers := range []int{0, 1, 2} {
							name := fmt.Sprintf("%s→%s(%s,self=%v) to %s supers=%d", actorRole, targetRole, targetStatus, self, to, supers)
							actor := mkUser("actor", actorRole, user.StatusActive)
							target := mkUser("target", targetRole, targetStatus)
							if self {
								// A separately loaded copy of the same row: identity is by id.
								target = user.Restore("actor", "actor@example.com", "h", "actor", "", targetRole, targetStatus, t0, t0)
							}
							want := expectRole(actorRole, targetRole, targetStatus, self, to, supers)
							err := user.ChangeRole(actor, target, to, supers, t1)
							if want != nil {
								assert.ErrorIs(t, err, want, name)
								assert.Equal(t, targetRole, target.Role(), name+": unchanged on error")
								assert.Equal(t, t0, target.UpdatedAt(), name)
								continue
							}
							require.NoError(t, err, name)
							assert.Equal(t, to, target.Role(), name)
							assert.Equal(t, targetStatus, target.Status(), name+": role change leaves status")
							if to != targetRole {
								assert.Equal(t, t1, target.UpdatedAt(), name)
							} else {
								assert.Equal(t, t0, target.UpdatedAt(), name+": no-op keeps updatedAt")
							}
						}
					}
				}
			}
		}
	}
}

func TestChangeRoleInvalidRole(t *testing.T) {
	actor := mkUser("a", user.RoleSuperAdmin, user.StatusActive)
	target := mkUser("b", user.RoleCustomer, user.StatusActive)
	err := user.ChangeRole(actor, target, user.Role("root"), 2, t0)
	assert.ErrorIs(t, err, user.ErrInvalidRole)
	assert.Equal(t, user.RoleCustomer, target.Role())
}

func TestChangeRoleLastSuperAdminCases(t *testing.T) {
	actor := mkUser("a", user.RoleSuperAdmin, user.StatusActive)
	// Demoting another super admin when only one is counted (e.g. actor was counted stale) is refused.
	target := mkUser("b", user.RoleSuperAdmin, user.StatusActive)
	assert.ErrorIs(t, user.ChangeRole(actor, target, user.RoleAdmin, 1, t0), user.ErrLastSuperAdmin)
	// With two active super admins it is allowed.
	require.NoError(t, user.ChangeRole(actor, target, user.RoleAdmin, 2, t0))
	assert.Equal(t, user.RoleAdmin, target.Role())
	// A blocked super admin does not count as "the last active" one.
	blocked := mkUser("c", user.RoleSuperAdmin, user.StatusBlocked)
	require.NoError(t, user.ChangeRole(actor, blocked, user.RoleCustomer, 1, t0))
}

func expectStatus(actor, target user.Role, targetStatus user.Status, self bool, to user.Status, supers int) error {
	if !actor.IsAdmin() {
		return user.ErrNotAllowed
	}
	// API.md: an admin (not super) may block or unblock only customers and sellers.
	if actor == user.RoleAdmin && (target == user.RoleAdmin || target == user.RoleSuperAdmin) {
		return user.ErrNotAllowed
	}
	if to == user.StatusBlocked {
		if self {
			return user.ErrSelfChange
		}
		if target == user.RoleSuperAdmin && targetStatus == user.StatusActive && supers <= 1 {
			return user.ErrLastSuperAdmin
		}
	}
	return nil
}

func TestMayChangeStatusOf(t *testing.T) {
	for _, actor := range roles {
		for _, target := range roles {
			want := actor == user.RoleSuperAdmin || (actor == user.RoleAdmin && !target.IsAdmin())
			assert.Equal(t, want, actor.MayChangeStatusOf(target), "%s on %s", actor, target)
		}
	}
	assert.False(t, user.Role("").MayChangeStatusOf(user.RoleCustomer))
}

func TestChangeStatusMatrix(t *testing.T) {
	t1 := t0.Add(time.Hour)
	statuses := []user.Status{user.StatusActive, user.StatusBlocked}
	for _, actorRole := range roles {
		for _, targetRole := range roles {
			for _, targetStatus := range statuses {
				for _, self := range []bool{false, true} {
					if self && (targetRole != actorRole || targetStatus != user.StatusActive) {
						continue
					}
					for _, to := range statuses {
						for _, supers := range []int{0, 1, 2} {
							name := fmt.Sprintf("%s→%s(%s,self=%v) to %s supers=%d", actorRole, targetRole, targetStatus, self, to, supers)
							actor := mkUser("actor", actorRole, user.StatusActive)
							target := mkUser("target", targetRole, targetStatus)
							if self {
								target = user.Restore("actor", "actor@example.com", "h", "actor", "", targetRole, targetStatus, t0, t0)
							}
							want := expectStatus(actorRole, targetRole, targetStatus, self, to, supers)
							err := user.ChangeStatus(actor, target, to, supers, t1)
							if want != nil {
								assert.ErrorIs(t, err, want, name)
								assert.Equal(t, targetStatus, target.Status(), name+": unchanged on error")
								continue
							}
							require.NoError(t, err, name)
							assert.Equal(t, to, target.Status(), name)
							assert.Equal(t, targetRole, target.Role(), name+": status change leaves role")
							if to != targetStatus {
								assert.Equal(t, t1, target.UpdatedAt(), name)
							} else {
								assert.Equal(t, t0, target.UpdatedAt(), name)
							}
						}
					}
				}
			}
		}
	}
}

func TestChangeStatusNamedRules(t *testing.T) {
	super := mkUser("s", user.RoleSuperAdmin, user.StatusActive)
	admin := mkUser("a", user.RoleAdmin, user.StatusActive)

	// An admin (not super) blocking a super admin is forbidden, not a conflict, even if it is the last.
	assert.ErrorIs(t, user.ChangeStatus(admin, super, user.StatusBlocked, 1, t0), user.ErrNotAllowed)
	assert.ErrorIs(t, user.ChangeStatus(admin, super, user.StatusBlocked, 5, t0), user.ErrNotAllowed)
	// A super admin blocking themself is a conflict; an admin doing it is an
	// admin acting on an admin, which lacking the right (403) answers first.
	assert.ErrorIs(t, user.ChangeStatus(super, super, user.StatusBlocked, 5, t0), user.ErrSelfChange)
	assert.ErrorIs(t, user.ChangeStatus(admin, admin, user.StatusBlocked, 5, t0), user.ErrNotAllowed)
	// Blocking the last active super admin.
	other := mkUser("s2", user.RoleSuperAdmin, user.StatusActive)
	assert.ErrorIs(t, user.ChangeStatus(super, other, user.StatusBlocked, 1, t0), user.ErrLastSuperAdmin)
	require.NoError(t, user.ChangeStatus(super, other, user.StatusBlocked, 2, t0))
	assert.Equal(t, user.StatusBlocked, other.Status())
	// An admin may neither block nor unblock another admin or a super admin.
	admin2 := mkUser("a2", user.RoleAdmin, user.StatusActive)
	assert.ErrorIs(t, user.ChangeStatus(admin, admin2, user.StatusBlocked, 1, t0), user.ErrNotAllowed)
	assert.True(t, admin2.IsActive())
	blockedAdmin := mkUser("a3", user.RoleAdmin, user.StatusBlocked)
	assert.ErrorIs(t, user.ChangeStatus(admin, blockedAdmin, user.StatusActive, 1, t0), user.ErrNotAllowed)
	assert.False(t, blockedAdmin.IsActive())
	blockedSuper := mkUser("s3", user.RoleSuperAdmin, user.StatusBlocked)
	assert.ErrorIs(t, user.ChangeStatus(admin, blockedSuper, user.StatusActive, 1, t0), user.ErrNotAllowed)
	// A super admin may do both.
	require.NoError(t, user.ChangeStatus(super, admin2, user.StatusBlocked, 1, t0))
	require.NoError(t, user.ChangeStatus(super, admin2, user.StatusActive, 1, t0))
	assert.True(t, admin2.IsActive())
	// An admin may block and unblock customers and sellers.
	for _, r := range []user.Role{user.RoleCustomer, user.RoleSeller} {
		u := mkUser("c-"+string(r), r, user.StatusActive)
		require.NoError(t, user.ChangeStatus(admin, u, user.StatusBlocked, 1, t0), r)
		require.NoError(t, user.ChangeStatus(admin, u, user.StatusActive, 1, t0), r)
		assert.True(t, u.IsActive(), r)
	}
	// Invalid status value.
	assert.ErrorIs(t, user.ChangeStatus(super, admin, user.Status("gone"), 2, t0), user.ErrInvalidStatus)
	assert.Equal(t, user.StatusActive, admin.Status())
}
