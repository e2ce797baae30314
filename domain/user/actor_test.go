package user_test

import (
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/domain/user"
)

func TestActor(t *testing.T) {
	cases := []struct {
		name                  string
		actor                 user.Actor
		signedIn, isU1, admin bool
	}{
		{"customer u1", user.Actor{ID: "u1", Role: user.RoleCustomer}, true, true, false},
		{"seller", user.Actor{ID: "s1", Role: user.RoleSeller}, true, false, false},
		{"admin", user.Actor{ID: "a1", Role: user.RoleAdmin}, true, false, true},
		{"super_admin", user.Actor{ID: "a2", Role: user.RoleSuperAdmin}, true, false, true},
		{"nobody", user.Actor{}, false, false, false},
		{"a role without a user is nobody", user.Actor{Role: user.RoleSuperAdmin}, false, false, false},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			assert.Equal(t, c.signedIn, c.actor.SignedIn())
			assert.Equal(t, c.isU1, c.actor.Is("u1"))
			assert.Equal(t, c.admin, c.actor.IsAdmin())
			assert.False(t, c.actor.Is(""), "nobody's id is nobody")
		})
	}
}
