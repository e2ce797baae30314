package httpapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/httpapi/openapi"
)

func docsFixture(t *testing.T) fixture {
	t.Helper()
	f := newFixture(t, nil)
	httpapi.RegisterDocs(f.e)
	return f
}

func TestDocs_OpenAPIDocument(t *testing.T) {
	f := docsFixture(t)
	rec := get(f.e, httpapi.OpenAPIPath)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "application/json", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	assert.Equal(t, openapi.Spec().ETag(), rec.Header().Get("ETag"))
	assert.Equal(t, httpapi.CSPAPI, rec.Header().Get("Content-Security-Policy"))
	assert.NotEmpty(t, rec.Header().Get("X-Request-ID"))

	doc, err := openapi3.NewLoader().LoadFromData(rec.Body.Bytes())
	require.NoError(t, err)
	require.NoError(t, doc.Validate(context.Background()))
	assert.NotNil(t, doc.Paths.Value("/api/openapi.json"), "the document documents itself")
}

func TestDocs_Page(t *testing.T) {
	f := docsFixture(t)
	rec := get(f.e, httpapi.DocsPath)
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/html; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"))
	assert.Equal(t, httpapi.CSPDocs, rec.Header().Get("Content-Security-Policy"))
	assert.Equal(t, "DENY", rec.Header().Get("X-Frame-Options"))
	body := rec.Body.String()
	assert.Contains(t, body, `<div id="swagger-ui"`)

	// Every script and stylesheet the page links is served from /docs/ with
	// its content type and a year-long cache for the hashed URL.
	for _, name := range []string{"swagger-ui-bundle.js", "init.js", "swagger-ui.css"} {
		a, ok := openapi.DocsAsset(name)
		require.True(t, ok)
		link := "docs/" + name + "?v=" + a.Hash
		require.Contains(t, body, link)
		rec := get(f.e, "/"+link)
		require.Equal(t, http.StatusOK, rec.Code, name)
		assert.Equal(t, a.ContentType, rec.Header().Get("Content-Type"), name)
		assert.Equal(t, "public, max-age=31536000, immutable", rec.Header().Get("Cache-Control"), name)
		assert.Equal(t, httpapi.CSPDocs, rec.Header().Get("Content-Security-Policy"), name)
		assert.Equal(t, "nosniff", rec.Header().Get("X-Content-Type-Options"), name)
		assert.Equal(t, len(a.Body), rec.Body.Len(), name)
	}
	assert.True(t, strings.HasPrefix(openapi.Page().ContentType, "text/html"))
}

func TestDocs_AssetCaching(t *testing.T) {
	f := docsFixture(t)
	a, _ := openapi.DocsAsset("swagger-ui.css")

	// Without the current hash the URL may serve other content later: revalidate.
	for _, path := range []string{"/docs/swagger-ui.css", "/docs/swagger-ui.css?v=0123456789abcdef01234567"} {
		rec := get(f.e, path)
		require.Equal(t, http.StatusOK, rec.Code, path)
		assert.Equal(t, "no-cache", rec.Header().Get("Cache-Control"), path)
		assert.Equal(t, "text/css; charset=utf-8", rec.Header().Get("Content-Type"), path)
	}

	for _, inm := range []string{a.ETag(), "W/" + a.ETag(), `"other", ` + a.ETag(), "*"} {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/docs/swagger-ui.css", nil)
		req.Header.Set("If-None-Match", inm)
		rec := serve(f.e, req)
		assert.Equal(t, http.StatusNotModified, rec.Code, inm)
		assert.Empty(t, rec.Body.String(), inm)
		assert.Equal(t, a.ETag(), rec.Header().Get("ETag"), inm)
	}
	req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, httpapi.OpenAPIPath, nil)
	req.Header.Set("If-None-Match", `"stale"`)
	assert.Equal(t, http.StatusOK, serve(f.e, req).Code)
	req = httptest.NewRequestWithContext(context.Background(), http.MethodGet, httpapi.OpenAPIPath, nil)
	req.Header.Set("If-None-Match", openapi.Spec().ETag())
	assert.Equal(t, http.StatusNotModified, serve(f.e, req).Code)
}

func TestDocs_LicensesAndUnknownAssets(t *testing.T) {
	f := docsFixture(t)
	rec := get(f.e, "/docs/LICENSE")
	require.Equal(t, http.StatusOK, rec.Code)
	assert.Equal(t, "text/plain; charset=utf-8", rec.Header().Get("Content-Type"))
	assert.Contains(t, rec.Body.String(), "Apache License")

	for _, path := range []string{"/docs/index.html", "/docs/nope.js", "/docs/..%2fopenapi.yaml", "/docs/swagger-ui.js.map"} {
		rec := get(f.e, path)
		assert.Equal(t, http.StatusNotFound, rec.Code, path)
		p := decodeProblem(t, rec)
		assert.Equal(t, "not_found", p.Code, path)
	}
}

func TestDocs_OtherMethods(t *testing.T) {
	f := docsFixture(t)
	rec := serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodPost, httpapi.OpenAPIPath, nil))
	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Contains(t, rec.Header().Get("Allow"), http.MethodGet)
	p := decodeProblem(t, rec)
	assert.Equal(t, "method_not_allowed", p.Code)
}

// The document lists the two documentation routes, and not the files the
// page loads (API.md: they are not API routes).
func TestDocs_DocumentListsDocsRoutes(t *testing.T) {
	var doc map[string]any
	require.NoError(t, json.Unmarshal(openapi.Spec().Body, &doc))
	paths := doc["paths"].(map[string]any)
	for _, p := range []string{"/api/openapi.json", "/docs"} {
		assert.Contains(t, paths, p)
	}
	assert.NotContains(t, paths, "/docs/{asset}")
}
