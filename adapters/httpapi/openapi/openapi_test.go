package openapi_test

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"sort"
	"strconv"
	"strings"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi/openapi"
)

func loadDoc(t *testing.T) *openapi3.T {
	t.Helper()
	loader := openapi3.NewLoader()
	doc, err := loader.LoadFromData(openapi.Spec().Body)
	require.NoError(t, err, "load the served JSON document")
	require.NoError(t, doc.Validate(context.Background()), "validate the document")
	return doc
}

func TestSpec_LoadsAndValidates(t *testing.T) {
	doc := loadDoc(t)
	assert.Equal(t, "3.0.3", doc.OpenAPI)
	assert.NotEmpty(t, doc.Info.Title)

	// The YAML loads to the same document as the JSON it is converted to.
	fromYAML, err := openapi3.NewLoader().LoadFromData(openapi.YAML())
	require.NoError(t, err)
	a, err := json.Marshal(doc)
	require.NoError(t, err)
	b, err := json.Marshal(fromYAML)
	require.NoError(t, err)
	assert.JSONEq(t, string(b), string(a))
}

func TestSpec_ServedAsJSONInAuthoredOrder(t *testing.T) {
	spec := openapi.Spec()
	assert.Equal(t, "application/json", spec.ContentType)
	require.True(t, json.Valid(spec.Body))
	// Key order follows the YAML: openapi, info, ... components last.
	body := string(spec.Body)
	assert.True(t, strings.HasPrefix(body, `{"openapi":"3.0.3","info":`), body[:40])
	assert.Less(t, strings.Index(body, `"paths":`), strings.Index(body, `"components":`))
	assert.Equal(t, `"`+spec.Hash+`"`, spec.ETag())
}

// The conventions every operation of the document keeps (see the head of
// openapi.yaml): checked here so that a route added later keeps them too.
func TestSpec_Conventions(t *testing.T) {
	doc := loadDoc(t)
	webhook := func(p string) bool {
		return p == "/api/payments/payme" || strings.HasPrefix(p, "/api/payments/click/")
	}
	seenIDs := map[string]string{}
	for _, path := range doc.Paths.InMatchingOrder() {
		item := doc.Paths.Value(path)
		for method, op := range item.Operations() {
			where := method + " " + path
			require.NotEmpty(t, op.OperationID, where)
			if prev, dup := seenIDs[op.OperationID]; dup {
				t.Errorf("%s: operationId %q is also %s", where, op.OperationID, prev)
			}
			seenIDs[op.OperationID] = where
			assert.NotEmpty(t, op.Summary, "%s: summary", where)
			assert.NotEmpty(t, op.Tags, "%s: tags", where)

			// An X-Request-ID request parameter on the path item.
			hasReqID := false
			for _, p := range item.Parameters {
				hasReqID = hasReqID || (p.Value.In == "header" && p.Value.Name == "X-Request-ID")
			}
			assert.True(t, hasReqID, "%s: the path item lists the X-Request-ID parameter", where)
			// Accept-Language picks the language of problems, which the
			// webhooks never answer with.
			hasLang := false
			for _, p := range item.Parameters {
				hasLang = hasLang || (p.Value.In == "header" && p.Value.Name == "Accept-Language")
			}
			assert.Equal(t, !webhook(path), hasLang, "%s: the path item lists Accept-Language exactly when it can answer a problem", where)

			statuses := op.Responses.Map()
			require.NotEmpty(t, statuses, where)
			assert.Nil(t, op.Responses.Default(), "%s: list statuses, no default", where)
			for code, ref := range statuses {
				resp := ref.Value
				require.NotNil(t, resp, "%s %s", where, code)
				h := resp.Headers["X-Request-ID"]
				if assert.NotNil(t, h, "%s %s: X-Request-ID header", where, code) {
					assert.True(t, h.Value.Required, "%s %s: X-Request-ID is required", where, code)
				}
				status, err := strconv.Atoi(code)
				require.NoError(t, err, "%s: status %q", where, code)
				if status >= 400 && !(path == "/health/ready" && status == http.StatusServiceUnavailable) {
					// (Readiness answers 503 with its own report, not a problem.)
					if webhook(path) {
						t.Errorf("%s: a webhook answers 200 only, not %d", where, status)
						continue
					}
					mt := resp.Content.Get("application/problem+json")
					if assert.NotNil(t, mt, "%s %d: application/problem+json", where, status) {
						assertProblemSchema(t, where+" "+code, status, mt.Schema)
					}
					if h := resp.Headers["Content-Language"]; assert.NotNil(t, h, "%s %d: a problem carries Content-Language", where, status) {
						assert.True(t, h.Value.Required, "%s %d: Content-Language is required", where, status)
						assert.Equal(t, []any{"uz", "ru", "en"}, h.Value.Schema.Value.Enum, "%s %d", where, status)
					}
				}
				if status == http.StatusTooManyRequests {
					assert.NotNil(t, resp.Headers["Retry-After"], "%s: 429 carries Retry-After", where)
				}
				if status == http.StatusUnauthorized {
					assert.NotNil(t, resp.Headers["WWW-Authenticate"], "%s: 401 carries WWW-Authenticate", where)
				}
			}
			if strings.HasPrefix(path, "/api/") && !webhook(path) && path != "/api/openapi.json" {
				assert.NotNil(t, op.Responses.Status(http.StatusTooManyRequests), "%s: rate-limited routes list 429", where)
				assert.NotNil(t, op.Responses.Status(http.StatusInternalServerError), "%s: 500", where)
			}
			if op.RequestBody != nil && op.RequestBody.Value.Content.Get("application/json") != nil && !webhook(path) {
				for _, s := range []int{400, 413, 422} {
					assert.NotNil(t, op.Responses.Status(s), "%s: a JSON body can be answered %d", where, s)
				}
				assertClosed(t, where+" request", op.RequestBody.Value.Content.Get("application/json").Schema.Value)
			}
			// Security is stated on every operation, an empty list for a
			// public one, so a forgotten one cannot read as "public".
			assert.NotNil(t, op.Security, "%s: security (`[]` when public)", where)
			if op.Security != nil && slices.ContainsFunc(*op.Security, func(r openapi3.SecurityRequirement) bool { _, ok := r["bearerAuth"]; return ok }) {
				assert.NotNil(t, op.Responses.Status(http.StatusUnauthorized), "%s: bearer routes list 401", where)
			}
		}
	}
}

// assertProblemSchema checks that an error's schema is the Problem schema,
// with status and code narrowed to what this status can carry.
func assertProblemSchema(t *testing.T, where string, status int, ref *openapi3.SchemaRef) {
	t.Helper()
	s := ref.Value
	if !assert.Len(t, s.AllOf, 2, "%s: allOf [Problem, narrowing]", where) {
		return
	}
	assert.Equal(t, "#/components/schemas/Problem", s.AllOf[0].Ref, where)
	narrow := s.AllOf[1].Value
	st, code := narrow.Properties["status"], narrow.Properties["code"]
	if assert.NotNil(t, st, "%s: status narrowed", where) {
		assert.Equal(t, []any{float64(status)}, st.Value.Enum, where)
	}
	if assert.NotNil(t, code, "%s: code narrowed", where) {
		assert.NotEmpty(t, code.Value.Enum, where)
		all := ref.Value.AllOf[0].Value.Properties["code"].Value.Enum
		for _, c := range code.Value.Enum {
			assert.Contains(t, all, c, "%s: code %v is one of Problem's", where, c)
		}
	}
}

// assertClosed checks that an object schema refuses unknown fields, as the
// server does (422).
func assertClosed(t *testing.T, where string, s *openapi3.Schema) {
	t.Helper()
	if s.Type.Is("object") {
		assert.NotNil(t, s.AdditionalProperties.Has, "%s: additionalProperties: false", where)
		if s.AdditionalProperties.Has != nil {
			assert.False(t, *s.AdditionalProperties.Has, where)
		}
	}
}

// Every problem code the contract names appears in the Problem schema, and
// in at least one response of the document.
func TestSpec_ProblemCodes(t *testing.T) {
	doc := loadDoc(t)
	contract := []string{
		"bad_request", "unauthorized", "invalid_credentials", "token_expired", "token_revoked", "forbidden",
		"not_found", "method_not_allowed", "conflict", "email_taken", "idempotency_key_reused", "payload_too_large",
		"validation_failed", "order_not_payable", "insufficient_stock", "too_many_unpaid_orders", "order_not_refundable",
		"refund_refused", "fiscal_data_missing", "rate_limited", "upstream_unavailable", "service_unavailable", "internal",
	}
	var inProblem []string
	for _, v := range doc.Components.Schemas["Problem"].Value.Properties["code"].Value.Enum {
		inProblem = append(inProblem, v.(string))
	}
	sort.Strings(inProblem)
	want := slices.Clone(contract)
	sort.Strings(want)
	assert.Equal(t, want, inProblem)

	used := map[string]bool{}
	collect := func(resp *openapi3.Response) {
		mt := resp.Content.Get("application/problem+json")
		if mt == nil || len(mt.Schema.Value.AllOf) < 2 {
			return
		}
		for _, c := range mt.Schema.Value.AllOf[1].Value.Properties["code"].Value.Enum {
			used[c.(string)] = true
		}
	}
	for _, r := range doc.Components.Responses {
		collect(r.Value)
	}
	for _, item := range doc.Paths.Map() {
		for _, op := range item.Operations() {
			for _, r := range op.Responses.Map() {
				collect(r.Value)
			}
		}
	}
	for _, c := range contract {
		assert.True(t, used[c], "problem code %q is in no response", c)
	}
}

// API.md: the document covers /docs, and the files the page loads are not
// API routes, so no path under /docs/ is documented.
func TestSpec_DocsAssetsAreNotAPIRoutes(t *testing.T) {
	doc := loadDoc(t)
	require.NotNil(t, doc.Paths.Value("/docs"), "the page is documented")
	for _, path := range doc.Paths.InMatchingOrder() {
		assert.False(t, strings.HasPrefix(path, "/docs/"), "%s: the page's files are not API routes", path)
	}
}

func TestPage_EmbedsItsAssetsOnly(t *testing.T) {
	page := openapi.Page()
	assert.Equal(t, "text/html; charset=utf-8", page.ContentType)
	html := string(page.Body)
	for _, name := range []string{"swagger-ui-bundle.js", "swagger-ui.css", "init.js"} {
		a, ok := openapi.DocsAsset(name)
		require.True(t, ok, name)
		assert.Contains(t, html, `"docs/`+name+`?v=`+a.Hash+`"`)
	}
	assert.NotContains(t, html, "http://")
	assert.NotContains(t, html, "https://")
	// No inline script: the page's CSP allows scripts from 'self' only.
	assert.Equal(t, strings.Count(html, "<script"), strings.Count(html, "<script src="))
	assert.Contains(t, html, `data-spec-url="api/openapi.json"`)

	for _, name := range openapi.DocsAssetNames() {
		a, _ := openapi.DocsAsset(name)
		assert.NotEmpty(t, a.Body, name)
		assert.NotEmpty(t, a.ContentType, name)
	}
	lic, ok := openapi.DocsAsset("LICENSE")
	require.True(t, ok, "swagger-ui's licence ships with it")
	assert.Contains(t, string(lic.Body), "Apache License")
	_, ok = openapi.DocsAsset("index.html")
	assert.False(t, ok, "the page template is not an asset")

	js, _ := openapi.DocsAsset("init.js")
	assert.Contains(t, string(js.Body), "validatorUrl: null", "no call to validator.swagger.io")
}

func TestYAMLToJSON(t *testing.T) {
	out, err := openapi.YAMLToJSON([]byte(`
b: 1
a:
  200: {x: true, y: null, z: 1.5}
  list: [one, 'two', 2025-01-01]
anchor: &x {k: v}
alias: *x
big: 1000000000000
neg: -31001
`))
	require.NoError(t, err)
	assert.Equal(t, `{"b":1,"a":{"200":{"x":true,"y":null,"z":1.5},"list":["one","two","2025-01-01"]},`+
		`"anchor":{"k":"v"},"alias":{"k":"v"},"big":1000000000000,"neg":-31001}`, string(out))

	for name, src := range map[string]string{
		"duplicate key": "a: 1\na: 2\n",
		"merge key":     "x: &x {a: 1}\ny:\n  <<: *x\n",
		"not YAML":      "a: [\n",
		"two documents": "a: 1\n---\nb: 2\n",
		"infinity":      "a: .inf\n",
	} {
		t.Run(name, func(t *testing.T) {
			_, err := openapi.YAMLToJSON([]byte(src))
			assert.Error(t, err, name)
		})
	}
}
