package user_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestNewByPhoneIsAVerifiedCustomerWithoutEmailOrPassword(t *testing.T) {
	p, err := user.ParsePhone("+998901234567")
	require.NoError(t, err)
	u, err := user.NewByPhone("u1", p, t0)
	require.NoError(t, err)
	assert.Equal(t, "+998901234567", u.Phone())
	assert.True(t, u.PhoneVerified())
	assert.Empty(t, u.Email())
	assert.Empty(t, u.FullName())
	assert.False(t, u.HasPassword())
	assert.Equal(t, user.RoleCustomer, u.Role())
	assert.True(t, u.IsActive())

	_, err = user.NewByPhone("u2", user.Phone{}, t0)
	assert.ErrorIs(t, err, domain.ErrValidation)
}

func TestRegisteredPhoneIsNotVerified(t *testing.T) {
	u, err := user.New("u1", "a@example.com", "hash", "A", "+998901234567", t0)
	require.NoError(t, err)
	assert.False(t, u.PhoneVerified())
	assert.True(t, u.HasPassword())
	assert.True(t, user.Restore("u1", "", "", "", "+998901234567", user.RoleCustomer, user.StatusActive, t0, t0).
		WithPhoneVerified(true).PhoneVerified())
}

func TestChangeProfile(t *testing.T) {
	p, err := user.ParsePhone("+998901234567")
	require.NoError(t, err)
	u, err := user.NewByPhone("u1", p, t0)
	require.NoError(t, err)
	later := t0.Add(time.Hour)
	name, email := "  Ali Valiyev ", " Ali@Example.COM "
	require.NoError(t, u.ChangeProfile(user.ProfileChange{FullName: &name, Email: &email}, later))
	assert.Equal(t, "Ali Valiyev", u.FullName())
	assert.Equal(t, "ali@example.com", u.Email())
	assert.Equal(t, later, u.UpdatedAt())

	bad, empty := "not-an-email", " "
	err = u.ChangeProfile(user.ProfileChange{FullName: &empty, Email: &bad}, later.Add(time.Hour))
	assert.ErrorIs(t, err, domain.ErrValidation)
	assert.ElementsMatch(t, []string{"full_name", "email"}, testsupport.FieldsOf(t, err))
	assert.Equal(t, "Ali Valiyev", u.FullName(), "nothing changed")
	assert.Equal(t, later, u.UpdatedAt())

	require.NoError(t, u.ChangeProfile(user.ProfileChange{}, later.Add(2*time.Hour)))
	assert.Equal(t, later, u.UpdatedAt(), "an empty patch changes nothing")
}
