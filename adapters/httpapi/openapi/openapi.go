// Package openapi holds the gateway's OpenAPI 3 document and the assets of
// the page that renders it (Swagger UI), all embedded in the binary: the
// docs page loads nothing from the internet.
//
// The document is authored in openapi.yaml (comments, readable diffs) and
// converted to JSON once, when it is first asked for (not at start-up: the
// conversion and the assets' copies cost start-up time and idle heap that
// a gateway nobody reads the docs of should not pay); the HTTP edge
// serves the JSON at GET /api/openapi.json and the page at GET /docs (see
// adapters/httpapi/docs.go). The conversion keeps the key order of the YAML.
//
// # Updating the document
//
// Edit openapi.yaml, then run
//
//	go test ./adapters/httpapi/openapi/ ./adapters/httpapi/ -run 'Spec|Page|YAML|Docs'
//	go test ./test/e2e/ -run OpenAPI   # needs Postgres and Redis (make services)
//
// The unit test loads and validates the document with kin-openapi and checks
// the conventions every operation follows (X-Request-ID on every response,
// problem+json errors, ...); the end-to-end test compares the documented
// paths with the routes the public listener really registers, and validates
// real responses against the document.
//
// # Updating Swagger UI
//
// The files under docs/ other than index.html and init.js are copied
// unchanged from the npm package swagger-ui-dist:
//
//	cd /tmp && npm pack swagger-ui-dist && tar xzf swagger-ui-dist-*.tgz
//	cp package/{swagger-ui-bundle.js,swagger-ui.css,swagger-ui-bundle.js.LICENSE.txt,LICENSE,NOTICE,favicon-32x32.png} \
//	   adapters/httpapi/openapi/docs/
//
// and SwaggerUIVersion below is set to the package's version.
package openapi

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"fmt"
	"html/template"
	"path"
	"slices"
	"strings"
	"sync"
)

// SwaggerUIVersion is the swagger-ui-dist release whose files are in docs/.
const SwaggerUIVersion = "5.35.0"

//go:embed openapi.yaml
var specYAML []byte

//go:embed docs
var docsFS embed.FS

// Asset is one file the HTTP edge serves: the document, the page or one of
// the page's assets.
type Asset struct {
	Name        string
	ContentType string
	Body        []byte
	// Hash is a short hex SHA-256 of Body: the ETag, and the ?v= of the
	// asset's URL in the page, so a new release changes every URL.
	Hash string
}

// ETag is the strong entity tag of the asset.
func (a Asset) ETag() string { return `"` + a.Hash + `"` }

// contentTypes are the media types of the files served from docs/, by
// extension. A file of another kind is not served.
var contentTypes = map[string]string{
	".js":  "text/javascript; charset=utf-8",
	".css": "text/css; charset=utf-8",
	".png": "image/png",
	".txt": "text/plain; charset=utf-8",
	"":     "text/plain; charset=utf-8", // LICENSE, NOTICE
}

// pageTemplate is docs/index.html; it is rendered once, not served as a file.
const pageTemplate = "index.html"

// Each is made on first use. They cannot fail for the embedded files the
// unit tests load; if one ever did, it panics (the request is a 500, logged
// with its stack) rather than serve a broken document.
var (
	specJSON = sync.OnceValue(mustSpecJSON)
	assets   = sync.OnceValue(mustLoadAssets)
	page     = sync.OnceValue(mustRenderPage)
)

// YAML returns the document as authored.
func YAML() []byte { return bytes.Clone(specYAML) }

// Spec returns the document as JSON (application/json).
func Spec() Asset { return specJSON() }

// Page returns the HTML page that renders the document.
func Page() Asset { return page() }

// DocsAsset returns the asset of the page named name (e.g.
// "swagger-ui-bundle.js"), served at /docs/<name>.
func DocsAsset(name string) (Asset, bool) {
	a, ok := assets()[name]
	return a, ok
}

// DocsAssetNames lists the names DocsAsset knows, sorted.
func DocsAssetNames() []string {
	all := assets()
	names := make([]string, 0, len(all))
	for n := range all {
		names = append(names, n)
	}
	slices.Sort(names)
	return names
}

func newAsset(name, contentType string, body []byte) Asset {
	sum := sha256.Sum256(body)
	return Asset{Name: name, ContentType: contentType, Body: body, Hash: hex.EncodeToString(sum[:12])}
}

// mustSpecJSON converts the embedded YAML. It cannot fail for a document
// the unit tests have loaded; if it ever did, the binary must not start
// serving a broken document.
func mustSpecJSON() Asset {
	body, err := YAMLToJSON(specYAML)
	if err != nil {
		panic(fmt.Sprintf("openapi: convert openapi.yaml: %v", err))
	}
	return newAsset("openapi.json", "application/json", body)
}

func mustLoadAssets() map[string]Asset {
	entries, err := docsFS.ReadDir("docs")
	if err != nil {
		panic(fmt.Sprintf("openapi: read embedded docs: %v", err))
	}
	out := make(map[string]Asset, len(entries))
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || name == pageTemplate {
			continue
		}
		ct, ok := contentTypes[path.Ext(name)]
		if !ok {
			panic(fmt.Sprintf("openapi: docs/%s: no content type for its extension", name))
		}
		body, err := docsFS.ReadFile("docs/" + name)
		if err != nil {
			panic(fmt.Sprintf("openapi: read docs/%s: %v", name, err))
		}
		out[name] = newAsset(name, ct, body)
	}
	return out
}

// mustRenderPage renders docs/index.html: {{asset "x"}} becomes the URL of
// asset x, relative to the page (docs/x?v=<hash>), so the page also works
// behind a proxy that mounts the gateway under a path prefix.
func mustRenderPage() Asset {
	src, err := docsFS.ReadFile("docs/" + pageTemplate)
	if err != nil {
		panic(fmt.Sprintf("openapi: read docs/%s: %v", pageTemplate, err))
	}
	tmpl, err := template.New(pageTemplate).Funcs(template.FuncMap{
		"asset": func(name string) (string, error) {
			a, ok := assets()[name]
			if !ok {
				return "", fmt.Errorf("no asset %q in docs/", name)
			}
			return "docs/" + a.Name + "?v=" + a.Hash, nil
		},
	}).Parse(string(src))
	if err != nil {
		panic(fmt.Sprintf("openapi: parse docs/%s: %v", pageTemplate, err))
	}
	var b strings.Builder
	if err := tmpl.Execute(&b, struct{ SwaggerUIVersion string }{SwaggerUIVersion}); err != nil {
		panic(fmt.Sprintf("openapi: render docs/%s: %v", pageTemplate, err))
	}
	return newAsset(pageTemplate, "text/html; charset=utf-8", []byte(b.String()))
}
