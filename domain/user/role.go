package user

import "time"

// Role decides what a user may do. The values are stored and sent to clients
// as they are, so they never change.
type Role string

const (
	RoleCustomer   Role = "customer"
	RoleSeller     Role = "seller"
	RoleAdmin      Role = "admin"
	RoleSuperAdmin Role = "super_admin"
)

// ParseRole accepts exactly the four stored spellings; anything else is a
// client error rather than a silent default.
func ParseRole(s string) (Role, error) {
	switch r := Role(s); r {
	case RoleCustomer, RoleSeller, RoleAdmin, RoleSuperAdmin:
		return r, nil
	}
	return "", ErrInvalidRole
}

// IsAdmin is true for super_admin too: wherever the contract says admin, it
// includes super_admin.
func (r Role) IsAdmin() bool { return r == RoleAdmin || r == RoleSuperAdmin }

func (r Role) valid() bool {
	_, err := ParseRole(string(r))
	return err == nil
}

// Status says whether a user may log in at all.
type Status string

const (
	StatusActive  Status = "active"
	StatusBlocked Status = "blocked"
)

// ParseStatus accepts exactly the two stored spellings.
func ParseStatus(s string) (Status, error) {
	switch st := Status(s); st {
	case StatusActive, StatusBlocked:
		return st, nil
	}
	return "", ErrInvalidStatus
}

func (s Status) valid() bool { return s == StatusActive || s == StatusBlocked }

// ChangeRole applies the role policy. activeSuperAdmins must be counted by the
// caller under a lock, since "the last one" is a fact about the whole table.
func ChangeRole(actor, target *User, role Role, activeSuperAdmins int, now time.Time) error {
	if !role.valid() {
		return ErrInvalidRole
	}
	if actor.role != RoleSuperAdmin {
		return ErrNotAllowed
	}
	if actor.id == target.id {
		return ErrSelfChange
	}
	if target.role == RoleSuperAdmin && target.status == StatusActive && role != RoleSuperAdmin && activeSuperAdmins <= 1 {
		return ErrLastSuperAdmin
	}
	if target.role != role {
		target.role = role
		target.updatedAt = now
	}
	return nil
}

// MayChangeStatusOf reports whether a user with role r may block or unblock
// a user with role target: admins of either kind may act on customers and
// sellers, and only a super_admin on admins and super_admins. Otherwise one
// admin could lock the others out (or let a blocked one back in).
func (r Role) MayChangeStatusOf(target Role) bool {
	switch {
	case !r.IsAdmin():
		return false
	case target.IsAdmin():
		return r == RoleSuperAdmin
	}
	return true
}

// ChangeStatus applies the blocking policy. The checks run in the order the
// contract ranks them: lacking the right (403) wins over a conflict (409), so
// an admin blocking themself is refused as an admin acting on an admin.
func ChangeStatus(actor, target *User, status Status, activeSuperAdmins int, now time.Time) error {
	if !status.valid() {
		return ErrInvalidStatus
	}
	if !actor.role.MayChangeStatusOf(target.role) {
		return ErrNotAllowed
	}
	if status == StatusBlocked {
		if actor.id == target.id {
			return ErrSelfChange
		}
		if target.role == RoleSuperAdmin && target.status == StatusActive && activeSuperAdmins <= 1 {
			return ErrLastSuperAdmin
		}
	}
	if target.status != status {
		target.status = status
		target.updatedAt = now
	}
	return nil
}
