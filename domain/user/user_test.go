package user_test

import (
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testsupport"
)

var t0 = time.Date(2025, 3, 1, 10, 0, 0, 0, time.UTC)

func TestParseRole(t *testing.T) {
	for _, s := range []string{"customer", "seller", "admin", "super_admin"} {
		r, err := user.ParseRole(s)
		require.NoError(t, err, s)
		assert.Equal(t, user.Role(s), r)
	}
	for _, s := range []string{"", "Admin", "superadmin", "super_admin ", "root"} {
		_, err := user.ParseRole(s)
		assert.ErrorIs(t, err, user.ErrInvalidRole, s)
		assert.ErrorIs(t, err, domain.ErrValidation, s)
		assert.Equal(t, []string{"role"}, testsupport.FieldsOf(t, err))
	}
}

func TestRoleIsAdmin(t *testing.T) {
	assert.False(t, user.RoleCustomer.IsAdmin())
	assert.False(t, user.RoleSeller.IsAdmin())
	assert.True(t, user.RoleAdmin.IsAdmin())
	assert.True(t, user.RoleSuperAdmin.IsAdmin())
	assert.False(t, user.Role("").IsAdmin())
}

func TestParseStatus(t *testing.T) {
	for _, s := range []string{"active", "blocked"} {
		st, err := user.ParseStatus(s)
		require.NoError(t, err)
		assert.Equal(t, user.Status(s), st)
	}
	for _, s := range []string{"", "Active", "deleted"} {
		_, err := user.ParseStatus(s)
		assert.ErrorIs(t, err, user.ErrInvalidStatus, s)
		assert.ErrorIs(t, err, domain.ErrValidation, s)
		assert.Equal(t, []string{"status"}, testsupport.FieldsOf(t, err))
	}
}

func TestErrorCategories(t *testing.T) {
	cases := []struct {
		err, cat error
	}{
		{user.ErrNotFound, domain.ErrNotFound},
		{user.ErrEmailTaken, domain.ErrConflict},
		{user.ErrBlocked, domain.ErrForbidden},
		{user.ErrInvalidRole, domain.ErrValidation},
		{user.ErrInvalidStatus, domain.ErrValidation},
		{user.ErrSelfChange, domain.ErrConflict},
		{user.ErrLastSuperAdmin, domain.ErrConflict},
		{user.ErrNotAllowed, domain.ErrForbidden},
	}
	for _, c := range cases {
		t.Run(c.err.Error(), func(t *testing.T) {
			assert.ErrorIs(t, c.err, c.cat, c.err.Error())
		})
	}
	assert.False(t, errors.Is(user.ErrSelfChange, user.ErrLastSuperAdmin))
}

func TestNormalizeEmail(t *testing.T) {
	ok := []struct{ in, want string }{
		{"user@example.com", "user@example.com"},
		{"  User.Name+tag@Example.COM \t", "user.name+tag@example.com"},
		{"a@b.uz", "a@b.uz"},
		{"x@sub.domain.co.uz", "x@sub.domain.co.uz"},
		{"X@XN--80AK6AA92E.COM", "x@xn--80ak6aa92e.com"},
		{"o'neil@mail-host.org", "o'neil@mail-host.org"},
		{strings.Repeat("a", 64) + "@example.com", strings.Repeat("a", 64) + "@example.com"},
	}
	for _, c := range ok {
		t.Run(c.in, func(t *testing.T) {
			got, err := user.NormalizeEmail(c.in)
			require.NoError(t, err, c.in)
			assert.Equal(t, c.want, got, c.in)
		})
	}
	bad := []string{
		"", "   ", "plain", "@example.com", "user@", "user@example", "user@.com", "user@example.",
		"user@example..com", "us er@example.com", "user@exa mple.com", "a@b@example.com",
		"user@-example.com", "user@example-.com", "user@example.c", "user@example.123",
		"user@exa_mple.com", "user\x00@example.com", strings.Repeat("a", 65) + "@example.com",
	}
	for _, in := range bad {
		t.Run(fmt.Sprintf("bad %q", in), func(t *testing.T) {
			_, err := user.NormalizeEmail(in)
			require.Error(t, err, "%q", in)
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, []string{"email"}, testsupport.FieldsOf(t, err), "%q", in)
		})
	}
}

func TestNormalizeEmailLengthBoundary(t *testing.T) {
	// 254 bytes total is allowed, 255 is not; labels are ≤ 63 so only the total limit bites.
	mk := func(total int) string {
		local := strings.Repeat("l", 64)
		host := ""
		for len(local)+1+len(host) < total-4 {
			host += strings.Repeat("h", 1)
			if len(host)%60 == 0 {
				host += "."
			}
		}
		host = strings.TrimSuffix(host, ".")
		for len(local)+1+len(host)+4 < total {
			host += "h"
		}
		return local + "@" + host + ".com"
	}
	e254, e255 := mk(254), mk(255)
	require.Len(t, e254, 254)
	require.Len(t, e255, 255)
	_, err := user.NormalizeEmail(e254)
	assert.NoError(t, err)
	_, err = user.NormalizeEmail(e255)
	assert.Equal(t, []string{"email"}, testsupport.FieldsOf(t, err))
	// Surrounding spaces do not count towards the limit.
	_, err = user.NormalizeEmail("  " + e254 + "  ")
	assert.NoError(t, err)
}

func TestCheckPassword(t *testing.T) {
	cases := []struct {
		name, pw, email string
		ok              bool
	}{
		{"7 bytes", "Xk7#pQz", "", false},
		{"8 bytes", "Xk7#pQz9", "", true},
		{"72 bytes", strings.Repeat("Zq9!", 18), "", true},
		{"73 bytes", strings.Repeat("Zq9!", 18) + "x", "", false},
		// Multibyte: limits are bytes, not characters.
		{"4 two-byte chars = 8 bytes", "ёжик", "", true},
		{"3 two-byte + 1 = 7 bytes", "ёжи1", "", false},
		{"7 chars but 14 bytes", "пароль7", "", true},
		{"36 two-byte chars = 72 bytes", strings.Repeat("ж", 36), "", true},
		{"37 two-byte chars = 74 bytes", strings.Repeat("ж", 37), "", false},
		{"24 three-byte chars = 72 bytes", strings.Repeat("€", 24), "", true},
		{"24 three-byte + 1 = 73 bytes", strings.Repeat("€", 24) + "a", "", false},
		{"18 four-byte chars = 72 bytes", strings.Repeat("😀", 18), "", true},
		{"equals email", "user@example.com", "user@example.com", false},
		{"equals email other case", "USER@Example.com", "user@example.com", false},
		{"contains email is fine", "user@example.com!", "user@example.com", true},
		{"common", "password", "", false},
		{"common digits", "12345678", "", false},
		{"common other case", "PassWord1", "", false},
		{"common qwerty123", "qwerty123", "", false},
		{"common iloveyou", "iloveyou", "", false},
		{"not common", "correct horse battery", "", true},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := user.CheckPassword(c.pw, c.email)
			if c.ok {
				assert.NoError(t, err)
				return
			}
			require.Error(t, err)
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, []string{"password"}, testsupport.FieldsOf(t, err))
		})
	}
}

func TestNormalizePhone(t *testing.T) {
	ok := []struct{ in, want string }{
		{"", ""},
		{"   ", ""},
		{"+998901234567", "+998901234567"},
		{" +998901234567 ", "+998901234567"},
	}
	for _, c := range ok {
		t.Run(fmt.Sprintf("%q", c.in), func(t *testing.T) {
			got, err := user.NormalizePhone(c.in)
			require.NoError(t, err, "%q", c.in)
			assert.Equal(t, c.want, got)
		})
	}
	for _, in := range []string{
		"998901234567", "+99890123456", "+9989012345678", "+998 90 123 45 67", "+997901234567",
		"+99890123456a", "+998９01234567", "+998-901234567", "+",
	} {
		t.Run(fmt.Sprintf("bad %q", in), func(t *testing.T) {
			_, err := user.NormalizePhone(in)
			assert.Equal(t, []string{"phone"}, testsupport.FieldsOf(t, err), "%q", in)
		})
	}
}

func TestNew(t *testing.T) {
	u, err := user.New("u1", "  Alice@Example.COM ", "hash", "  Alice Smith ", " +998901234567", t0)
	require.NoError(t, err)
	assert.Equal(t, "u1", u.ID())
	assert.Equal(t, "alice@example.com", u.Email())
	assert.Equal(t, "hash", u.PasswordHash())
	assert.Equal(t, "Alice Smith", u.FullName())
	assert.Equal(t, "+998901234567", u.Phone())
	assert.Equal(t, user.RoleCustomer, u.Role())
	assert.Equal(t, user.StatusActive, u.Status())
	assert.True(t, u.IsActive())
	assert.Equal(t, t0, u.CreatedAt())
	assert.Equal(t, t0, u.UpdatedAt())

	u, err = user.New("u2", "b@example.com", "h", "B", "", t0)
	require.NoError(t, err)
	assert.Equal(t, "", u.Phone())
}

func TestNewFullNameBoundaries(t *testing.T) {
	cases := []struct {
		name string
		ok   bool
	}{
		{"", false},
		{"   ", false},
		{"A", true},
		{strings.Repeat("я", 200), true}, // counted in characters, not bytes
		{strings.Repeat("я", 201), false},
		{"  " + strings.Repeat("a", 200) + "  ", true},
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%d runes", utf8.RuneCountInString(c.name)), func(t *testing.T) {
			_, err := user.New("u", "a@example.com", "h", c.name, "", t0)
			if c.ok {
				assert.NoError(t, err, "len %d", len(c.name))
			} else {
				assert.Equal(t, []string{"full_name"}, testsupport.FieldsOf(t, err), "len %d", len(c.name))
			}
		})
	}
}

func TestNewReportsEveryInvalidField(t *testing.T) {
	_, err := user.New("u", "nope", "h", "", "123", t0)
	assert.ErrorIs(t, err, domain.ErrValidation)
	assert.ElementsMatch(t, []string{"email", "full_name", "phone"}, testsupport.FieldsOf(t, err))
}

func TestRestoreKeepsValuesAsStored(t *testing.T) {
	t1 := t0.Add(time.Hour)
	u := user.Restore("u", "A@B.C", "h", "n", "p", user.RoleAdmin, user.StatusBlocked, t0, t1)
	assert.Equal(t, "A@B.C", u.Email())
	assert.Equal(t, "p", u.Phone())
	assert.Equal(t, user.RoleAdmin, u.Role())
	assert.Equal(t, user.StatusBlocked, u.Status())
	assert.False(t, u.IsActive())
	assert.Equal(t, t0, u.CreatedAt())
	assert.Equal(t, t1, u.UpdatedAt())
}

func TestSetPasswordHash(t *testing.T) {
	u := user.Restore("u", "a@b.uz", "old", "n", "", user.RoleCustomer, user.StatusActive, t0, t0)
	t1 := t0.Add(time.Minute)
	u.SetPasswordHash("new", t1)
	assert.Equal(t, "new", u.PasswordHash())
	assert.Equal(t, t1, u.UpdatedAt())
}

func TestPromote(t *testing.T) {
	u := user.Restore("u", "a@b.uz", "h", "n", "", user.RoleCustomer, user.StatusBlocked, t0, t0)
	t1 := t0.Add(time.Minute)
	u.Promote(user.RoleSuperAdmin, t1)
	assert.Equal(t, user.RoleSuperAdmin, u.Role())
	assert.Equal(t, user.StatusActive, u.Status())
	assert.Equal(t, t1, u.UpdatedAt())
}
