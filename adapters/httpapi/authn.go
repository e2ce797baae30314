package httpapi

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// claimsKey is where RequireAuth leaves the caller's claims in the Echo context.
const claimsKey = "httpapi.claims"

// accessKey is where RequireAuth leaves what the session check read (the
// cached profile GET /api/auth/me answers from).
const accessKey = "httpapi.access"

// errNoBearer answers a request without a bearer token: 401 unauthorized.
var errNoBearer = fmt.Errorf("no bearer token: %w", domain.ErrUnauthorized)

// wwwAuthenticateInvalid tells an RFC 6750 client that the token it sent was
// refused (as opposed to none being sent), so it knows to refresh or log in.
const wwwAuthenticateInvalid = `Bearer realm="ultramarket", error="invalid_token"`

// RequireAuth lets a request through only with a valid access token of a live
// session: `Authorization: Bearer <token>` (the scheme in any case, RFC 7235),
// verified by the Authenticate use case (the signature, then one session-store
// lookup; no database). A missing header or another scheme is 401
// unauthorized; a refused token is 401 token_expired, token_revoked or
// unauthorized, as API.md fixes. The claims are then in ClaimsFrom(c), and the
// user id in the request's context (UserIDFromContext).
func RequireAuth(authenticate *auth.Authenticate) echo.MiddlewareFunc {
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			req := c.Request()
			token, ok := bearerToken(req.Header.Get(echo.HeaderAuthorization))
			if !ok {
				return errNoBearer // the error handler adds WWW-Authenticate: Bearer
			}
			claims, access, err := authenticate.HandleAccess(req.Context(), auth.AuthenticateInput{AccessToken: token})
			if err != nil {
				if errors.Is(err, domain.ErrUnauthorized) {
					c.Response().Header().Set(echo.HeaderWWWAuthenticate, wwwAuthenticateInvalid)
				}
				return err
			}
			c.Set(claimsKey, claims)
			c.Set(accessKey, access)
			c.SetRequest(req.WithContext(withUserID(req.Context(), claims.UserID)))
			return next(c)
		}
	}
}

// bearerToken splits an Authorization header value. Only the Bearer scheme is
// accepted; anything else (Basic, a bare token, an empty token) is no token.
func bearerToken(header string) (string, bool) {
	scheme, token, ok := strings.Cut(strings.TrimSpace(header), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") {
		return "", false
	}
	token = strings.TrimSpace(token)
	return token, token != ""
}

// ClaimsFrom returns the claims RequireAuth verified for this request; false
// on a route without RequireAuth.
func ClaimsFrom(c echo.Context) (ports.AccessClaims, bool) {
	claims, ok := c.Get(claimsKey).(ports.AccessClaims)
	return claims, ok
}

// accessFrom returns what RequireAuth's session check read; the zero value
// (no cached profile) on a route without RequireAuth.
func accessFrom(c echo.Context) ports.SessionAccess {
	access, _ := c.Get(accessKey).(ports.SessionAccess)
	return access
}

// RequireRole lets through only callers whose token carries one of roles:
// 403 forbidden otherwise. It goes after RequireAuth; without it in front it
// answers 401, so a wiring mistake fails closed. The role in the claims is
// the one the token's session holds (RequireAuth refuses any other), and it
// is current because a role change ends the user's sessions.
func RequireRole(roles ...user.Role) echo.MiddlewareFunc {
	allowed := slices.Clone(roles)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		return func(c echo.Context) error {
			claims, ok := ClaimsFrom(c)
			if !ok {
				return errNoBearer
			}
			if !slices.Contains(allowed, claims.Role) {
				return fmt.Errorf("role %q may not %s %s: %w", claims.Role, c.Request().Method, c.Path(), domain.ErrForbidden)
			}
			return next(c)
		}
	}
}

// adminRoles are the roles API.md means by "admin": super_admin is included.
var adminRoles = []user.Role{user.RoleAdmin, user.RoleSuperAdmin}

// mustClaims is for handlers behind RequireAuth: missing claims are a wiring
// bug, answered 401 rather than letting an anonymous request act.
func mustClaims(c echo.Context) (ports.AccessClaims, error) {
	claims, ok := ClaimsFrom(c)
	if !ok {
		return ports.AccessClaims{}, errNoBearer
	}
	return claims, nil
}

type userIDKey struct{}

func withUserID(ctx context.Context, id string) context.Context {
	return context.WithValue(ctx, userIDKey{}, id)
}

// UserIDFromContext returns the authenticated user's id of the request ctx
// belongs to, or "" before RequireAuth (or on a public route). A log handler
// can add it to every line the way NewLogHandler adds request_id.
func UserIDFromContext(ctx context.Context) string {
	id, _ := ctx.Value(userIDKey{}).(string)
	return id
}
