package e2e

import (
	"net/http"
	"testing"
)

// TestIdentity_AuthorizationMatrix calls every protected identity and admin
// route as each kind of caller and checks the status API.md implies:
// anonymous → 401 unauthorized; admin routes → 403 forbidden for customer and
// seller; the role PATCH → 403 for admin too; otherwise the route's success.
// Every cell gets fresh users and sessions, so cells do not depend on each
// other (a logout in one cell cannot break another).
func TestIdentity_AuthorizationMatrix(t *testing.T) {
	t.Parallel()
	g := newGateway(t, nil)
	const anonymous = "anonymous"
	callers := []string{anonymous, roleCustomer, roleSeller, roleAdmin, roleSuperAdmin}

	type route struct {
		name    string
		method  string
		path    func(f fixture) string
		body    func(f fixture) any
		success int
		// allowed lists the roles that may call it; nil means every signed-in role.
		allowed []string
	}
	admins := []string{roleAdmin, roleSuperAdmin}
	routes := []route{
		{name: "me", method: http.MethodGet, path: fixed("/api/auth/me"), success: http.StatusOK},
		{name: "sessions", method: http.MethodGet, path: fixed("/api/auth/sessions"), success: http.StatusOK},
		{name: "delete session", method: http.MethodDelete, success: http.StatusNoContent,
			path: func(f fixture) string { return "/api/auth/sessions/" + f.callerOther }},
		{name: "logout", method: http.MethodPost, path: fixed("/api/auth/logout"), body: emptyObject, success: http.StatusNoContent},
		{name: "logout-all", method: http.MethodPost, path: fixed("/api/auth/logout-all"), body: emptyObject, success: http.StatusNoContent},
		{name: "password", method: http.MethodPut, path: fixed("/api/auth/password"), success: http.StatusNoContent,
			body: func(fixture) any {
				return map[string]any{"current_password": defaultPassword, "new_password": "Quartz-Meadow-Falcon-38"}
			}},
		{name: "admin list users", method: http.MethodGet, path: fixed("/api/admin/users"), success: http.StatusOK, allowed: admins},
		{name: "admin patch role", method: http.MethodPatch, success: http.StatusOK, allowed: []string{roleSuperAdmin},
			path: func(f fixture) string { return "/api/admin/users/" + f.target.ID + "/role" },
			body: func(fixture) any { return map[string]any{"role": roleSeller} }},
		{name: "admin patch status", method: http.MethodPatch, success: http.StatusOK, allowed: admins,
			path: func(f fixture) string { return "/api/admin/users/" + f.target.ID + "/status" },
			body: func(fixture) any { return map[string]any{"status": "blocked"} }},
	}

	for _, rt := range routes {
		t.Run(rt.name, func(t *testing.T) {
			for _, who := range callers {
				t.Run(who, func(t *testing.T) {
					f := fixture{target: g.newAccount(t, roleCustomer)}
					token := ""
					if who != anonymous {
						acc := g.newAccount(t, who)
						f.caller = &acc
						token = acc.Access
						other := g.login(t, acc.Email, acc.Password)
						f.callerOther = g.currentSessionID(t, other.Tokens.AccessToken)
					} else {
						// Anonymous callers aim at real ids, so a 401 is not a 404 in disguise.
						f.callerOther = g.currentSessionID(t, f.target.Access)
					}
					var body any
					if rt.body != nil {
						body = rt.body(f)
					}
					r := g.do(t, req{Method: rt.method, Path: rt.path(f), Token: token, Body: body})

					switch {
					case who == anonymous:
						expectProblem(t, r, http.StatusUnauthorized, "unauthorized")
						// Nothing happened to the target.
						g.expectTokenWorks(t, f.target.Access)
					case rt.allowed != nil && !contains(rt.allowed, who):
						expectProblem(t, r, http.StatusForbidden, "forbidden")
						g.expectTokenWorks(t, f.target.Access)
					case rt.success == http.StatusNoContent:
						expectNoContent(t, r)
					default:
						expectJSON(t, r, rt.success)
					}
				})
			}
		})
	}
}

// fixture is what one matrix cell needs: the caller (nil when anonymous),
// another session of theirs, and a customer to act upon.
type fixture struct {
	caller      *account
	callerOther string // id of another session of the caller
	target      account
}

func fixed(p string) func(fixture) string { return func(fixture) string { return p } }

func emptyObject(fixture) any { return map[string]any{} }

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
