package httpapi

import (
	"fmt"
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/admin"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
)

// OrderUseCases are the use cases behind /api/orders. Every field is
// required; Authenticate is the same use case /api/auth uses.
type OrderUseCases struct {
	Authenticate *auth.Authenticate
	Place        *orders.PlaceOrder
	List         *orders.ListOrders
	Get          *orders.GetOrder
	Cancel       *orders.CancelOrder
	ChangeStatus *orders.ChangeOrderStatus
	// Refunds is the refund audit shown to admins on GET /api/orders/:id.
	Refunds *admin.OrderRefunds
}

// HeaderIdempotencyKey makes POST /api/orders safe to retry.
const HeaderIdempotencyKey = "Idempotency-Key"

// headerIdempotentReplayed tells a client that a 201 is the first answer to
// its Idempotency-Key again, not a new order.
const headerIdempotentReplayed = "Idempotent-Replayed"

// RegisterOrders mounts /api/orders (API.md, Orders). Every route needs a
// bearer token; any role may buy. Who may see or cancel an order is the use
// cases' business (anyone but the owner and admins is told 404); the status
// route is for admins only.
func RegisterOrders(e *echo.Echo, uc OrderUseCases, mw ...echo.MiddlewareFunc) {
	h := orderHandlers{uc: uc}
	bearer := RequireAuth(uc.Authenticate)
	g := e.Group("/api/orders", mw...)
	g.POST("", h.place, bearer)
	g.GET("", h.list, bearer)
	g.GET("/:id", h.get, bearer)
	g.POST("/:id/cancel", h.cancel, bearer)
	g.PATCH("/:id/status", h.changeStatus, bearer, RequireRole(adminRoles...))
}

type orderHandlers struct {
	uc OrderUseCases
}

func (h orderHandlers) place(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	key, err := idempotencyKey(c)
	if err != nil {
		return err
	}
	var req placeOrderRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	in := orders.PlaceOrderInput{
		Actor: actor,
		ShippingAddress: order.Address{
			Region: req.ShippingAddress.Region, City: req.ShippingAddress.City,
			Street: req.ShippingAddress.Street, Phone: req.ShippingAddress.Phone,
		},
		Note:           req.Note,
		IdempotencyKey: key,
		RequestHash:    req.requestHash(),
	}
	if req.Items != nil { // absent or null: order the cart
		in.Items = make([]orders.ItemInput, len(req.Items))
		for i, it := range req.Items {
			in.Items[i] = orders.ItemInput{ProductID: it.ProductID, Quantity: it.Quantity}
		}
	}
	o, replayed, err := h.uc.Place.Handle(c.Request().Context(), in)
	if err != nil {
		return err
	}
	hdr := c.Response().Header()
	hdr.Set(echo.HeaderLocation, "/api/orders/"+o.ID())
	if replayed {
		hdr.Set(headerIdempotentReplayed, "true")
	}
	noStore(c)
	return c.JSON(http.StatusCreated, orderOf(o))
}

// idempotencyKey reads the optional Idempotency-Key header. Its length is
// the use case's to check (422 naming the header); sending it twice is
// refused here, since which of the two counts would be a guess.
func idempotencyKey(c echo.Context) (string, error) {
	values := c.Request().Header.Values(HeaderIdempotencyKey)
	switch len(values) {
	case 0:
		return "", nil
	case 1:
		return strings.TrimSpace(values[0]), nil
	}
	return "", domain.Invalid(orders.IdempotencyKeyField, domain.MsgAtMostOnce)
}

func (h orderHandlers) list(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	q := c.QueryParams()
	verr := &domain.ValidationError{}
	in := orders.ListOrdersInput{
		Actor:    actor,
		Status:   single(q, "status", verr),
		UserID:   uuidParam(q, "user_id", verr),
		Page:     intParam(q, "page", verr),
		PageSize: intParam(q, "page_size", verr),
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	page, err := h.uc.List.Handle(c.Request().Context(), in)
	if err != nil {
		return err
	}
	out := pageOf(page.Items, page.Page, page.PageSize, page.Total, orderOf)
	noStore(c)
	return c.JSON(http.StatusOK, out)
}

func (h orderHandlers) get(c echo.Context) error {
	actor, id, err := orderTarget(c)
	if err != nil {
		return err
	}
	o, err := h.uc.Get.Handle(c.Request().Context(), orders.GetOrderInput{Actor: actor, ID: id})
	if err != nil {
		return err
	}
	noStore(c)
	if !actor.IsAdmin() {
		return c.JSON(http.StatusOK, orderOf(o))
	}
	refunds, err := h.uc.Refunds.Handle(c.Request().Context(), actor, o.ID())
	if err != nil {
		return err
	}
	return c.JSON(http.StatusOK, orderWithRefunds(o, refunds))
}

func (h orderHandlers) cancel(c echo.Context) error {
	actor, id, err := orderTarget(c)
	if err != nil {
		return err
	}
	if err := Bind(c, &emptyRequest{}); err != nil { // no body, or {}
		return err
	}
	o, err := h.uc.Cancel.Handle(c.Request().Context(), orders.CancelOrderInput{Actor: actor, ID: id})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, orderOf(o))
}

func (h orderHandlers) changeStatus(c echo.Context) error {
	actor, id, err := orderTarget(c)
	if err != nil {
		return err
	}
	var req changeOrderStatusRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	o, err := h.uc.ChangeStatus.Handle(c.Request().Context(), orders.ChangeOrderStatusInput{Actor: actor, ID: id, Status: req.Status})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, orderOf(o))
}

// orderTarget is the caller and the :id of an order route; anything but a
// UUID names no order (404).
func orderTarget(c echo.Context) (actor user.Actor, id string, err error) {
	if actor, err = mustActor(c); err != nil {
		return actor, "", err
	}
	id = c.Param("id")
	if !domain.IsID(id) {
		return actor, "", fmt.Errorf("order id %q: %w", id, order.ErrNotFound)
	}
	return actor, id, nil
}
