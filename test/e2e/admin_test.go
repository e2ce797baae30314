package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func (g *gateway) patchRole(t *testing.T, token, userID string, body any) response {
	t.Helper()
	return g.do(t, req{Method: http.MethodPatch, Path: "/api/admin/users/" + userID + "/role", Token: token, Body: body})
}

func (g *gateway) patchStatus(t *testing.T, token, userID string, body any) response {
	t.Helper()
	return g.do(t, req{Method: http.MethodPatch, Path: "/api/admin/users/" + userID + "/status", Token: token, Body: body})
}

func (g *gateway) listUsers(t *testing.T, token string, query url.Values) response {
	t.Helper()
	path := "/api/admin/users"
	if len(query) > 0 {
		path += "?" + query.Encode()
	}
	return g.get(t, path, token)
}

func (g *gateway) userRow(t *testing.T, id string) (role, status string) {
	t.Helper()
	var row struct {
		Role   string `db:"role"`
		Status string `db:"status"`
	}
	require.NoError(t, g.DB.Get(&row, `SELECT role, status FROM users WHERE id = $1`, id))
	return row.Role, row.Status
}

func TestIdentity_AdminListUsers(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	super := g.newAccount(t, roleSuperAdmin)
	admin := g.newAccount(t, roleAdmin)
	seller := g.newAccount(t, roleSeller)
	zebraEmail := uniqueEmail("zebra-unique")
	zebra := g.register(t, zebraEmail, defaultPassword)
	for i := 0; i < 3; i++ {
		g.register(t, uniqueEmail("plain"), defaultPassword)
	}
	blockedEmail := uniqueEmail("blocked")
	blocked := g.register(t, blockedEmail, defaultPassword)
	g.setStatus(t, blockedEmail, "blocked")
	var total int
	require.NoError(t, g.DB.Get(&total, `SELECT count(*) FROM users`))
	require.Equal(t, 8, total)

	for _, who := range []account{admin, super} {
		r := g.listUsers(t, who.Access, nil)
		expectJSON(t, r, http.StatusOK)
		body := asMap(t, r)
		assertKeys(t, body, listKeys, "user list")
		items, ok := body["items"].([]any)
		require.True(t, ok, "items is an array")
		for _, it := range items {
			assertUserShape(t, it)
		}
		list := decode[userList](t, r)
		assert.Equal(t, 1, list.Page, "default page")
		assert.Equal(t, 20, list.PageSize, "default page_size")
		assert.Equal(t, total, list.Total)
		assert.Len(t, list.Items, total)
	}

	list := func(t *testing.T, q url.Values) userList {
		t.Helper()
		r := g.listUsers(t, admin.Access, q)
		expectJSON(t, r, http.StatusOK)
		return decode[userList](t, r)
	}

	t.Run("q", func(t *testing.T) {
		got := list(t, url.Values{"q": {"zebra-unique"}})
		assert.Equal(t, 1, got.Total)
		if assert.Len(t, got.Items, 1) {
			assert.Equal(t, zebra.User.ID, got.Items[0].ID)
			assert.Equal(t, zebraEmail, got.Items[0].Email)
		}
		none := list(t, url.Values{"q": {"nobody-has-this"}})
		assert.Equal(t, 0, none.Total)
		assert.NotNil(t, none.Items, "an empty list is [], not null")
		assert.Empty(t, none.Items)
	})

	t.Run("role", func(t *testing.T) {
		for role, want := range map[string]int{roleSeller: 1, roleAdmin: 1, roleSuperAdmin: 1, roleCustomer: 5} {
			t.Run(role, func(t *testing.T) {
				got := list(t, url.Values{"role": {role}})
				assert.Equal(t, want, got.Total, role)
				for _, u := range got.Items {
					assert.Equal(t, role, u.Role)
				}
			})
		}
		got := list(t, url.Values{"role": {roleSeller}})
		if assert.Len(t, got.Items, 1) {
			assert.Equal(t, seller.ID, got.Items[0].ID)
		}
	})

	t.Run("status", func(t *testing.T) {
		got := list(t, url.Values{"status": {"blocked"}})
		assert.Equal(t, 1, got.Total)
		if assert.Len(t, got.Items, 1) {
			assert.Equal(t, blocked.User.ID, got.Items[0].ID)
			assert.Equal(t, "blocked", got.Items[0].Status)
		}
		active := list(t, url.Values{"status": {"active"}, "role": {roleCustomer}})
		assert.Equal(t, 4, active.Total)
	})

	t.Run("paging", func(t *testing.T) {
		p1 := list(t, url.Values{"page": {"1"}, "page_size": {"3"}})
		p2 := list(t, url.Values{"page": {"2"}, "page_size": {"3"}})
		p3 := list(t, url.Values{"page": {"3"}, "page_size": {"3"}})
		p9 := list(t, url.Values{"page": {"9"}, "page_size": {"3"}})
		assert.Equal(t, 3, p1.PageSize)
		assert.Equal(t, 2, p2.Page)
		for _, p := range []userList{p1, p2, p3, p9} {
			assert.Equal(t, total, p.Total, "total counts every match, not the page")
		}
		assert.Len(t, p1.Items, 3)
		assert.Len(t, p2.Items, 3)
		assert.Len(t, p3.Items, 2)
		assert.Empty(t, p9.Items)
		seen := map[string]bool{}
		for _, p := range []userList{p1, p2, p3} {
			for _, u := range p.Items {
				assert.False(t, seen[u.ID], "pages do not overlap")
				seen[u.ID] = true
			}
		}
		assert.Len(t, seen, total)
		got := list(t, url.Values{"page_size": {"100"}})
		assert.Equal(t, 100, got.PageSize)
	})

	t.Run("bad filters", func(t *testing.T) {
		for _, c := range []struct {
			q     url.Values
			field string
		}{
			{url.Values{"page_size": {"0"}}, "page_size"},
			{url.Values{"page_size": {"101"}}, "page_size"},
			{url.Values{"page_size": {"-1"}}, "page_size"},
			{url.Values{"page": {"0"}}, "page"},
			{url.Values{"page": {"-3"}}, "page"},
			{url.Values{"role": {"wizard"}}, "role"},
			{url.Values{"status": {"zombie"}}, "status"},
		} {
			t.Run(c.q.Encode(), func(t *testing.T) {
				expectValidation(t, g.listUsers(t, admin.Access, c.q), c.field)
			})
		}
	})
}

func TestIdentity_AdminChangeRole(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	super := g.newAccount(t, roleSuperAdmin)
	admin := g.newAccount(t, roleAdmin)
	target := g.newAccount(t, roleCustomer)
	targetOther := g.login(t, target.Email, target.Password)

	t.Run("an admin may not", func(t *testing.T) {
		expectProblem(t, g.patchRole(t, admin.Access, target.ID, map[string]any{"role": roleSeller}), http.StatusForbidden, "forbidden")
		role, _ := g.userRow(t, target.ID)
		assert.Equal(t, roleCustomer, role)
		g.expectTokenWorks(t, target.Access)
	})

	t.Run("bad bodies", func(t *testing.T) {
		expectValidation(t, g.patchRole(t, super.Access, target.ID, map[string]any{"role": "wizard"}), "role")
		expectValidation(t, g.patchRole(t, super.Access, target.ID, rawJSON(`{"role": 7}`)), "role")
		expectProblem(t, g.patchRole(t, super.Access, target.ID, map[string]any{"role": roleSeller, "status": "active"}),
			http.StatusUnprocessableEntity, "validation_failed")
		expectProblem(t, g.patchRole(t, super.Access, target.ID, rawJSON(`{"role":`)), http.StatusBadRequest, "bad_request")
		g.expectTokenWorks(t, target.Access)
	})

	t.Run("unknown user", func(t *testing.T) {
		expectProblem(t, g.patchRole(t, super.Access, uuid.NewString(), map[string]any{"role": roleSeller}), http.StatusNotFound, "not_found")
	})

	t.Run("self", func(t *testing.T) {
		for _, role := range []string{roleAdmin, roleCustomer} {
			expectProblem(t, g.patchRole(t, super.Access, super.ID, map[string]any{"role": role}), http.StatusConflict, "conflict")
		}
		role, _ := g.userRow(t, super.ID)
		assert.Equal(t, roleSuperAdmin, role)
		g.expectTokenWorks(t, super.Access)
	})

	t.Run("super_admin changes a role and the sessions end", func(t *testing.T) {
		r := g.patchRole(t, super.Access, target.ID, map[string]any{"role": roleSeller})
		expectJSON(t, r, http.StatusOK)
		assertUserShape(t, asMap(t, r))
		u := decode[userDTO](t, r)
		assert.Equal(t, target.ID, u.ID)
		assert.Equal(t, roleSeller, u.Role)
		assert.Equal(t, target.Email, u.Email)

		g.expectTokenRevoked(t, target.Access)
		g.expectTokenRevoked(t, targetOther.Tokens.AccessToken)
		expectProblem(t, g.refresh(t, target.Refresh), http.StatusUnauthorized, "token_revoked")
		again := g.login(t, target.Email, target.Password)
		assert.Equal(t, roleSeller, again.User.Role)
		g.expectTokenWorks(t, super.Access)
	})

	t.Run("promotion to admin grants the admin routes", func(t *testing.T) {
		expectJSON(t, g.patchRole(t, super.Access, target.ID, map[string]any{"role": roleAdmin}), http.StatusOK)
		promoted := g.login(t, target.Email, target.Password)
		expectJSON(t, g.listUsers(t, promoted.Tokens.AccessToken, nil), http.StatusOK)
	})
}

func TestIdentity_AdminChangeStatus(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	super := g.newAccount(t, roleSuperAdmin)
	admin := g.newAccount(t, roleAdmin)
	customer := g.newAccount(t, roleCustomer)
	customerOther := g.login(t, customer.Email, customer.Password)

	t.Run("bad bodies", func(t *testing.T) {
		expectValidation(t, g.patchStatus(t, admin.Access, customer.ID, map[string]any{"status": "frozen"}), "status")
		expectValidation(t, g.patchStatus(t, admin.Access, customer.ID, rawJSON(`{"status": true}`)), "status")
		expectProblem(t, g.patchStatus(t, admin.Access, customer.ID, rawJSON(`{"status"`)), http.StatusBadRequest, "bad_request")
		g.expectTokenWorks(t, customer.Access)
	})

	t.Run("unknown user", func(t *testing.T) {
		expectProblem(t, g.patchStatus(t, admin.Access, uuid.NewString(), map[string]any{"status": "blocked"}), http.StatusNotFound, "not_found")
	})

	t.Run("admin blocks a customer", func(t *testing.T) {
		r := g.patchStatus(t, admin.Access, customer.ID, map[string]any{"status": "blocked"})
		expectJSON(t, r, http.StatusOK)
		assertUserShape(t, asMap(t, r))
		u := decode[userDTO](t, r)
		assert.Equal(t, customer.ID, u.ID)
		assert.Equal(t, "blocked", u.Status)
		assert.Equal(t, roleCustomer, u.Role)

		g.expectTokenRevoked(t, customer.Access)
		g.expectTokenRevoked(t, customerOther.Tokens.AccessToken)
		expectProblem(t, g.refresh(t, customer.Refresh), http.StatusUnauthorized, "token_revoked")
		expectProblem(t, g.loginWith(t, customer.Email, customer.Password, nil), http.StatusForbidden, "forbidden")
		expectProblem(t, g.loginWith(t, customer.Email, "Not-The-Password-99", nil), http.StatusUnauthorized, "invalid_credentials")
	})

	t.Run("admin unblocks", func(t *testing.T) {
		r := g.patchStatus(t, admin.Access, customer.ID, map[string]any{"status": "active"})
		expectJSON(t, r, http.StatusOK)
		assert.Equal(t, "active", decode[userDTO](t, r).Status)
		g.login(t, customer.Email, customer.Password)
	})

	t.Run("admin may not block a super_admin", func(t *testing.T) {
		expectProblem(t, g.patchStatus(t, admin.Access, super.ID, map[string]any{"status": "blocked"}), http.StatusForbidden, "forbidden")
		_, status := g.userRow(t, super.ID)
		assert.Equal(t, "active", status)
		g.expectTokenWorks(t, super.Access)
	})

	t.Run("admin may not block or unblock an admin", func(t *testing.T) {
		// API.md: an admin (not super) may block or unblock only customers and
		// sellers; an admin or super_admin target is 403, themself included.
		other := g.newAccount(t, roleAdmin)
		expectProblem(t, g.patchStatus(t, admin.Access, other.ID, map[string]any{"status": "blocked"}), http.StatusForbidden, "forbidden")
		expectProblem(t, g.patchStatus(t, admin.Access, admin.ID, map[string]any{"status": "blocked"}), http.StatusForbidden, "forbidden")
		_, status := g.userRow(t, other.ID)
		assert.Equal(t, "active", status)
		g.expectTokenWorks(t, other.Access)
		g.expectTokenWorks(t, admin.Access)

		// Unblocking is the same power: a blocked admin stays blocked.
		expectJSON(t, g.patchStatus(t, super.Access, other.ID, map[string]any{"status": "blocked"}), http.StatusOK)
		expectProblem(t, g.patchStatus(t, admin.Access, other.ID, map[string]any{"status": "active"}), http.StatusForbidden, "forbidden")
		_, status = g.userRow(t, other.ID)
		assert.Equal(t, "blocked", status)
		// The super_admin may.
		expectJSON(t, g.patchStatus(t, super.Access, other.ID, map[string]any{"status": "active"}), http.StatusOK)
		g.login(t, other.Email, other.Password)
	})

	t.Run("super_admin may not block self", func(t *testing.T) {
		expectProblem(t, g.patchStatus(t, super.Access, super.ID, map[string]any{"status": "blocked"}), http.StatusConflict, "conflict")
		_, status := g.userRow(t, super.ID)
		assert.Equal(t, "active", status)
		g.expectTokenWorks(t, super.Access)
	})

	t.Run("super_admin blocks an admin", func(t *testing.T) {
		r := g.patchStatus(t, super.Access, admin.ID, map[string]any{"status": "blocked"})
		expectJSON(t, r, http.StatusOK)
		g.expectTokenRevoked(t, admin.Access)
	})

	t.Run("super_admin blocks another super_admin", func(t *testing.T) {
		other := g.newAccount(t, roleSuperAdmin)
		r := g.patchStatus(t, super.Access, other.ID, map[string]any{"status": "blocked"})
		expectJSON(t, r, http.StatusOK)
		g.expectTokenRevoked(t, other.Access)
		// super is now the last active super_admin and still cannot block themself.
		expectProblem(t, g.patchStatus(t, super.Access, super.ID, map[string]any{"status": "blocked"}), http.StatusConflict, "conflict")
	})
}

// TestIdentity_LastActiveSuperAdminSurvivesRaces: two super_admins demote or
// block each other at the same moment. Whatever the interleaving, at most one
// of them wins and one active super_admin is left (API.md: demoting or
// blocking the last active super_admin → 409 conflict). The loser sees 409
// conflict; or 401 token_revoked when the winner's change ended its session
// first; or 403 forbidden when the change landed after its token was checked
// (it is no longer an active super_admin).
func TestIdentity_LastActiveSuperAdminSurvivesRaces(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	survivor := g.newAccount(t, roleSuperAdmin)

	for round := 0; round < 6; round++ {
		op, body := "role", map[string]any{"role": roleAdmin}
		if round%2 == 1 {
			op, body = "status", map[string]any{"status": "blocked"}
		}
		t.Run(fmt.Sprintf("round %d %s", round, op), func(t *testing.T) {
			rival := g.newAccount(t, roleSuperAdmin)
			pair := []account{survivor, rival}
			results := make([]response, 2)
			errs := make([]error, 2)
			start := make(chan struct{})
			var wg sync.WaitGroup
			for i := range pair {
				actor, victim := pair[i], pair[1-i]
				wg.Add(1)
				go func() {
					defer wg.Done()
					<-start
					results[i], errs[i] = rawSend(g.BaseURL, req{Method: http.MethodPatch,
						Path: "/api/admin/users/" + victim.ID + "/" + op, Token: actor.Access, Body: body})
				}()
			}
			close(start)
			wg.Wait()
			require.NoError(t, errs[0])
			require.NoError(t, errs[1])

			wins := 0
			for i, r := range results {
				switch r.Status {
				case http.StatusOK:
					wins++
				case http.StatusConflict:
					expectProblem(t, r, http.StatusConflict, "conflict")
				case http.StatusUnauthorized:
					expectProblem(t, r, http.StatusUnauthorized, "token_revoked")
				case http.StatusForbidden:
					// The rival's change landed between this request's token
					// check and its use case, which reads the actor's role
					// from the database: no longer a super_admin.
					expectProblem(t, r, http.StatusForbidden, "forbidden")
				default:
					t.Errorf("actor %d: unexpected %s", i, r)
				}
			}
			assert.LessOrEqual(t, wins, 1, "both super_admins cannot remove each other: %s / %s", results[0], results[1])

			var active []string
			require.NoError(t, g.DB.Select(&active,
				`SELECT id::text FROM users WHERE role = 'super_admin' AND status = 'active'`))
			require.NotEmpty(t, active, "the last active super_admin was removed: %s / %s", results[0], results[1])
			// The next round pairs a new rival with whoever is left.
			for _, a := range pair {
				if a.ID == active[0] {
					survivor = a
				}
			}
			g.expectTokenWorks(t, survivor.Access)
		})
	}
}
