package httpapi_test

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/uuid"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/health"
)

// saneRequestID is API.md's rule, written independently of the middleware:
// 1..128 characters of [A-Za-z0-9._-].
func saneRequestID(id string) bool {
	if len(id) < 1 || len(id) > 128 {
		return false
	}
	return strings.Trim(id, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789._-") == ""
}

// FuzzRequestID sends arbitrary X-Request-ID values (as raw header bytes,
// past net/http's own checks) to the real public server, on a route that
// answers 200 and one that answers a problem. A sane id is echoed exactly,
// anything else is replaced by a fresh UUID, never echoed, escaped or
// truncated; the problem's request_id is the header's. The seed corpus is in
// testdata/fuzz/FuzzRequestID.
func FuzzRequestID(f *testing.F) {
	for _, seed := range []string{
		"abc-123", "A.b_C-9", "", " ", "a b", "a\r\nX-Evil: 1", strings.Repeat("x", 128), strings.Repeat("x", 129),
		"0f8c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f", "ид", "a\x00b", "../../etc", "%0d%0a", "a\tb", "{\"json\":1}",
	} {
		f.Add(seed)
	}
	e := httpapi.NewPublic(httpapi.Config{Env: "test"}, httpapi.Deps{
		Logger: slog.New(httpapi.NewLogHandler(slog.NewJSONHandler(io.Discard, nil))),
		Health: health.NewService(health.Dependencies{Postgres: up(), Redis: up()}, wallClock{}, 0),
	})
	f.Fuzz(func(t *testing.T, id string) {
		for _, path := range []string{"/health", "/api/no-such-route"} {
			req := httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil)
			req.Header["X-Request-Id"] = []string{id}
			rec := serve(e, req)
			got := rec.Header().Values("X-Request-Id")
			if len(got) != 1 {
				t.Fatalf("%s: want one X-Request-ID, got %q for %q", path, got, id)
			}
			switch {
			case saneRequestID(id):
				if got[0] != id {
					t.Fatalf("%s: the sane id %q must be echoed, got %q", path, id, got[0])
				}
			case got[0] == id:
				t.Fatalf("%s: the id %q must not be echoed", path, id)
			case len(got[0]) != 36 || uuid.Validate(got[0]) != nil:
				t.Fatalf("%s: %q was replaced by %q, not a fresh UUID", path, id, got[0])
			}
			if rec.Code == http.StatusOK {
				continue
			}
			var p struct {
				RequestID string `json:"request_id"`
			}
			if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil || p.RequestID != got[0] {
				t.Fatalf("%s: the problem's request_id must be the header's %q: %s", path, got[0], rec.Body)
			}
		}
	})
}
