package httpapi_test

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/health"
)

// fuzzBody is a representative request DTO: nested object, optional nested
// object, array of objects, pointer fields, every JSON scalar kind, a map
// and a raw value, so the decoder meets every shape a handler's DTO has.
type fuzzBody struct {
	Email    string  `json:"email"`
	Quantity int64   `json:"quantity"`
	Limit    uint8   `json:"limit"`
	Rate     float64 `json:"rate"`
	Active   *bool   `json:"active"`
	Note     *string `json:"note"`
	Address  struct {
		Region string `json:"region"`
		Phone  string `json:"phone"`
	} `json:"shipping_address"`
	Seller *struct {
		ID string `json:"id"`
	} `json:"seller"`
	Items []struct {
		ProductID string `json:"product_id"`
		Quantity  int    `json:"quantity"`
	} `json:"items"`
	Tags  map[string]string `json:"tags"`
	Extra json.RawMessage   `json:"extra"`
}

// fuzzBodyLimit is small so that the fuzzer reaches the 413 path too.
const fuzzBodyLimit = 512

// FuzzBind posts arbitrary bodies to a route that binds them into fuzzBody
// on the real public server (middleware and problem+json error handler
// included) and checks, for every body:
//   - no panic, and the answer is 204 (bound) or a problem of the right
//     category: 413 payload_too_large over the limit, 400 bad_request for a
//     body that is not one JSON object, 422 validation_failed naming at
//     least one field for a well-formed object that does not fit the DTO
//     (one known deviation is tolerated, see below);
//   - it agrees with encoding/json: an empty body binds as {}, a body that
//     is one JSON object binds exactly when a strict decoder
//     (DisallowUnknownFields) accepts it, and anything else never binds.
//
// The seed corpus is in testdata/fuzz/FuzzBind.
func FuzzBind(f *testing.F) {
	for _, seed := range []string{
		``, `{}`, ` {} `, `{"email":"a@b.uz","quantity":3,"items":[{"product_id":"p1","quantity":2}]}`,
		`{"shipping_address":{"region":"Toshkent","phone":"+998901234567"},"note":null,"active":true}`,
		`{"quantity":"3"}`, `{"quantity":1e400}`, `{"limit":256}`, `{"items":[{"colour":"red"}]}`,
		`{"unknown":1}`, `{"tags":{"a":"b"},"extra":[1,{"x":null}]}`, `{"QUANTITY":1}`,
		`[]`, `"x"`, `null`, `{`, `{"a":1}{}`, `{} x`, "\xff", `{"note":"\ud800"}`,
	} {
		f.Add([]byte(seed))
	}
	e := httpapi.NewPublic(httpapi.Config{Env: "test", BodyLimit: fuzzBodyLimit}, httpapi.Deps{
		Logger: slog.New(slog.NewJSONHandler(io.Discard, nil)),
		Health: health.NewService(health.Dependencies{Postgres: up(), Redis: up()}, wallClock{}, 0),
	})
	e.POST("/api/fuzz/bind", func(c echo.Context) error {
		var dto fuzzBody
		if err := httpapi.Bind(c, &dto); err != nil {
			return err
		}
		return c.NoContent(http.StatusNoContent)
	})

	f.Fuzz(func(t *testing.T, body []byte) {
		req := httptest.NewRequestWithContext(context.Background(), http.MethodPost, "/api/fuzz/bind", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rec := serve(e, req)

		if len(body) > fuzzBodyLimit {
			expectFuzzProblem(t, rec, body, http.StatusRequestEntityTooLarge, "payload_too_large")
			return
		}
		trimmed := bytes.Trim(body, " \t\r\n")
		isObject := json.Valid(trimmed) && len(trimmed) > 0 && trimmed[0] == '{'
		switch {
		case len(trimmed) == 0:
			if rec.Code != http.StatusNoContent {
				t.Fatalf("an empty body binds as {}; got %d %s for %q", rec.Code, rec.Body, body)
			}
		case !isObject:
			expectFuzzProblem(t, rec, body, http.StatusBadRequest, "bad_request")
		default:
			if strictDecode(trimmed) == nil {
				if rec.Code != http.StatusNoContent {
					t.Fatalf("encoding/json accepts %q but Bind answered %d %s", body, rec.Code, rec.Body)
				}
				return
			}
			p := expectFuzzProblem(t, rec, body, http.StatusUnprocessableEntity, "validation_failed")
			// A 422 names the field (which may be "" for an unknown key "").
			if len(p.Errors) == 0 || p.Errors[0].Message == "" {
				t.Fatalf("a 422 names the field: %s for %q", rec.Body, body)
			}
		}
	})
}

// strictDecode decodes data into fuzzBody the way Bind promises to.
func strictDecode(data []byte) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	var v fuzzBody
	return dec.Decode(&v)
}

func expectFuzzProblem(t *testing.T, rec *httptest.ResponseRecorder, in []byte, status int, code string) problemBody {
	t.Helper()
	if rec.Code != status {
		t.Fatalf("want %d %s for %q, got %d %s", status, code, in, rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); ct != httpapi.ContentTypeProblem {
		t.Fatalf("content type %q for %q", ct, in)
	}
	var p problemBody
	if err := json.Unmarshal(rec.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body %q: %v", rec.Body, err)
	}
	if p.Code != code || p.Status != status || p.RequestID == "" {
		t.Fatalf("want %d %s for %q, got %s", status, code, in, rec.Body)
	}
	return p
}
