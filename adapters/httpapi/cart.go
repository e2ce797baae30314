package httpapi

import (
	"fmt"
	"net/http"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/auth"
	appcart "github.com/ultramarket/gateway/application/cart"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
)

// CartUseCases are the use cases behind /api/cart. Every field is required;
// Authenticate is the same use case /api/auth uses.
type CartUseCases struct {
	Authenticate *auth.Authenticate
	Get          *appcart.GetCart
	SetItem      *appcart.SetItem
	RemoveItem   *appcart.RemoveItem
	Clear        *appcart.Clear
}

// RegisterCart mounts /api/cart (API.md, Cart): the signed-in user's own
// cart, whatever their role.
func RegisterCart(e *echo.Echo, uc CartUseCases, mw ...echo.MiddlewareFunc) {
	h := cartHandlers{uc: uc}
	g := e.Group("/api/cart", mw...)
	bearer := RequireAuth(uc.Authenticate)
	g.GET("", h.get, bearer)
	g.DELETE("", h.clear, bearer)
	g.PUT("/items/:product_id", h.setItem, bearer)
	g.DELETE("/items/:product_id", h.removeItem, bearer)
}

type cartHandlers struct {
	uc CartUseCases
}

func (h cartHandlers) get(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	got, err := h.uc.Get.Handle(c.Request().Context(), appcart.GetCartInput{Actor: actor})
	if err != nil {
		return err
	}
	noStore(c) // priced now, and personal
	return c.JSON(http.StatusOK, cartOf(got))
}

func (h cartHandlers) setItem(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	id, err := cartProductID(c)
	if err != nil {
		return err
	}
	var req setCartItemRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	if req.Quantity == nil {
		return domain.Invalid("quantity", domain.MsgRequiredCartQuantity)
	}
	got, err := h.uc.SetItem.Handle(c.Request().Context(), appcart.SetItemInput{Actor: actor, ProductID: id, Quantity: *req.Quantity})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, cartOf(got))
}

func (h cartHandlers) removeItem(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	id, err := cartProductID(c)
	if err != nil {
		return err
	}
	got, err := h.uc.RemoveItem.Handle(c.Request().Context(), appcart.RemoveItemInput{Actor: actor, ProductID: id})
	if err != nil {
		return err
	}
	noStore(c)
	return c.JSON(http.StatusOK, cartOf(got))
}

func (h cartHandlers) clear(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	if err := h.uc.Clear.Handle(c.Request().Context(), appcart.ClearInput{Actor: actor}); err != nil {
		return err
	}
	return c.NoContent(http.StatusNoContent)
}

// cartProductID is the :product_id of a cart route; anything but a UUID
// names no product (404).
func cartProductID(c echo.Context) (string, error) {
	id := c.Param("product_id")
	if !domain.IsID(id) {
		return "", fmt.Errorf("product id %q: %w", id, product.ErrNotFound)
	}
	return id, nil
}
