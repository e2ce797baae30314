package user_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
)

func TestSetSellerProfile_OnlyOnASeller(t *testing.T) {
	tin := "123456789"
	p, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: &tin, VATPayer: true})
	require.NoError(t, err)
	now := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for _, role := range []user.Role{user.RoleCustomer, user.RoleAdmin, user.RoleSuperAdmin} {
		u := user.Restore("u1", "a@b.uz", "h", "A", "", role, user.StatusActive, now, now)
		err := u.SetSellerProfile(p, now.Add(time.Hour))
		assert.ErrorIs(t, err, user.ErrNotSeller, role)
		assert.ErrorIs(t, err, domain.ErrConflict, role)
		_, ok := u.SellerProfile()
		assert.False(t, ok)
	}
	s := user.Restore("u2", "s@b.uz", "h", "S", "", user.RoleSeller, user.StatusActive, now, now)
	require.NoError(t, s.SetSellerProfile(p, now.Add(time.Hour)))
	got, ok := s.SellerProfile()
	require.True(t, ok)
	assert.Equal(t, p, got)
	assert.Equal(t, now.Add(time.Hour), s.UpdatedAt())
}
