// Package user holds the user account aggregate, the role and status policy
// (who may promote or block whom), and the input rules for email, password
// and phone that registration and password changes share.
package user

import (
	"fmt"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
)

var (
	ErrNotFound   = fmt.Errorf("user: %w", domain.ErrNotFound)
	ErrEmailTaken = fmt.Errorf("user: email taken: %w", domain.ErrConflict)
	ErrBlocked    = fmt.Errorf("user: blocked: %w", domain.ErrForbidden)
	// The two parse errors are ValidationErrors so the edge can name the field.
	ErrInvalidRole    error = domain.Invalid("role", "must be one of customer, seller, admin, super_admin")
	ErrInvalidStatus  error = domain.Invalid("status", "must be active or blocked")
	ErrSelfChange           = fmt.Errorf("user: cannot change own role or block oneself: %w", domain.ErrConflict)
	ErrLastSuperAdmin       = fmt.Errorf("user: the last active super_admin cannot be demoted or blocked: %w", domain.ErrConflict)
	ErrNotAllowed           = fmt.Errorf("user: not allowed: %w", domain.ErrForbidden)
)

const maxFullName = 200

// User is one account. The password is only ever held as a hash.
type User struct {
	id, email, passwordHash, fullName, phone string
	role                                     Role
	status                                   Status
	sellerProfile                            *fiscal.SellerProfile // see seller_profile.go
	createdAt, updatedAt                     time.Time
}

// New registers a customer. Email and phone are normalised here again so no
// caller can store a form that later fails to match on login.
func New(id, email, passwordHash, fullName, phone string, now time.Time) (*User, error) {
	verr := &domain.ValidationError{}
	normEmail, msg := normalizeEmail(email)
	if msg != "" {
		verr.Add("email", msg)
	}
	name := strings.TrimSpace(fullName)
	if n := utf8.RuneCountInString(name); n < 1 || n > maxFullName {
		verr.Add("full_name", fmt.Sprintf("must be 1..%d characters", maxFullName))
	}
	normPhone, msg := normalizePhone(phone)
	if msg != "" {
		verr.Add("phone", msg)
	}
	if err := verr.OrNil(); err != nil {
		return nil, err
	}
	return &User{
		id: id, email: normEmail, passwordHash: passwordHash, fullName: name, phone: normPhone,
		role: RoleCustomer, status: StatusActive, createdAt: now, updatedAt: now,
	}, nil
}

// Restore rebuilds a stored user; adapters only.
func Restore(id, email, passwordHash, fullName, phone string, role Role, status Status, createdAt, updatedAt time.Time) *User {
	return &User{
		id: id, email: email, passwordHash: passwordHash, fullName: fullName, phone: phone,
		role: role, status: status, createdAt: createdAt, updatedAt: updatedAt,
	}
}

func (u *User) ID() string           { return u.id }
func (u *User) Email() string        { return u.email }
func (u *User) PasswordHash() string { return u.passwordHash }
func (u *User) FullName() string     { return u.fullName }
func (u *User) Phone() string        { return u.phone }
func (u *User) Role() Role           { return u.role }
func (u *User) Status() Status       { return u.status }
func (u *User) CreatedAt() time.Time { return u.createdAt }
func (u *User) UpdatedAt() time.Time { return u.updatedAt }

// IsActive is false for a blocked user, who may not log in.
func (u *User) IsActive() bool { return u.status == StatusActive }

// SetPasswordHash stores a new hash; the policy was checked on the plain text
// before hashing, which the aggregate never sees.
func (u *User) SetPasswordHash(hash string, now time.Time) {
	u.passwordHash = hash
	u.updatedAt = now
}

// Promote is for the create-admin CLI, which is trusted: it bypasses the
// policy so the very first super_admin can exist, and unblocks the account.
func (u *User) Promote(role Role, now time.Time) {
	u.role = role
	u.status = StatusActive
	u.updatedAt = now
}
