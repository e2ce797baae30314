package httpapi

import (
	"fmt"
	"net/http"
	"time"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/products"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ProductUseCases are the use cases behind /api/products. Every use case is
// required; Authenticate is the same use case /api/auth uses. CacheTTL
// (CATALOG_CACHE_TTL) turns on the anonymous read cache (product_reads.go),
// off when zero; Clock times it (nil: the wall clock).
type ProductUseCases struct {
	Authenticate *auth.Authenticate
	List         *products.ListProducts
	Get          *products.GetProduct
	Create       *products.CreateProduct
	Replace      *products.ReplaceProduct
	Delete       *products.DeleteProduct
	CacheTTL     time.Duration
	Clock        ports.Clock
}

// sellerRoles may put products up for sale.
var sellerRoles = []user.Role{user.RoleSeller, user.RoleAdmin, user.RoleSuperAdmin}

// RegisterProducts mounts /api/products (API.md, Products). Reading is open
// to anyone; a bearer token, when sent, must be valid and lets a seller or an
// admin see inactive products. Writing needs a seller or admin role; the use
// cases then decide ownership (a seller edits only their own products).
func RegisterProducts(e *echo.Echo, uc ProductUseCases, mw ...echo.MiddlewareFunc) {
	h := productHandlers{uc: uc, cache: newReadCache(uc.CacheTTL, uc.Clock)}
	optional := OptionalAuth(uc.Authenticate)
	bearer := RequireAuth(uc.Authenticate)
	g := e.Group("/api/products", mw...)
	g.GET("", h.list, optional)
	g.GET("/:id", h.get, optional)
	g.POST("", h.create, bearer, RequireRole(sellerRoles...))
	g.PUT("/:id", h.replace, bearer, RequireRole(sellerRoles...))
	g.DELETE("/:id", h.delete, bearer, RequireRole(adminRoles...))
}

// OptionalAuth is RequireAuth for routes open to anyone: a request without
// an Authorization header goes through anonymously, and one with it is
// checked exactly like RequireAuth does (a bad or ended token is a 401, not
// silently anonymous, so a client learns its session is gone).
func OptionalAuth(authenticate *auth.Authenticate) echo.MiddlewareFunc {
	required := RequireAuth(authenticate)
	return func(next echo.HandlerFunc) echo.HandlerFunc {
		checked := required(next)
		return func(c echo.Context) error {
			if c.Request().Header.Get(echo.HeaderAuthorization) == "" {
				return next(c)
			}
			return checked(c)
		}
	}
}

type productHandlers struct {
	uc    ProductUseCases
	cache *readCache // nil: no cache
}

func (h productHandlers) list(c echo.Context) error {
	q := c.QueryParams()
	verr := &domain.ValidationError{}
	in := products.ListProductsInput{
		Actor:    actorFrom(c),
		Q:        single(q, "q", verr),
		Category: single(q, "category", verr),
		SellerID: uuidParam(q, "seller_id", verr),
		Page:     intParam(q, "page", verr),
		PageSize: intParam(q, "page_size", verr),
	}
	if err := verr.OrNil(); err != nil {
		return err
	}
	return serveRead(c, h.cache, func() (any, error) {
		page, err := h.uc.List.Handle(c.Request().Context(), in)
		if err != nil {
			return nil, err
		}
		return pageOf(page.Items, page.Page, page.PageSize, page.Total, productOf), nil
	})
}

func (h productHandlers) get(c echo.Context) error {
	id, err := productID(c)
	if err != nil {
		return err
	}
	return serveRead(c, h.cache, func() (any, error) {
		p, err := h.uc.Get.Handle(c.Request().Context(), products.GetProductInput{Actor: actorFrom(c), ID: id})
		if err != nil {
			return nil, err
		}
		return productOf(p), nil
	})
}

func (h productHandlers) create(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	var req productRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	d, err := req.draft()
	if err != nil {
		return err
	}
	p, err := h.uc.Create.Handle(c.Request().Context(), products.CreateProductInput{Actor: actor, Draft: d})
	if err != nil {
		return err
	}
	h.cache.purge()
	c.Response().Header().Set(echo.HeaderLocation, "/api/products/"+p.ID())
	return c.JSON(http.StatusCreated, productOf(p))
}

func (h productHandlers) replace(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	id, err := productID(c)
	if err != nil {
		return err
	}
	var req productRequest
	if err := Bind(c, &req); err != nil {
		return err
	}
	d, err := req.draft()
	if err != nil {
		return err
	}
	p, err := h.uc.Replace.Handle(c.Request().Context(), products.ReplaceProductInput{Actor: actor, ID: id, Draft: d})
	if err != nil {
		return err
	}
	h.cache.purge()
	return c.JSON(http.StatusOK, productOf(p))
}

func (h productHandlers) delete(c echo.Context) error {
	actor, err := mustActor(c)
	if err != nil {
		return err
	}
	id, err := productID(c)
	if err != nil {
		return err
	}
	if err := h.uc.Delete.Handle(c.Request().Context(), products.DeleteProductInput{Actor: actor, ID: id}); err != nil {
		return err
	}
	h.cache.purge()
	return c.NoContent(http.StatusNoContent)
}

// productID is the :id of a product route; anything but a UUID names no
// product (404), before the catalog is asked.
func productID(c echo.Context) (string, error) {
	id := c.Param("id")
	if !domain.IsID(id) {
		return "", fmt.Errorf("product id %q: %w", id, product.ErrNotFound)
	}
	return id, nil
}

// privateIfSignedIn marks an answer that depends on who asked (a seller
// sees their inactive products, an admin everyone's): it varies with
// Authorization, and a signed-in caller's view stays out of shared caches.
func privateIfSignedIn(c echo.Context) {
	h := c.Response().Header()
	h.Add(echo.HeaderVary, echo.HeaderAuthorization)
	if _, ok := ClaimsFrom(c); ok {
		h.Set(echo.HeaderCacheControl, "private, no-store")
	}
}
