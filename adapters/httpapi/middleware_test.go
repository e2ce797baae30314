package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/google/uuid"
	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/requestid"
)

func assertSecurityHeaders(t *testing.T, h http.Header) {
	t.Helper()
	assert.Equal(t, "nosniff", h.Get("X-Content-Type-Options"))
	assert.Equal(t, "DENY", h.Get("X-Frame-Options"))
	assert.Equal(t, "no-referrer", h.Get("Referrer-Policy"))
	assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", h.Get("Content-Security-Policy"))
}

func TestUnknownRoute_IsA404ProblemWithRequestIDAndSecurityHeaders(t *testing.T) {
	f := newFixture(t, nil)

	rec := get(f.e, "/no/such/route?token=abc")

	assert.Equal(t, http.StatusNotFound, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "not_found", p.Code)
	assert.Equal(t, "https://ultramarket.uz/problems/not-found", p.Type)
	assert.Equal(t, "Not found", p.Title)
	assertSecurityHeaders(t, rec.Header())
	assert.Empty(t, rec.Header().Get("Strict-Transport-Security"), "no HSTS outside production")
}

func TestMethodNotAllowed_Is405WithAllow(t *testing.T) {
	f := newFixture(t, nil)

	rec := serve(f.e, httptest.NewRequestWithContext(context.Background(), http.MethodDelete, "/health", nil))

	assert.Equal(t, http.StatusMethodNotAllowed, rec.Code)
	assert.Equal(t, "method_not_allowed", decodeProblem(t, rec).Code)
	assert.Contains(t, rec.Header().Get("Allow"), http.MethodGet)
	assertSecurityHeaders(t, rec.Header())
}

func TestRequestID(t *testing.T) {
	f := newFixture(t, nil)
	var seen string
	f.e.GET("/echo-id", func(c echo.Context) error {
		seen = requestid.FromContext(c.Request().Context())
		return c.NoContent(http.StatusNoContent)
	})

	cases := []struct {
		name string
		sent string
		kept bool
	}{
		{"sane id is kept", "Abc-123_x.y", true},
		{"128 characters are kept", strings.Repeat("a", 128), true},
		{"129 characters are replaced", strings.Repeat("a", 129), false},
		{"spaces are replaced", "abc def", false},
		{"markup is replaced", "<script>", false},
		{"header injection is replaced", "a\r\nSet-Cookie: x=1", false},
		{"missing gets one", "", false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/echo-id", nil)
			if tc.sent != "" {
				req.Header.Set("X-Request-ID", tc.sent)
			}
			rec := serve(f.e, req)

			got := rec.Header().Get("X-Request-ID")
			if tc.kept {
				assert.Equal(t, tc.sent, got)
			} else {
				assert.NotEqual(t, tc.sent, got)
				_, err := uuid.Parse(got)
				assert.NoError(t, err, "a generated id is a UUID")
			}
			assert.Equal(t, got, seen, "the handler's context carries the response's id")
		})
	}
}

func TestHSTS_OnlyInProduction(t *testing.T) {
	for env, want := range map[string]string{
		"production":  "max-age=63072000; includeSubDomains",
		"development": "",
		"test":        "",
	} {
		t.Run(env, func(t *testing.T) {
			f := newFixture(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.Env = env })
			assert.Equal(t, want, get(f.e, "/health").Header().Get("Strict-Transport-Security"), env)
			assert.Equal(t, want, get(f.e, "/missing").Header().Get("Strict-Transport-Security"), env+" on errors too")
		})
	}
}

func TestCSP_RelaxedOnlyUnderDocs(t *testing.T) {
	f := newFixture(t, nil)
	f.e.GET("/docs", func(c echo.Context) error { return c.HTML(http.StatusOK, "<html></html>") })

	assert.Equal(t, "default-src 'none'; frame-ancestors 'none'", get(f.e, "/health").Header().Get("Content-Security-Policy"))
	docs := get(f.e, "/docs").Header().Get("Content-Security-Policy")
	assert.Equal(t, httpapi.CSPDocs, docs)
	assert.Contains(t, docs, "'self'")
	assert.Contains(t, docs, "frame-ancestors 'none'")
	assert.Equal(t, httpapi.CSPAPI, get(f.e, "/docsearch").Header().Get("Content-Security-Policy"), "prefix match is by path segment")
}

func TestCORS(t *testing.T) {
	const allowed = "https://shop.ultramarket.uz"
	f := newFixture(t, nil)

	t.Run("allowed origin", func(t *testing.T) {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/health", nil)
		req.Header.Set("Origin", allowed)
		rec := serve(f.e, req)
		assert.Equal(t, allowed, rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Equal(t, "true", rec.Header().Get("Access-Control-Allow-Credentials"))
		exposed := rec.Header().Get("Access-Control-Expose-Headers")
		for _, h := range []string{"X-Request-Id", "Ratelimit-Limit", "Ratelimit-Remaining", "Ratelimit-Reset", "Retry-After", "Location", "ETag", "Idempotent-Replayed"} {
			assert.Contains(t, strings.ToLower(exposed), strings.ToLower(h))
		}
	})
	t.Run("other origin", func(t *testing.T) {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/health", nil)
		req.Header.Set("Origin", "https://evil.example")
		rec := serve(f.e, req)
		assert.Equal(t, http.StatusOK, rec.Code, "CORS is the browser's check, the request still runs")
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Credentials"))
	})
	t.Run("subdomain of an allowed origin is another origin", func(t *testing.T) {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/health", nil)
		req.Header.Set("Origin", "https://evil.shop.ultramarket.uz")
		assert.Empty(t, serve(f.e, req).Header().Get("Access-Control-Allow-Origin"))
	})
	preflight := func(origin string) *httptest.ResponseRecorder {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodOptions, "/health/ready", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", http.MethodGet)
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type")
		return serve(f.e, req)
	}
	t.Run("preflight from allowed origin", func(t *testing.T) {
		rec := preflight(allowed)
		assert.Equal(t, http.StatusNoContent, rec.Code)
		assert.Equal(t, allowed, rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Contains(t, rec.Header().Get("Access-Control-Allow-Methods"), http.MethodPost)
		assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "Authorization")
		assert.Contains(t, rec.Header().Get("Access-Control-Allow-Headers"), "If-None-Match", "a browser revalidates product reads")
		assertSecurityHeaders(t, rec.Header())
	})
	t.Run("preflight from other origin", func(t *testing.T) {
		rec := preflight("https://evil.example")
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Origin"))
		assert.Empty(t, rec.Header().Get("Access-Control-Allow-Methods"))
	})
	t.Run("no origins configured allows none", func(t *testing.T) {
		none := newFixture(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.CORSOrigins = nil })
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/health", nil)
		req.Header.Set("Origin", allowed)
		assert.Empty(t, serve(none.e, req).Header().Get("Access-Control-Allow-Origin"))
	})
}

// echoBodyLen reads the whole body and reports its length, or the error.
func echoBodyLen(c echo.Context) error {
	b, err := io.ReadAll(c.Request().Body)
	if err != nil {
		return err
	}
	return c.String(http.StatusOK, strconv.Itoa(len(b)))
}

// hideLength makes the request look chunked, so only reading can find the size.
func hideLength(r *http.Request) *http.Request {
	r.ContentLength = -1
	r.Body = io.NopCloser(r.Body)
	return r
}

func TestBodyLimit(t *testing.T) {
	const mib = 1 << 20
	f := newFixture(t, nil)
	f.e.POST("/api/upload", echoBodyLen)
	f.e.POST("/api/bind", func(c echo.Context) error {
		var v map[string]any
		if err := httpapi.Bind(c, &v); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})
	f.e.POST("/api/payments/payme", echoBodyLen)
	f.e.POST("/api/payments/click/prepare", echoBodyLen)

	post := func(path string, n int) *http.Request {
		return httptest.NewRequestWithContext(context.Background(), http.MethodPost, path, bytes.NewReader(bytes.Repeat([]byte("a"), n)))
	}

	t.Run("1 MiB + 1 by Content-Length is 413", func(t *testing.T) {
		rec := serve(f.e, post("/api/upload", mib+1))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Equal(t, "payload_too_large", decodeProblem(t, rec).Code)
		assertSecurityHeaders(t, rec.Header())
	})
	t.Run("1 MiB + 1 without Content-Length is 413", func(t *testing.T) {
		rec := serve(f.e, hideLength(post("/api/upload", mib+1)))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Equal(t, "payload_too_large", decodeProblem(t, rec).Code)
	})
	t.Run("exactly 1 MiB passes", func(t *testing.T) {
		for name, req := range map[string]*http.Request{
			"with Content-Length":    post("/api/upload", mib),
			"without Content-Length": hideLength(post("/api/upload", mib)),
		} {
			t.Run(name, func(t *testing.T) {
				rec := serve(f.e, req)
				assert.Equal(t, http.StatusOK, rec.Code, name)
				assert.Equal(t, strconv.Itoa(mib), rec.Body.String(), name)
			})
		}
	})
	t.Run("Bind answers 413 for an oversized JSON body", func(t *testing.T) {
		body := `{"k":"` + strings.Repeat("a", mib) + `"}`
		rec := serve(f.e, hideLength(httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/bind", strings.NewReader(body))))
		assert.Equal(t, http.StatusRequestEntityTooLarge, rec.Code)
		assert.Equal(t, "payload_too_large", decodeProblem(t, rec).Code)
	})
	t.Run("payment webhooks are exempt", func(t *testing.T) {
		for _, path := range []string{"/api/payments/payme", "/api/payments/click/prepare"} {
			rec := serve(f.e, post(path, 2*mib))
			assert.Equal(t, http.StatusOK, rec.Code, path)
			assert.Equal(t, strconv.Itoa(2*mib), rec.Body.String(), path)
		}
	})
}

func TestRecover_PanicIsA500WithoutDetailsAndServingGoesOn(t *testing.T) {
	f := newFixture(t, nil)
	f.e.GET("/boom", func(echo.Context) error { panic("kaboom: postgres://app:hunter2@db/x") })

	rec := get(f.e, "/boom")

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "internal", p.Code)
	assert.NotContains(t, rec.Body.String(), "kaboom")
	assert.NotContains(t, rec.Body.String(), "hunter2")
	assertSecurityHeaders(t, rec.Header())
	assert.Contains(t, f.logs.String(), "panic recovered")
	assert.Contains(t, f.logs.String(), p.RequestID)
	assert.Equal(t, 1, strings.Count(f.logs.String(), `"status":500`), "the access log counts it once as a 500")

	assert.Equal(t, http.StatusOK, get(f.e, "/health").Code, "the server keeps serving")
}

func TestAccessLog_IsJSONWithRequestIDAndNothingSecret(t *testing.T) {
	f := newFixture(t, nil)
	f.e.POST("/api/things/:id", func(c echo.Context) error {
		f.logger.InfoContext(c.Request().Context(), "handler says hi")
		return c.String(http.StatusCreated, "hello")
	})

	req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/things/42?email=a@b.uz", strings.NewReader(`{"password":"p4ssw0rd"}`))
	req.Header.Set("Authorization", "Bearer eyJ.secret.token")
	req.Header.Set("Cookie", "session=cookie-secret")
	req.Header.Set("User-Agent", "test-agent/1.0")
	req.Header.Set("X-Request-ID", "req-1")
	serve(f.e, req)

	logs := f.logs.String()
	for _, secret := range []string{"eyJ.secret.token", "cookie-secret", "p4ssw0rd", "a@b.uz"} {
		assert.NotContains(t, logs, secret)
	}
	var line, hi map[string]any
	for _, l := range strings.Split(strings.TrimSpace(logs), "\n") {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), "every log line is JSON: %s", l)
		assert.Equal(t, 1, strings.Count(l, `"request_id"`), "request_id once per line: %s", l)
		switch m["msg"] {
		case "http request":
			line = m
		case "handler says hi":
			hi = m
		}
	}
	require.NotNil(t, line, logs)
	require.NotNil(t, hi, logs)
	assert.Equal(t, "req-1", hi["request_id"], "NewLogHandler adds the id to the handler's own lines")
	assert.Equal(t, "req-1", line["request_id"])
	assert.Equal(t, "POST", line["method"])
	assert.Equal(t, "/api/things/:id", line["route"])
	assert.Equal(t, "/api/things/42", line["path"])
	assert.EqualValues(t, 201, line["status"])
	assert.EqualValues(t, 5, line["bytes_out"])
	assert.Equal(t, "192.0.2.1", line["client_ip"])
	assert.Equal(t, "test-agent/1.0", line["user_agent"])
	assert.Contains(t, line, "latency_ms")
}

// Echo's default c.RealIP() believes X-Forwarded-For and X-Real-IP from
// anyone (GO-2026-6872, no fix in echo v4), which would let a client dodge the
// per-IP rate limits, the login lockout and the payment IP allow-lists. Both
// listeners set their own extractor from TRUSTED_PROXIES instead; this test is
// why deploy/vulncheck/waivers.txt may waive the advisory.
func TestClientIP_FromXFFOnlyBehindTrustedProxy(t *testing.T) {
	_, lb, err := net.ParseCIDR("10.0.0.0/8")
	require.NoError(t, err)

	ipOf := func(f fixture, peer, xff string) string {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/ip", nil)
		req.RemoteAddr = peer
		if xff != "" {
			req.Header.Set("X-Forwarded-For", xff)
			req.Header.Set("X-Real-IP", xff)
		}
		return serve(f.e, req).Body.String()
	}
	handler := func(c echo.Context) error { return c.String(http.StatusOK, c.RealIP()) }

	trusted := newFixture(t, func(c *httpapi.Config, _ *httpapi.Deps) { c.TrustedProxies = []*net.IPNet{lb} })
	trusted.e.GET("/ip", handler)
	assert.Equal(t, "203.0.113.7", ipOf(trusted, "10.1.2.3:5555", "203.0.113.7"), "peer is the trusted load balancer")
	assert.Equal(t, "203.0.113.7", ipOf(trusted, "10.1.2.3:5555", "198.51.100.9, 203.0.113.7"), "the rightmost untrusted hop, not the client-controlled left")
	assert.Equal(t, "198.51.100.1", ipOf(trusted, "198.51.100.1:5555", "203.0.113.7"), "untrusted peer: header ignored")
	assert.Equal(t, "127.0.0.1", ipOf(trusted, "127.0.0.1:5555", "203.0.113.7"), "loopback is not trusted unless listed")
	assert.Equal(t, "192.168.1.5", ipOf(trusted, "192.168.1.5:5555", "203.0.113.7"), "private ranges are not trusted unless listed")

	direct := newFixture(t, nil)
	direct.e.GET("/ip", handler)
	assert.Equal(t, "10.1.2.3", ipOf(direct, "10.1.2.3:5555", "203.0.113.7"), "no trusted proxies: always the peer")
	assert.Equal(t, "127.0.0.1", ipOf(direct, "127.0.0.1:5555", "203.0.113.7"), "no trusted proxies: always the peer")

	// The ops listener is built the same way.
	for _, f := range []fixture{trusted, direct} {
		f.ops.GET("/ip", handler)
		req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, "/ip", nil)
		req.RemoteAddr = "198.51.100.1:5555"
		req.Header.Set("X-Forwarded-For", "203.0.113.7")
		req.Header.Set("X-Real-IP", "203.0.113.7")
		assert.Equal(t, "198.51.100.1", serve(f.ops, req).Body.String(), "ops listener: an untrusted peer's headers are ignored")
	}
}

func TestMetrics_RouteTemplateLabelAndUnmatched(t *testing.T) {
	f := newFixture(t, nil)
	f.e.GET("/api/things/:id", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })

	get(f.e, "/api/things/1")
	get(f.e, "/api/things/2")
	get(f.e, "/wp-admin/setup.php")
	serve(f.e, httptest.NewRequestWithContext(context.Background(), "PROPFIND", "/api/things/3", nil))

	out := readAll(t, get(f.ops, "/metrics").Body)
	assert.Contains(t, out, `http_requests_total{method="GET",route="/api/things/:id",status="204"} 2`)
	assert.Contains(t, out, `http_request_duration_seconds_count{method="GET",route="/api/things/:id"} 2`)
	assert.Contains(t, out, `http_requests_total{method="GET",route="unmatched",status="404"} 1`)
	assert.Contains(t, out, `method="OTHER"`)
	assert.NotContains(t, out, "wp-admin")
	assert.NotContains(t, out, "/api/things/1")
}

// HEAD on a GET route is that GET without its body, on a real server (a
// recorder keeps what a handler writes; net/http drops a HEAD's body). A path
// without a GET still answers 405, and the access log says HEAD.
func TestHEAD_IsTheGETWithoutItsBody(t *testing.T) {
	f := newFixture(t, nil)
	f.e.POST("/only-post", func(c echo.Context) error { return c.NoContent(http.StatusNoContent) })
	srv := httptest.NewServer(f.e)
	t.Cleanup(srv.Close)
	type answer struct {
		status int
		header http.Header
		length int64
		body   []byte
	}
	do := func(method, path string) answer {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), method, srv.URL+path, nil)
		require.NoError(t, err)
		resp, err := srv.Client().Do(req)
		require.NoError(t, err)
		defer resp.Body.Close()
		body, err := io.ReadAll(resp.Body)
		require.NoError(t, err)
		return answer{status: resp.StatusCode, header: resp.Header, length: resp.ContentLength, body: body}
	}

	get := do(http.MethodGet, "/health")
	require.Equal(t, http.StatusOK, get.status)
	require.NotEmpty(t, get.body)
	head := do(http.MethodHead, "/health")
	assert.Equal(t, http.StatusOK, head.status)
	assert.Empty(t, head.body)
	assert.Equal(t, get.header.Get("Content-Type"), head.header.Get("Content-Type"))
	assert.Equal(t, int64(len(get.body)), head.length, "the GET's length")
	assert.NotEmpty(t, head.header.Get("X-Request-Id"))
	assert.Contains(t, f.logs.String(), `"method":"HEAD"`)

	assert.Equal(t, http.StatusMethodNotAllowed, do(http.MethodHead, "/only-post").status)
	assert.Equal(t, http.StatusNotFound, do(http.MethodHead, "/nowhere").status)
}
