package ports

//go:generate go run github.com/golang/mock/mockgen -source=users.go -destination=mocks/users.go -package=mocks

import (
	"context"

	"github.com/ultramarket/gateway/domain/user"
)

// UserFilter narrows an admin's user list. Empty fields do not filter.
type UserFilter struct {
	Query    string // substring of email or full name, case-insensitive
	Role     user.Role
	Status   user.Status
	Page     int
	PageSize int
}

// UserRepository stores users. Lookups of a missing user return user.ErrNotFound;
// a second account with the same email returns user.ErrEmailTaken.
type UserRepository interface {
	Create(ctx context.Context, u *user.User) error
	Update(ctx context.Context, u *user.User) error
	GetByID(ctx context.Context, id string) (*user.User, error)
	// GetByEmail takes a normalised email.
	GetByEmail(ctx context.Context, email string) (*user.User, error)
	// GetByVerifiedPhone takes an E.164 phone and finds the account that
	// verified it (phone login); a phone only typed at registration matches
	// nothing. Verified phones are unique: Create and Update of a second
	// account verifying one return user.ErrPhoneTaken.
	GetByVerifiedPhone(ctx context.Context, phone string) (*user.User, error)
	// GetForUpdate locks the user's row until the transaction in ctx ends.
	GetForUpdate(ctx context.Context, id string) (*user.User, error)
	// CountActiveSuperAdminsForUpdate counts active super_admins and locks their
	// rows, so two admins cannot each demote "the other" last super_admin.
	CountActiveSuperAdminsForUpdate(ctx context.Context) (int, error)
	List(ctx context.Context, f UserFilter) (users []*user.User, total int, err error)
}
