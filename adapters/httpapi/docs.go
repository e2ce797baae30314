package httpapi

import (
	"net/http"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/httpapi/openapi"
)

// Routes of the API documentation (API.md: the OpenAPI document and a page
// that renders it). Both live on the public listener; the security headers
// middleware gives /docs its own Content-Security-Policy (CSPDocs).
const (
	OpenAPIPath = "/api/openapi.json"
	DocsPath    = "/docs"
)

// Cache policies. The document and the page are revalidated with their ETag
// on every use, so a deploy shows at once; an asset requested with the hash
// the page links it with (?v=) cannot change and is cached for a year.
const (
	cacheRevalidate = "no-cache"
	cacheImmutable  = "public, max-age=31536000, immutable"
)

// RegisterDocs mounts GET /api/openapi.json (the OpenAPI document), GET
// /docs (Swagger UI) and GET /docs/:asset (the page's scripts, styles and
// licences). Everything is embedded in the binary (package openapi): the
// page loads nothing from elsewhere. Neither route is rate-limited (see
// ratePolicyFor) nor needs authentication.
func RegisterDocs(e *echo.Echo) {
	e.GET(OpenAPIPath, serveDocsAsset(openapi.Spec))
	e.GET(DocsPath, serveDocsAsset(openapi.Page))
	e.GET(DocsPath+"/:asset", docsAsset)
}

// serveDocsAsset serves the asset asset returns, asked for on each request:
// package openapi makes it on first use.
func serveDocsAsset(asset func() openapi.Asset) echo.HandlerFunc {
	return func(c echo.Context) error {
		return writeAsset(c, asset(), cacheRevalidate)
	}
}

func docsAsset(c echo.Context) error {
	a, ok := openapi.DocsAsset(c.Param("asset"))
	if !ok {
		return echo.ErrNotFound
	}
	cache := cacheRevalidate
	if c.QueryParam("v") == a.Hash {
		cache = cacheImmutable
	}
	return writeAsset(c, a, cache)
}

// writeAsset answers with the asset, or 304 when the client's If-None-Match
// names its ETag already.
func writeAsset(c echo.Context, a openapi.Asset, cacheControl string) error {
	h := c.Response().Header()
	h.Set(echo.HeaderCacheControl, cacheControl)
	h.Set("ETag", a.ETag())
	if etagMatches(c.Request().Header.Get("If-None-Match"), a.ETag()) {
		return c.NoContent(http.StatusNotModified)
	}
	return c.Blob(http.StatusOK, a.ContentType, a.Body)
}

// etagMatches implements If-None-Match's weak comparison (RFC 9110 §13.1.2):
// "*", or any listed tag equal to etag once a W/ prefix is dropped.
func etagMatches(header, etag string) bool {
	for _, tag := range strings.Split(header, ",") {
		tag = strings.TrimPrefix(strings.TrimSpace(tag), "W/")
		if tag == "*" || tag == etag {
			return true
		}
	}
	return false
}
