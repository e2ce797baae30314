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
	// ErrPhoneTaken: another account has verified this phone (API code
	// conflict). Verified phones are unique; typed-in ones are not.
	ErrPhoneTaken = fmt.Errorf("user: phone verified by another account: %w", domain.ErrConflict)
	ErrBlocked    = fmt.Errorf("user: blocked: %w", domain.ErrForbidden)
	// The two parse errors are ValidationErrors so the edge can name the field.
	ErrInvalidRole    error = domain.Invalid("role", domain.MsgOneOf, domain.Args{"Values": "customer, seller, admin, super_admin"})
	ErrInvalidStatus  error = domain.Invalid("status", domain.MsgEither, domain.Args{"Values": "active", "Last": "blocked"})
	ErrSelfChange           = fmt.Errorf("user: cannot change own role or block oneself: %w", domain.ErrConflict)
	ErrLastSuperAdmin       = fmt.Errorf("user: the last active super_admin cannot be demoted or blocked: %w", domain.ErrConflict)
	ErrNotAllowed           = fmt.Errorf("user: not allowed: %w", domain.ErrForbidden)
)

const maxFullName = 200

// User is one account. The password is only ever held as a hash.
//
// An account made by phone login has no email and no password until its
// owner sets them (email "" and passwordHash ""), and its phone is verified:
// the owner proved they receive texts at it. A phone typed at registration is
// not verified and never logs anyone in.
type User struct {
	id, email, passwordHash, fullName, phone string
	phoneVerified                            bool
	role                                     Role
	status                                   Status
	sellerProfile                            *fiscal.SellerProfile // see seller_profile.go
	createdAt, updatedAt                     time.Time
}

// NewByPhone makes the customer account of a first login by phone: the
// phone verified, no email, no password, an empty name (API.md).
func NewByPhone(id string, phone Phone, now time.Time) (*User, error) {
	if phone.IsZero() {
		return nil, errPhoneRequired
	}
	return &User{
		id: id, phone: phone.String(), phoneVerified: true,
		role: RoleCustomer, status: StatusActive, createdAt: now, updatedAt: now,
	}, nil
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
		verr.Add("full_name", domain.MsgCharsRange, domain.Args{"Count": maxFullName})
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

// WithPhoneVerified completes Restore for the phone_verified column; adapters
// only. Kept apart from Restore so its many callers did not all change when
// phone login arrived.
func (u *User) WithPhoneVerified(verified bool) *User {
	u.phoneVerified = verified
	return u
}

func (u *User) ID() string           { return u.id }
func (u *User) Email() string        { return u.email }
func (u *User) PasswordHash() string { return u.passwordHash }
func (u *User) FullName() string     { return u.fullName }
func (u *User) Phone() string        { return u.phone }
func (u *User) Role() Role           { return u.role }
func (u *User) Status() Status       { return u.status }
func (u *User) PhoneVerified() bool  { return u.phoneVerified }

// HasPassword is false for an account made by phone login that has not set
// a password yet: email/password login fails for it.
func (u *User) HasPassword() bool    { return u.passwordHash != "" }
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

// ProfileChange is a PATCH of the owner's profile; nil fields stay as they are.
type ProfileChange struct {
	FullName *string
	Email    *string
}

// ChangeProfile applies c, reporting every invalid field at once and
// changing nothing then. The name must be 1..200 characters (an account made
// by phone starts with ""; it may not go back to it) and the email valid; the
// email's uniqueness is the repository's (ErrEmailTaken).
func (u *User) ChangeProfile(c ProfileChange, now time.Time) error {
	verr := &domain.ValidationError{}
	name, email := u.fullName, u.email
	if c.FullName != nil {
		name = strings.TrimSpace(*c.FullName)
		if n := utf8.RuneCountInString(name); n < 1 || n > maxFullName {
			verr.Add("full_name", fmt.Sprintf("must be 1..%d characters", maxFullName))
		}
	}
	if c.Email != nil {
		var msg string
		if email, msg = normalizeEmail(*c.Email); msg != "" {
			verr.Add("email", msg)
		}
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	if name != u.fullName || email != u.email {
		u.fullName, u.email, u.updatedAt = name, email, now
	}
	return nil
}
