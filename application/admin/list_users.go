package admin

import (
	"context"
	"errors"
	"strings"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Paging limits of every list in the API.
const (
	DefaultPageSize = 20
	MaxPageSize     = 100
	maxQueryChars   = 200
)

// ListUsers pages through the accounts for admins.
type ListUsers struct {
	users ports.UserRepository
}

// NewListUsers wires the use case.
func NewListUsers(users ports.UserRepository) *ListUsers {
	return &ListUsers{users: users}
}

// ListUsersInput is the caller's role and the query string. Role and Status
// are the raw filters ("" = any); Page and PageSize are nil when not given,
// so that an explicit 0 can be refused rather than defaulted.
type ListUsersInput struct {
	ActorRole user.Role
	Query     string
	Role      string
	Status    string
	Page      *int
	PageSize  *int
}

// UserPage is one page of users and how many match in all.
type UserPage struct {
	Items    []*user.User
	Page     int
	PageSize int
	Total    int
}

// Handle returns user.ErrNotAllowed unless the caller is an admin, and a
// *domain.ValidationError naming every bad parameter (q, role, status, page,
// page_size).
func (uc *ListUsers) Handle(ctx context.Context, in ListUsersInput) (UserPage, error) {
	if !in.ActorRole.IsAdmin() {
		return UserPage{}, user.ErrNotAllowed
	}
	f, err := filterOf(in)
	if err != nil {
		return UserPage{}, err
	}
	items, total, err := uc.users.List(ctx, f)
	if err != nil {
		return UserPage{}, err
	}
	return UserPage{Items: items, Page: f.Page, PageSize: f.PageSize, Total: total}, nil
}

func filterOf(in ListUsersInput) (ports.UserFilter, error) {
	f := ports.UserFilter{Query: strings.TrimSpace(in.Query), Page: 1, PageSize: DefaultPageSize}
	verr := &domain.ValidationError{}
	if utf8.RuneCountInString(f.Query) > maxQueryChars {
		verr.Add("q", "must be at most 200 characters")
	}
	if in.Role != "" {
		r, err := user.ParseRole(in.Role)
		if err := addFields(verr, err); err != nil {
			return ports.UserFilter{}, err
		}
		f.Role = r
	}
	if in.Status != "" {
		s, err := user.ParseStatus(in.Status)
		if err := addFields(verr, err); err != nil {
			return ports.UserFilter{}, err
		}
		f.Status = s
	}
	if in.Page != nil {
		if f.Page = *in.Page; f.Page < 1 {
			verr.Add("page", "must be at least 1")
		}
	}
	if in.PageSize != nil {
		if f.PageSize = *in.PageSize; f.PageSize < 1 || f.PageSize > MaxPageSize {
			verr.Add("page_size", "must be between 1 and 100")
		}
	}
	return f, verr.OrNil()
}

// addFields copies the fields of a *domain.ValidationError into verr (the
// domain's parse errors are shared values and must not be appended to). Any
// other error is returned.
func addFields(verr *domain.ValidationError, err error) error {
	if err == nil {
		return nil
	}
	var v *domain.ValidationError
	if !errors.As(err, &v) {
		return err
	}
	verr.Fields = append(verr.Fields, v.Fields...)
	return nil
}
