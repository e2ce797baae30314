package httpapi_test

import (
	"errors"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/golang/mock/gomock"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// whoami mounts a probe route behind RequireAuth (and mw) that echoes what the
// handler can see of the caller.
func (f identity) whoami(path string, mw ...echo.MiddlewareFunc) {
	chain := append([]echo.MiddlewareFunc{httpapi.RequireAuth(f.authenticate)}, mw...)
	f.e.GET(path, func(c echo.Context) error {
		claims, ok := httpapi.ClaimsFrom(c)
		if !ok {
			return errors.New("no claims")
		}
		return c.JSON(http.StatusOK, map[string]string{
			"user_id":     claims.UserID,
			"role":        string(claims.Role),
			"session_id":  claims.SessionID,
			"ctx_user_id": httpapi.UserIDFromContext(c.Request().Context()),
		})
	}, chain...)
}

func TestRequireAuth_ValidTokenReachesTheHandlerWithClaims(t *testing.T) {
	f := newIdentity(t)
	f.whoami("/probe")
	token := f.bearer(annID, sessionID, user.RoleSeller)

	for _, scheme := range []string{"Bearer", "bearer", "BEARER"} {
		rec := f.call(http.MethodGet, "/probe", "", "", "Authorization", scheme+" "+token)
		require.Equal(t, http.StatusOK, rec.Code, scheme)
		got := object(t, rec)
		assert.Equal(t, annID, got["user_id"])
		assert.Equal(t, "seller", got["role"])
		assert.Equal(t, sessionID, got["session_id"])
		assert.Equal(t, annID, got["ctx_user_id"], "the user id rides on the request context")
	}
}

func TestRequireAuth_MissingOrOtherSchemeIsUnauthorized(t *testing.T) {
	f := newIdentity(t) // no ParseAccess expected: a token-less request never reaches the issuer
	f.whoami("/probe")
	for name, header := range map[string]string{
		"missing":      "",
		"basic":        "Basic YWxhZGRpbjpvcGVuc2VzYW1l",
		"bare token":   "access.jwt",
		"no token":     "Bearer",
		"blank token":  "Bearer    ",
		"other scheme": "Token access.jwt",
	} {
		t.Run(name, func(t *testing.T) {
			rec := f.call(http.MethodGet, "/probe", "", "", "Authorization", header)
			assert.Equal(t, http.StatusUnauthorized, rec.Code)
			assert.Equal(t, "unauthorized", decodeProblem(t, rec).Code)
			assert.Equal(t, `Bearer realm="ultramarket"`, rec.Header().Get("WWW-Authenticate"))
		})
	}
}

func TestRequireAuth_RefusedTokens(t *testing.T) {
	cases := []struct {
		name             string
		parseErr, store  error
		held             user.Role // the session's role; the token claims customer
		status           int
		code             string
		wwwAuthenticated bool
	}{
		{"expired", session.ErrTokenExpired, nil, "", 401, "token_expired", true},
		{"garbage", session.ErrTokenInvalid, nil, "", 401, "unauthorized", true},
		{"session ended", nil, session.ErrRevoked, "", 401, "token_revoked", true},
		{"session expired", nil, session.ErrExpired, "", 401, "token_revoked", true},
		{"session store down", nil, errors.Join(errors.New("dial tcp: refused"), domain.ErrUnavailable), "", 503, "service_unavailable", false},
		{"session of another role", nil, nil, user.RoleSeller, 401, "unauthorized", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			f := newIdentity(t)
			f.whoami("/probe")
			if tc.parseErr != nil {
				f.tokens.EXPECT().ParseAccess("tok").Return(ports.AccessClaims{}, tc.parseErr)
			} else {
				f.tokens.EXPECT().ParseAccess("tok").Return(claimsFor(annID, sessionID, user.RoleCustomer), nil)
				f.sessions.EXPECT().CheckAccess(gomock.Any(), sessionID, annID, now).Return(ports.SessionAccess{Role: tc.held}, tc.store)
			}

			rec := f.call(http.MethodGet, "/probe", "tok", "")

			assert.Equal(t, tc.status, rec.Code)
			p := decodeProblem(t, rec)
			assert.Equal(t, tc.code, p.Code)
			if tc.wwwAuthenticated {
				assert.Equal(t, `Bearer realm="ultramarket", error="invalid_token"`, rec.Header().Get("WWW-Authenticate"))
			} else {
				assert.Empty(t, rec.Header().Get("WWW-Authenticate"))
			}
			assert.NotContains(t, f.logs.String(), "tok\"", "the token is never logged")
		})
	}
}

func TestRequireRole_Matrix(t *testing.T) {
	f := newIdentity(t)
	f.whoami("/admins", httpapi.RequireRole(user.RoleAdmin, user.RoleSuperAdmin))
	f.whoami("/supers", httpapi.RequireRole(user.RoleSuperAdmin))
	f.whoami("/sellers", httpapi.RequireRole(user.RoleSeller, user.RoleAdmin, user.RoleSuperAdmin))

	allowed := map[string][]user.Role{
		"/admins":  {user.RoleAdmin, user.RoleSuperAdmin},
		"/supers":  {user.RoleSuperAdmin},
		"/sellers": {user.RoleSeller, user.RoleAdmin, user.RoleSuperAdmin},
	}
	roles := []user.Role{user.RoleCustomer, user.RoleSeller, user.RoleAdmin, user.RoleSuperAdmin}
	for path, ok := range allowed {
		for _, role := range roles {
			t.Run(strings.TrimPrefix(path, "/")+" as "+string(role), func(t *testing.T) {
				token := f.bearer(annID, sessionID+string(role), role)
				rec := f.call(http.MethodGet, path, token, "")
				if slices.Contains(ok, role) {
					assert.Equal(t, http.StatusOK, rec.Code, "%s as %s", path, role)
				} else {
					assert.Equal(t, http.StatusForbidden, rec.Code, "%s as %s", path, role)
					assert.Equal(t, "forbidden", decodeProblem(t, rec).Code)
				}
			})
		}
	}
}

func TestRequireRole_WithoutRequireAuthFailsClosed(t *testing.T) {
	f := newIdentity(t)
	f.e.GET("/miswired", func(c echo.Context) error { return c.NoContent(http.StatusOK) }, httpapi.RequireRole(user.RoleCustomer))

	rec := f.call(http.MethodGet, "/miswired", "", "")
	assert.Equal(t, http.StatusUnauthorized, rec.Code)
}
