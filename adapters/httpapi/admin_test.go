package httpapi_test

import (
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

func TestListUsers_PageOfUsers(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleAdmin)
	bob := restoreUser(bobID, user.RoleSeller, user.StatusBlocked, "")
	f.users.EXPECT().List(gomock.Any(), ports.UserFilter{Query: "bob", Role: user.RoleSeller, Status: user.StatusBlocked, Page: 2, PageSize: 5}).
		Return([]*user.User{bob}, 6, nil)

	rec := f.call(http.MethodGet, "/api/admin/users?q=+bob+&role=seller&status=blocked&page=2&page_size=5", token, "")

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	assert.Equal(t, "no-store", rec.Header().Get("Cache-Control"))
	body := object(t, rec)
	assert.Equal(t, []string{"items", "page", "page_size", "total"}, keysOf(body))
	assert.Equal(t, float64(2), body["page"])
	assert.Equal(t, float64(5), body["page_size"])
	assert.Equal(t, float64(6), body["total"])
	items := body["items"].([]any)
	require.Len(t, items, 1)
	assert.Equal(t, userKeys, keysOf(items[0]))
	assert.Equal(t, "blocked", items[0].(map[string]any)["status"])
	assertNoSecrets(t, rec.Body.String())
}

func TestListUsers_AbsentOrEmptyParamsTakeTheDefaults(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleSuperAdmin)
	f.users.EXPECT().List(gomock.Any(), ports.UserFilter{Page: 1, PageSize: 20}).Return(nil, 0, nil).Times(2)

	for _, path := range []string{"/api/admin/users", "/api/admin/users?q=&role=&status=&page=&page_size="} {
		rec := f.call(http.MethodGet, path, token, "")
		require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
		assert.JSONEq(t, `{"items":[],"page":1,"page_size":20,"total":0}`, rec.Body.String(), path)
	}
}

func TestListUsers_BadParamsAre422NamingThem(t *testing.T) {
	f := newIdentity(t) // List is never reached
	token := f.bearer(annID, sessionID, user.RoleAdmin)
	cases := map[string][]string{
		"page=abc":                  {"page"},
		"page=1.5":                  {"page"},
		"page=0":                    {"page"},
		"page=-3":                   {"page"},
		"page=99999999999999999999": {"page"},
		"page_size=101":             {"page_size"},
		"page_size=0":               {"page_size"},
		"page_size=ten":             {"page_size"},
		"role=wizard":               {"role"},
		"status=deleted":            {"status"},
		"page=1&page=2":             {"page"},
		"page=x&page_size=y":        {"page", "page_size"},
		"role=admin&role=seller":    {"role"},
	}
	for query, fields := range cases {
		t.Run(query, func(t *testing.T) {
			rec := f.call(http.MethodGet, "/api/admin/users?"+query, token, "")
			assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, query)
			p := decodeProblem(t, rec)
			assert.Equal(t, "validation_failed", p.Code, query)
			assert.Equal(t, fields, fieldNames(p), query)
		})
	}
}

func TestAdminRoutes_RoleMatrix(t *testing.T) {
	// Who may enter each route at all; the use cases then apply the finer
	// rules (an admin blocking a super_admin, ...).
	cases := []struct {
		name               string
		method, path, body string
		allowed            []user.Role
	}{
		{"list", http.MethodGet, "/api/admin/users", "", []user.Role{user.RoleAdmin, user.RoleSuperAdmin}},
		{"role", http.MethodPatch, "/api/admin/users/" + bobID + "/role", `{"role":"seller"}`, []user.Role{user.RoleSuperAdmin}},
		{"status", http.MethodPatch, "/api/admin/users/" + bobID + "/status", `{"status":"active"}`, []user.Role{user.RoleAdmin, user.RoleSuperAdmin}},
	}
	for _, tc := range cases {
		for _, role := range []user.Role{user.RoleCustomer, user.RoleSeller, user.RoleAdmin, user.RoleSuperAdmin} {
			t.Run(tc.name+" as "+string(role), func(t *testing.T) {
				f := newIdentity(t)
				token := f.bearer(annID, sessionID, role)
				in := false
				for _, r := range tc.allowed {
					in = in || r == role
				}
				if in {
					// Past the middleware the use case runs: make it succeed.
					actor := restoreUser(annID, role, user.StatusActive, "")
					target := restoreUser(bobID, user.RoleCustomer, user.StatusActive, "")
					f.users.EXPECT().List(gomock.Any(), gomock.Any()).Return(nil, 0, nil).AnyTimes()
					f.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil).AnyTimes()
					f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(actor, nil).AnyTimes()
					f.users.EXPECT().GetForUpdate(gomock.Any(), bobID).Return(target, nil).AnyTimes()
					f.users.EXPECT().Update(gomock.Any(), target).Return(nil).AnyTimes()
					f.sessions.EXPECT().RevokeAllForUser(gomock.Any(), bobID, "", now).Return(nil).AnyTimes()
				}

				rec := f.call(tc.method, tc.path, token, tc.body)

				if in {
					assert.Equal(t, http.StatusOK, rec.Code, "%s %s as %s: %s", tc.method, tc.path, role, rec.Body.String())
				} else {
					assert.Equal(t, http.StatusForbidden, rec.Code, "%s %s as %s", tc.method, tc.path, role)
					assert.Equal(t, "forbidden", decodeProblem(t, rec).Code)
				}
			})
		}
	}
}

func TestChangeRole_ReturnsTheUser(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleSuperAdmin)
	target := restoreUser(bobID, user.RoleCustomer, user.StatusActive, "+998901234567")
	f.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
	f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(restoreUser(annID, user.RoleSuperAdmin, user.StatusActive, ""), nil)
	f.users.EXPECT().GetForUpdate(gomock.Any(), bobID).Return(target, nil)
	f.users.EXPECT().Update(gomock.Any(), target).Return(nil)
	f.sessions.EXPECT().RevokeAllForUser(gomock.Any(), bobID, "", now).Return(nil)

	rec := f.call(http.MethodPatch, "/api/admin/users/"+bobID+"/role", token, `{"role":"seller"}`)

	require.Equal(t, http.StatusOK, rec.Code, rec.Body.String())
	body := object(t, rec)
	assert.Equal(t, userKeys, keysOf(body), "the user itself, not wrapped")
	assert.Equal(t, "seller", body["role"])
	assert.Equal(t, bobID, body["id"])
	assertNoSecrets(t, rec.Body.String())
}

func TestChangeRole_Refusals(t *testing.T) {
	t.Run("unknown role", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleSuperAdmin)
		for _, body := range []string{`{"role":"wizard"}`, `{}`} {
			rec := f.call(http.MethodPatch, "/api/admin/users/"+bobID+"/role", token, body)
			assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, body)
			assert.Equal(t, []string{"role"}, fieldNames(decodeProblem(t, rec)), body)
		}
	})
	t.Run("own role", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleSuperAdmin)
		f.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(2, nil)
		f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(restoreUser(annID, user.RoleSuperAdmin, user.StatusActive, ""), nil)
		rec := f.call(http.MethodPatch, "/api/admin/users/"+annID+"/role", token, `{"role":"admin"}`)
		assert.Equal(t, http.StatusConflict, rec.Code)
		assert.Equal(t, "conflict", decodeProblem(t, rec).Code)
	})
	t.Run("no such user", func(t *testing.T) {
		f := newIdentity(t)
		token := f.bearer(annID, sessionID, user.RoleSuperAdmin)
		f.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(1, nil)
		f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(restoreUser(annID, user.RoleSuperAdmin, user.StatusActive, ""), nil)
		f.users.EXPECT().GetForUpdate(gomock.Any(), bobID).Return(nil, user.ErrNotFound)
		rec := f.call(http.MethodPatch, "/api/admin/users/"+bobID+"/role", token, `{"role":"admin"}`)
		assert.Equal(t, http.StatusNotFound, rec.Code)
	})
}

func TestChangeStatus_AdminCannotBlockSuperAdmin(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleAdmin)
	f.users.EXPECT().CountActiveSuperAdminsForUpdate(gomock.Any()).Return(2, nil)
	f.users.EXPECT().GetForUpdate(gomock.Any(), annID).Return(restoreUser(annID, user.RoleAdmin, user.StatusActive, ""), nil)
	f.users.EXPECT().GetForUpdate(gomock.Any(), bobID).Return(restoreUser(bobID, user.RoleSuperAdmin, user.StatusActive, ""), nil)

	rec := f.call(http.MethodPatch, "/api/admin/users/"+bobID+"/status", token, `{"status":"blocked"}`)

	assert.Equal(t, http.StatusForbidden, rec.Code)
	assert.Equal(t, "forbidden", decodeProblem(t, rec).Code)
}

func TestChangeStatus_BadStatusNamesIt(t *testing.T) {
	f := newIdentity(t)
	token := f.bearer(annID, sessionID, user.RoleAdmin)
	for _, body := range []string{`{"status":"deleted"}`, `{"status":true}`, `{}`} {
		rec := f.call(http.MethodPatch, "/api/admin/users/"+bobID+"/status", token, body)
		assert.Equal(t, http.StatusUnprocessableEntity, rec.Code, body)
		assert.Equal(t, []string{"status"}, fieldNames(decodeProblem(t, rec)), body)
	}
}

func TestAdminRoutes_NonUUIDIdIs404(t *testing.T) {
	f := newIdentity(t) // no repository call: the id is refused first
	token := f.bearer(annID, sessionID, user.RoleSuperAdmin)
	for _, id := range []string{"42", "not-a-uuid", "' OR 1=1 --", bobID[:35], bobID + "0", "urn:uuid:" + bobID} {
		for _, r := range []struct{ path, body string }{
			{"/role", `{"role":"admin"}`},
			{"/status", `{"status":"blocked"}`},
		} {
			t.Run(fmt.Sprintf("%q %s", id, strings.TrimPrefix(r.path, "/")), func(t *testing.T) {
				rec := f.call(http.MethodPatch, "/api/admin/users/"+pathEscape(id)+r.path, token, r.body)
				assert.Equal(t, http.StatusNotFound, rec.Code, "%q%s", id, r.path)
				assert.Equal(t, "not_found", decodeProblem(t, rec).Code)
			})
		}
	}
}

func pathEscape(s string) string { return url.PathEscape(s) }
