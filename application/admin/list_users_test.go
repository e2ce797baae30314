package admin_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/ports/mocks"
	"github.com/ultramarket/gateway/test/testsupport"
)

func intp(n int) *int { return &n }

func TestListUsers_DefaultsToFirstPageOfTwenty(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	u := user.Restore("u-1", "a@b.uz", "h", "A", "", user.RoleCustomer, user.StatusActive, now, now)
	users.EXPECT().List(gomock.Any(), ports.UserFilter{Page: 1, PageSize: 20}).Return([]*user.User{u}, 57, nil)

	got, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{ActorRole: user.RoleAdmin})
	require.NoError(t, err)
	assert.Equal(t, admin.UserPage{Items: []*user.User{u}, Page: 1, PageSize: 20, Total: 57}, got)
}

func TestListUsers_PassesParsedFilters(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	users.EXPECT().List(gomock.Any(), ports.UserFilter{
		Query: "ann", Role: user.RoleSeller, Status: user.StatusBlocked, Page: 3, PageSize: 100,
	}).Return(nil, 0, nil)

	got, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{
		ActorRole: user.RoleSuperAdmin, Query: "  ann ", Role: "seller", Status: "blocked", Page: intp(3), PageSize: intp(100),
	})
	require.NoError(t, err)
	assert.Equal(t, 3, got.Page)
	assert.Equal(t, 100, got.PageSize)
}

func TestListUsers_OnlyAdmins(t *testing.T) {
	for _, role := range []user.Role{user.RoleCustomer, user.RoleSeller, ""} {
		ctrl := gomock.NewController(t)
		users := mocks.NewMockUserRepository(ctrl) // no List
		_, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{ActorRole: role})
		assert.ErrorIs(t, err, user.ErrNotAllowed, role)
		assert.ErrorIs(t, err, domain.ErrForbidden, role)
	}
}

func TestListUsers_BadPageSizeNamesTheField(t *testing.T) {
	for _, size := range []int{0, -1, 101} {
		ctrl := gomock.NewController(t)
		users := mocks.NewMockUserRepository(ctrl) // no List
		_, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{ActorRole: user.RoleAdmin, PageSize: intp(size)})
		assert.Equal(t, []string{"page_size"}, testsupport.FieldsOf(t, err), size)
	}
}

func TestListUsers_NamesEveryBadParameter(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl) // no List
	_, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{
		ActorRole: user.RoleAdmin, Role: "root", Status: "deleted", Page: intp(0), PageSize: intp(1000),
	})
	assert.Equal(t, []string{"role", "status", "page", "page_size"}, testsupport.FieldsOf(t, err))

	// The domain's parse errors are shared values: merging must not grow them.
	_, err = user.ParseRole("root")
	assert.Equal(t, []string{"role"}, testsupport.FieldsOf(t, err))
}

func TestListUsers_PropagatesStorageErrors(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl)
	boom := errors.New("boom")
	users.EXPECT().List(gomock.Any(), gomock.Any()).Return(nil, 0, boom)

	_, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{ActorRole: user.RoleAdmin})
	assert.ErrorIs(t, err, boom)
}

func TestListUsers_OverlongQueryNamesQ(t *testing.T) {
	ctrl := gomock.NewController(t)
	users := mocks.NewMockUserRepository(ctrl) // no List
	_, err := admin.NewListUsers(users).Handle(context.Background(), admin.ListUsersInput{
		ActorRole: user.RoleAdmin, Query: strings.Repeat("я", 201),
	})
	assert.Equal(t, []string{"q"}, testsupport.FieldsOf(t, err))
}
