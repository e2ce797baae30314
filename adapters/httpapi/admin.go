package httpapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// AdminUseCases are the use cases behind /api/admin/users. Every field is
// required; Authenticate is the same use case /api/auth uses.
type AdminUseCases struct {
	Authenticate *auth.Authenticate
	ListUsers    *admin.ListUsers
	ChangeRole   *admin.ChangeRole
	ChangeStatus *admin.ChangeStatus
	// SetSellerProfile may be nil: the route is then not mounted.
	SetSellerProfile *admin.SetSellerProfile
}

// RegisterAdmin mounts the user administration routes (API.md, Admin). mw
// wraps every route of the group. The role checks here are the first line;
// the use cases check again against the database, so a stale token or a
// missed middleware cannot grant anything.
func RegisterAdmin(e *echo.Echo, uc AdminUseCases, mw ...echo.MiddlewareFunc) {
	h := adminHandlers{uc: uc}
	bearer := RequireAuth(uc.Authenticate)
	g := e.Group("/api/admin", mw...)
	g.GET("/users", h.listUsers, bearer, RequireRole(adminRoles...))
	g.PATCH("/users/:id/role", h.changeRole, bearer, RequireRole(user.RoleSuperAdmin))
	g.PATCH("/users/:id/status", h.changeStatus, bearer, RequireRole(adminRoles...))
	if uc.SetSellerProfile != nil {
		g.PUT("/users/:id/seller-profile", h.setSellerProfile, bearer, RequireRole(adminRoles...))
	}
}

type adminHandlers struct {
	uc AdminUseCases
}

type (
	changeRoleRequest struct {
		Role string `json:"role"`
	}
	changeStatusRequest struct {
		Status string `json:"status"`
	}
	// sellerProfileRequest: vat_payer is a pointer so that leaving it out is
	// "is required" rather than a silent false.
	sellerProfileRequest struct {
		TIN      *string `json:"tin"`
		PINFL    *string `json:"pinfl"`
		VATPayer *bool   `json:"vat_payer"`
	}
)

func (h adminHandlers) listUsers(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	verr := &domain.ValidationError{}
	in := admin.ListUsersInput{
		ActorRole: claims.Role,
		Query:     single(q, "q", verr),
		Role:      single(q, "role", verr),
		Status:    single(q, "status", verr),
		Page:      intParam(q, "page", verr),
		PageSize:  intParam(q, "page_size", verr),
	}
	// Values that do not even parse are reported here; ranges and the role and
	// status names are the use case's to check.
	if err := verr.OrNil(); err != nil {
		return err
	}
	page, err := h.uc.ListUsers.Handle(c.Request().Context(), in)
	if err != nil {
		return err
	}
	out := pageOf(page.Items, page.Page, page.PageSize, page.Total, userOf)
	noStore(c) // personal data
	return c.JSON(http.StatusOK, out)
}

// single returns the one value of a query parameter ("" when absent). A
// parameter given twice is refused: silently picking one would hide a bug in
// the client's link building.
func single(q url.Values, name string, verr *domain.ValidationError) string {
	vs := q[name]
	switch len(vs) {
	case 0:
		return ""
	case 1:
		return vs[0]
	}
	verr.Add(name, domain.MsgAtMostOnce)
	return ""
}

// intParam parses an integer query parameter. Absent or empty (a form's
// "?page=") is nil, so the use case applies its default; anything that is not
// a whole number is a 422 naming the parameter.
func intParam(q url.Values, name string, verr *domain.ValidationError) *int {
	s := single(q, name, verr)
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	switch {
	case errors.Is(err, strconv.ErrRange):
		verr.Add(name, domain.MsgOutOfRange)
		return nil
	case err != nil:
		verr.Add(name, domain.MsgInteger)
		return nil
	}
	return &n
}

func (h adminHandlers) changeRole(c echo.Context) error {
	claims, id, err := adminTarget(c)
	if err != nil {
		return err
	}
	var req changeRoleRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	u, err := h.uc.ChangeRole.Handle(c.Request().Context(), admin.ChangeRoleInput{ActorID: claims.UserID, TargetID: id, Role: req.Role})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, userOf(u))
}

func (h adminHandlers) changeStatus(c echo.Context) error {
	claims, id, err := adminTarget(c)
	if err != nil {
		return err
	}
	var req changeStatusRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	u, err := h.uc.ChangeStatus.Handle(c.Request().Context(), admin.ChangeStatusInput{ActorID: claims.UserID, TargetID: id, Status: req.Status})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, userOf(u))
}

func (h adminHandlers) setSellerProfile(c echo.Context) error {
	claims, id, err := adminTarget(c)
	if err != nil {
		return err
	}
	var req sellerProfileRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	if req.VATPayer == nil {
		return domain.Invalid("vat_payer", "is required")
	}
	u, err := h.uc.SetSellerProfile.Handle(c.Request().Context(), admin.SetSellerProfileInput{
		ActorID: claims.UserID, TargetID: id,
		Profile: fiscal.SellerProfileDraft{TIN: req.TIN, PINFL: req.PINFL, VATPayer: *req.VATPayer},
	})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, userOf(u))
}

// adminTarget returns the caller and the :id of the user acted on; an id
// that is not a UUID names no user (404).
func adminTarget(c echo.Context) (claims ports.AccessClaims, id string, err error) {
	if claims, err = mustClaims(c); err != nil {
		return claims, "", err
	}
	id = c.Param("id")
	if !domain.IsID(id) {
		return claims, "", fmt.Errorf("user id %q: %w", id, user.ErrNotFound)
	}
	return claims, id, nil
}
