package httpapi

import (
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/analytics"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/domain"
)

// AnalyticsUseCases are the use cases behind /api/analytics. Every field is
// required; Authenticate is the same use case /api/auth uses.
type AnalyticsUseCases struct {
	Authenticate *auth.Authenticate
	Sales        *analytics.Sales
	Orders       *analytics.Orders
	Payments     *analytics.Payments
	TopProducts  *analytics.TopProducts
}

// RegisterAnalytics mounts the admin dashboards (API.md, Admin). The role
// check here is the first line; the use cases check again.
func RegisterAnalytics(e *echo.Echo, uc AnalyticsUseCases, mw ...echo.MiddlewareFunc) {
	h := analyticsHandlers{uc: uc}
	bearer, admins := RequireAuth(uc.Authenticate), RequireRole(adminRoles...)
	g := e.Group("/api/analytics", mw...)
	g.GET("/sales", h.sales, bearer, admins)
	g.GET("/orders", h.orders, bearer, admins)
	g.GET("/payments", h.payments, bearer, admins)
	g.GET("/top-products", h.topProducts, bearer, admins)
}

type analyticsHandlers struct {
	uc AnalyticsUseCases
}

// sales answers {currency, points}. from, to, interval and tz are passed
// through as given; the use case parses them and names a bad one (422).
func (h analyticsHandlers) sales(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	verr := &domain.ValidationError{}
	in := analytics.SalesInput{
		Actor:    actor,
		From:     single(q, "from", verr),
		To:       single(q, "to", verr),
		Interval: single(q, "interval", verr),
		TZ:       single(q, "tz", verr),
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	report, err := h.uc.Sales.Handle(c.Request().Context(), in)
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, salesOf(report.Points))
}

// orders answers {by_status}, every status present (0 when none).
func (h analyticsHandlers) orders(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	counts, err := h.uc.Orders.Handle(c.Request().Context(), analytics.OrdersInput{Actor: actor})
	if err != nil {
		return err
	}
	out := ordersByStatusJSON{ByStatus: make(map[string]int64, len(counts))}
	for s, n := range counts {
		out.ByStatus[string(s)] = n
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

// payments answers {by_provider}, every provider present (zeros when unused).
func (h analyticsHandlers) payments(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	totals, err := h.uc.Payments.Handle(c.Request().Context(), analytics.PaymentsInput{Actor: actor})
	if err != nil {
		return err
	}
	out := paymentsByProviderJSON{ByProvider: make(map[string]providerTotalJSON, len(totals))}
	for p, t := range totals {
		out.ByProvider[string(p)] = providerTotalJSON{Count: t.Count, Amount: t.Amount.Tiyin()}
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

// topProducts answers {items}, highest revenue first.
func (h analyticsHandlers) topProducts(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	verr := &domain.ValidationError{}
	limit := intParam(c.QueryParams(), "limit", verr)
	if err := verr.OrNil(); err != nil {
		return err
	}
	top, err := h.uc.TopProducts.Handle(c.Request().Context(), analytics.TopProductsInput{Actor: actor, Limit: limit})
	if err != nil {
		return err
	}
	out := topProductsJSON{Items: make([]topProductJSON, 0, len(top))}
	for _, p := range top {
		out.Items = append(out.Items, topProductJSON{ProductID: p.ProductID, Name: p.Name, Quantity: p.Quantity, Revenue: p.Revenue.Tiyin()})
	}
	noStore(c)
	return c.JSON(http.StatusOK, out)
}
