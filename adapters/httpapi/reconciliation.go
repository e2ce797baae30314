package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/reconciliation"
	"github.com/ultramarket/gateway/domain"
	domrecon "github.com/ultramarket/gateway/domain/reconciliation"
	"github.com/ultramarket/gateway/domain/user"
)

// ReconciliationUseCases are the use cases behind /api/admin/reconciliation.
type ReconciliationUseCases struct {
	Authenticate *auth.Authenticate
	List         *reconciliation.ListIssues
	Resolve      *reconciliation.ResolveIssue
}

// RegisterReconciliation mounts GET /api/admin/reconciliation and POST
// /api/admin/reconciliation/:id/resolve (API.md, Admin), for admins only;
// the use cases check the role again.
func RegisterReconciliation(e *echo.Echo, uc ReconciliationUseCases, mw ...echo.MiddlewareFunc) {
	h := reconciliationHandlers{uc: uc}
	bearer := RequireAuth(uc.Authenticate)
	g := e.Group("/api/admin/reconciliation", mw...)
	g.GET("", h.list, bearer, RequireRole(adminRoles...))
	g.POST("/:id/resolve", h.resolve, bearer, RequireRole(adminRoles...))
}

type reconciliationHandlers struct {
	uc ReconciliationUseCases
}

// issueJSON is API.md's reconciliation_issue. Fields an issue may lack
// (order, provider, its transaction id, the resolution) are null.
type issueJSON struct {
	ID                    string     `json:"id"`
	Kind                  string     `json:"kind"`
	OrderID               *string    `json:"order_id"`
	Provider              *string    `json:"provider"`
	ProviderTransactionID *string    `json:"provider_transaction_id"`
	Detail                string     `json:"detail"`
	Status                string     `json:"status"`
	DetectedAt            time.Time  `json:"detected_at"`
	ResolvedAt            *time.Time `json:"resolved_at"`
	ResolvedBy            *string    `json:"resolved_by"`
	Note                  *string    `json:"note"`
}

func issueOf(i *domrecon.Issue) issueJSON {
	return issueJSON{
		ID: i.ID(), Kind: string(i.Kind()), OrderID: nullable(i.OrderID()), Provider: nullable(i.Provider()),
		ProviderTransactionID: nullable(i.ProviderTransactionID()), Detail: i.Detail(), Status: string(i.Status()),
		DetectedAt: ts(i.DetectedAt()), ResolvedAt: tsOrNull(i.ResolvedAt()), ResolvedBy: nullable(i.ResolvedBy()),
		Note: nullable(i.Note()),
	}
}

type resolveIssueRequest struct {
	Note string `json:"note"`
}

func (h reconciliationHandlers) list(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	verr := &domain.ValidationError{}
	in := reconciliation.ListIssuesInput{
		ActorRole: claims.Role,
		Status:    single(q, "status", verr),
		Kind:      single(q, "kind", verr),
		Page:      intParam(q, "page", verr),
		PageSize:  intParam(q, "page_size", verr),
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	page, err := h.uc.List.Handle(c.Request().Context(), in)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, pageOf(page.Items, page.Page, page.PageSize, page.Total, issueOf))
}

func (h reconciliationHandlers) resolve(c echo.Context) error {
	claims, err := mustClaims(c)
	if err != nil {
		return err
	}
	id := c.Param("id")
	if !domain.IsID(id) {
		return fmt.Errorf("reconciliation issue %q: %w", id, domrecon.ErrNotFound)
	}
	var req resolveIssueRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	i, err := h.uc.Resolve.Handle(c.Request().Context(), user.Actor{ID: claims.UserID, Role: claims.Role}, id, req.Note)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, issueOf(i))
}
