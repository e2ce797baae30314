package e2e

import (
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/test/testapp"
)

// echoParam matches an Echo path parameter (":id"); openAPIParam an OpenAPI
// one ("{id}").
var (
	echoParam    = regexp.MustCompile(`:([A-Za-z0-9_]+)`)
	openAPIParam = regexp.MustCompile(`\{([A-Za-z0-9_]+)\}`)
)

// endpoint is one method and path, the path in OpenAPI form ("{id}").
type endpoint struct{ method, path string }

func (e endpoint) String() string { return e.method + " " + e.path }

// shape is the path with its parameter names erased, so that a route and
// its documentation are matched even when they name a parameter differently
// (reported on its own).
func (e endpoint) shape() string {
	return e.method + " " + openAPIParam.ReplaceAllString(e.path, "{}")
}

// docsAssetRoute is the Echo route of the files the /docs page loads.
const docsAssetRoute = "/docs/:asset"

// registeredEndpoints lists the routes of the public listener, in OpenAPI
// form. Echo's own entries are left out: the not-found routes it adds for
// groups with middleware (method echo.RouteNotFound) are not routes a
// client can call.
func registeredEndpoints(t *testing.T, e *echo.Echo) []endpoint {
	t.Helper()
	var out []endpoint
	seen := map[string]bool{}
	for _, r := range e.Routes() {
		if r.Method == echo.RouteNotFound {
			continue
		}
		// The payment webhooks answer every method in their own protocol
		// (Payme -32300, Click -8 for a non-POST, HTTP 200); the document
		// describes their POST.
		if (r.Path == "/api/payments/payme" || strings.HasPrefix(r.Path, "/api/payments/click/")) && r.Method != http.MethodPost {
			continue
		}
		// The files the /docs page loads are served on the public listener but
		// are not API routes (API.md), so the document leaves them out.
		if r.Path == docsAssetRoute {
			continue
		}
		ep := endpoint{method: r.Method, path: echoParam.ReplaceAllString(r.Path, "{$1}")}
		if seen[ep.String()] {
			continue
		}
		seen[ep.String()] = true
		out = append(out, ep)
	}
	return out
}

func documentedEndpoints(t *testing.T) []endpoint {
	t.Helper()
	c, err := loadOpenAPIContract()
	require.NoError(t, err)
	var out []endpoint
	for path, item := range c.doc.Paths.Map() {
		for method := range item.Operations() {
			out = append(out, endpoint{method: method, path: path})
		}
	}
	return out
}

// TestOpenAPI_DocumentCoversEveryRoute fails when a route of the public
// listener is missing from the OpenAPI document, when the document lists a
// route the listener does not have, or when the two name a path parameter
// differently. Adding a route means documenting it in
// adapters/httpapi/openapi/openapi.yaml.
func TestOpenAPI_DocumentCoversEveryRoute(t *testing.T) {
	a := testapp.StartApp(t, testapp.Config(t), "")

	registered := registeredEndpoints(t, a.Public())
	documented := documentedEndpoints(t)
	require.NotEmpty(t, registered)

	byShape := func(eps []endpoint) map[string]endpoint {
		m := make(map[string]endpoint, len(eps))
		for _, ep := range eps {
			m[ep.shape()] = ep
		}
		return m
	}
	reg, doc := byShape(registered), byShape(documented)

	var undocumented, unregistered, renamed []string
	for shape, r := range reg {
		if strings.Contains(r.path, "*") {
			undocumented = append(undocumented, r.String()+" (a wildcard route cannot be described; give it named parameters)")
			continue
		}
		d, ok := doc[shape]
		switch {
		case !ok:
			undocumented = append(undocumented, r.String())
		case d.path != r.path:
			renamed = append(renamed, fmt.Sprintf("%s is documented as %s", r, d))
		}
	}
	for shape, d := range doc {
		if _, ok := reg[shape]; !ok {
			unregistered = append(unregistered, d.String())
		}
	}
	sort.Strings(undocumented)
	sort.Strings(unregistered)
	sort.Strings(renamed)
	assert.Empty(t, undocumented, "routes of the public listener missing from the OpenAPI document (adapters/httpapi/openapi/openapi.yaml)")
	assert.Empty(t, unregistered, "documented in the OpenAPI document but not registered on the public listener")
	assert.Empty(t, renamed, "path parameters named differently in the route and in the document")

	// The contract's fixed routes are in the document whatever the listener has.
	docSet := map[string]bool{}
	for _, d := range documented {
		docSet[d.String()] = true
	}
	for _, want := range []string{"GET /health", "GET /health/ready", "GET /api/openapi.json", "GET /docs",
		"POST /api/payments/payme", "POST /api/payments/click/prepare", "POST /api/payments/click/complete"} {
		assert.True(t, docSet[want], "%s is documented", want)
	}

	// The page's files are served, and documented nowhere.
	served := false
	for _, r := range a.Public().Routes() {
		served = served || r.Path == docsAssetRoute
	}
	assert.True(t, served, "the public listener serves the page's files at %s", docsAssetRoute)
	for _, d := range documented {
		assert.False(t, strings.HasPrefix(d.path, "/docs/"), "%s: the files the docs page loads are not API routes", d)
	}
}

// TestOpenAPI_ServedDocumentAndPage checks the two documentation routes the
// way a browser sees them.
func TestOpenAPI_ServedDocumentAndPage(t *testing.T) {
	a := testapp.StartApp(t, testapp.Config(t), "")

	resp, body := oaDo(t, http.MethodGet, a.BaseURL+"/api/openapi.json", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "application/json", resp.Header.Get("Content-Type"))
	assert.Equal(t, "no-cache", resp.Header.Get("Cache-Control"))
	etag := resp.Header.Get("ETag")
	require.NotEmpty(t, etag)
	assert.Contains(t, string(body), `"openapi":"3.0.3"`)
	assert.Empty(t, resp.Header.Get("RateLimit-Limit"), "the document is never rate-limited")

	resp, _ = oaDo(t, http.MethodGet, a.BaseURL+"/api/openapi.json", map[string]string{"If-None-Match": etag}, nil)
	assert.Equal(t, http.StatusNotModified, resp.StatusCode)

	resp, body = oaDo(t, http.MethodGet, a.BaseURL+"/docs", nil, nil)
	require.Equal(t, http.StatusOK, resp.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", resp.Header.Get("Content-Type"))
	assert.Equal(t, "default-src 'self'; img-src 'self' data:; style-src 'self' 'unsafe-inline'; frame-ancestors 'none'",
		resp.Header.Get("Content-Security-Policy"))
	assert.Equal(t, "DENY", resp.Header.Get("X-Frame-Options"))
	for _, m := range regexp.MustCompile(`(?:src|href)="([^"]+)"`).FindAllStringSubmatch(string(body), -1) {
		link := m[1]
		require.False(t, strings.Contains(link, "://"), "the page loads nothing from elsewhere: %s", link)
		resp, _ := oaDo(t, http.MethodGet, a.BaseURL+"/"+link, nil, nil)
		assert.Equal(t, http.StatusOK, resp.StatusCode, link)
	}
}

// chromiumPath is where Debian's chromium package installs the browser.
const chromiumPath = "/usr/bin/chromium"

// TestOpenAPI_DocsPageRenders takes a headless Chromium screenshot of /docs
// and checks that Swagger UI drew the document: the page is not blank and
// shows the colours of its operation badges. It needs /usr/bin/chromium (or
// $CHROMIUM), which `make test` installs (deploy/test-deps.sh); a missing
// browser fails the test, since skipping would hide an unchecked /docs.
// DOCS_SCREENSHOT=<file.png> keeps the shot.
func TestOpenAPI_DocsPageRenders(t *testing.T) {
	browser := chromiumPath
	if p := os.Getenv("CHROMIUM"); p != "" {
		browser = p
	}
	if _, err := os.Stat(browser); err != nil {
		t.Fatalf("%s is missing: run `make test` (it installs Debian's chromium via deploy/test-deps.sh) or apt-get install -y chromium: %v", browser, err)
	}
	a := testapp.StartApp(t, testapp.Config(t), "")

	dir := t.TempDir()
	shot := filepath.Join(dir, "docs.png")
	ctx, cancel := context.WithTimeout(context.Background(), 90*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, browser,
		"--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
		"--disable-component-update", "--disable-sync", "--no-first-run", "--disable-dev-shm-usage",
		// Console messages (CSP violations, script errors) go to stderr.
		"--enable-logging=stderr", "--v=0",
		"--user-data-dir="+filepath.Join(dir, "profile"),
		// Let the page fetch the document and render before the shot.
		"--virtual-time-budget=15000",
		"--screenshot="+shot, "--window-size=1280,900",
		a.BaseURL+"/docs")
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "chromium: %s", out)

	// The page's console: a CSP violation ("Refused to load ...") or a script
	// error would show here.
	for _, line := range strings.Split(string(out), "\n") {
		if strings.Contains(line, ":CONSOLE") {
			t.Logf("console: %s", line)
			for _, bad := range []string{"Refused to", "Content Security Policy", "Uncaught", "Failed to load"} {
				assert.NotContains(t, line, bad, "the page runs under its CSP without errors")
			}
		}
	}

	info, err := os.Stat(shot)
	require.NoError(t, err, "no screenshot; chromium said: %s", out)
	assert.Greater(t, info.Size(), int64(20<<10), "a rendered page compresses to more than 20 KiB")

	f, err := os.Open(shot)
	require.NoError(t, err)
	defer f.Close()
	img, err := png.Decode(f)
	require.NoError(t, err)
	stats := screenshotStats(img)
	t.Logf("screenshot %s: %d bytes, %.1f%% non-white, %d colours, %d pixels of POST badges",
		shot, info.Size(), 100*stats.nonWhite, stats.colours, stats.badgePixels)
	assert.Greater(t, stats.nonWhite, 0.02, "the page is not blank")
	assert.Greater(t, stats.colours, 50, "text and badges, not a flat page")
	// The first tag's operations are POSTs; their filled badges (about
	// 80x30 pixels each) outweigh the Authorize button's outline of the same
	// colour, so this fails unless Swagger UI drew operations.
	assert.Greater(t, stats.badgePixels, 3000, "Swagger UI drew the document's operations")

	if keep := os.Getenv("DOCS_SCREENSHOT"); keep != "" {
		b, err := os.ReadFile(shot)
		require.NoError(t, err)
		require.NoError(t, os.WriteFile(keep, b, 0o644))
	}
}

// badgePOST is Swagger UI's POST badge colour (swagger-ui.css,
// .opblock-post .opblock-summary-method).
var badgePOST = color.RGBA{0x49, 0xcc, 0x90, 0xff}

type shotStats struct {
	nonWhite    float64
	colours     int
	badgePixels int
}

func screenshotStats(img image.Image) shotStats {
	b := img.Bounds()
	colours := map[color.RGBA]bool{}
	var st shotStats
	nonWhite, total := 0, 0
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			r, g, bl, _ := img.At(x, y).RGBA()
			c := color.RGBA{uint8(r >> 8), uint8(g >> 8), uint8(bl >> 8), 0xff} //nolint:gosec // G115: RGBA() is 16-bit, so >> 8 fits a byte
			total++
			if c.R < 0xf0 || c.G < 0xf0 || c.B < 0xf0 {
				nonWhite++
			}
			if len(colours) < 10000 {
				colours[c] = true
			}
			if near(c, badgePOST) {
				st.badgePixels++
			}
		}
	}
	st.nonWhite = float64(nonWhite) / float64(max(total, 1))
	st.colours = len(colours)
	return st
}

func near(a, b color.RGBA) bool {
	d := func(x, y uint8) int { return max(int(x), int(y)) - min(int(x), int(y)) }
	return slices.Max([]int{d(a.R, b.R), d(a.G, b.G), d(a.B, b.B)}) <= 6
}
