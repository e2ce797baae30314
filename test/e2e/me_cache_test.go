package e2e

import (
	"net/http"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// GET /api/auth/me is answered from the profile cached in the session (one
// Redis lookup, no Postgres row); every change to what it shows reaches
// every session of the user.
func TestMe_CachedProfileStaysCoherentAcrossSessions(t *testing.T) {
	g := newGateway(t, nil)
	super := g.newAccount(t, roleSuperAdmin)
	email := uniqueEmail("me-cache")
	first := g.register(t, email, defaultPassword)
	second := g.login(t, email, defaultPassword)
	meOf := func(token string) userDTO {
		t.Helper()
		r := g.me(t, token)
		expectJSON(t, r, http.StatusOK)
		return decode[struct{ User userDTO }](t, r).User
	}
	for _, tok := range []string{first.Tokens.AccessToken, second.Tokens.AccessToken} {
		assert.Equal(t, "Test User", meOf(tok).FullName) // fills each session's cache
	}

	// Served from the cache: a change made behind the gateway's back (no
	// use case, so nothing forgets) is not seen, which shows no row is read.
	_, err := g.DB.Exec(`UPDATE users SET full_name = 'Behind The Back' WHERE id = $1`, first.User.ID)
	require.NoError(t, err)
	assert.Equal(t, "Test User", meOf(second.Tokens.AccessToken).FullName, "me read the row")

	// PATCH /me in one session: both sessions show the change at once.
	r := g.do(t, req{Method: http.MethodPatch, Path: "/api/auth/me", Token: first.Tokens.AccessToken,
		Body: map[string]any{"full_name": "Renamed"}})
	expectJSON(t, r, http.StatusOK)
	for name, tok := range map[string]string{"patching session": first.Tokens.AccessToken, "other session": second.Tokens.AccessToken} {
		assert.Equal(t, "Renamed", meOf(tok).FullName, name)
	}

	// A role change ends both sessions (their cached profile with them);
	// the next login shows the new role.
	expectJSON(t, g.patchRole(t, super.Access, first.User.ID, map[string]any{"role": roleSeller}), http.StatusOK)
	for _, tok := range []string{first.Tokens.AccessToken, second.Tokens.AccessToken} {
		expectProblem(t, g.me(t, tok), http.StatusUnauthorized, "token_revoked")
	}
	third := g.login(t, email, defaultPassword)
	got := meOf(third.Tokens.AccessToken)
	assert.Equal(t, roleSeller, got.Role)
	assert.Equal(t, "Renamed", got.FullName)
	assert.Equal(t, roleSeller, meOf(third.Tokens.AccessToken).Role, "and from the cache")

	// An admin sets the seller's profile: the live, cached session shows it.
	r = g.do(t, req{Method: http.MethodPut, Path: "/api/admin/users/" + first.User.ID + "/seller-profile",
		Token: super.Access, Body: map[string]any{"tin": "123456789", "vat_payer": true}})
	expectJSON(t, r, http.StatusOK)
	r = g.me(t, third.Tokens.AccessToken)
	expectJSON(t, r, http.StatusOK)
	profile, _ := asMap(t, r)["user"].(map[string]any)["seller_profile"].(map[string]any)
	require.NotNil(t, profile, "seller_profile after the admin set it: %s", r)
	assert.Equal(t, "123456789", profile["tin"])
	assert.Equal(t, true, profile["vat_payer"])
}
