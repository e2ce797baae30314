package admin

import (
	"context"
	"strings"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// maxQueryChars bounds the free-text search of the user list.
const maxQueryChars = 200

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
	f := ports.UserFilter{Query: strings.TrimSpace(in.Query)}
	verr := &domain.ValidationError{}
	if utf8.RuneCountInString(f.Query) > maxQueryChars {
		verr.Add("q", domain.MsgMaxChars, domain.Args{"Count": 200})
	}
	if in.Role != "" {
		r, err := user.ParseRole(in.Role)
		if err := verr.Merge(err); err != nil {
			return ports.UserFilter{}, err
		}
		f.Role = r
	}
	if in.Status != "" {
		s, err := user.ParseStatus(in.Status)
		if err := verr.Merge(err); err != nil {
			return ports.UserFilter{}, err
		}
		f.Status = s
	}
	f.Page, f.PageSize = domain.Paging(in.Page, in.PageSize, verr)
	return f, verr.OrNil()
}
