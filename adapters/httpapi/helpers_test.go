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
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/application/health"
	"github.com/ultramarket/gateway/test/testsupport"
)

// problemBody mirrors the contract's problem+json, decoded strictly enough to
// notice a renamed field.
type problemBody struct {
	Type      string `json:"type"`
	Title     string `json:"title"`
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

type pingFunc func(ctx context.Context) error

func (f pingFunc) Ping(ctx context.Context) error { return f(ctx) }

func up() pingFunc { return func(context.Context) error { return nil } }

type wallClock struct{}

func (wallClock) Now() time.Time { return time.Now() }

type fixture struct {
	e       *echo.Echo
	ops     *echo.Echo
	logs    *testsupport.SyncBuffer
	logger  *slog.Logger
	metrics *metrics.Metrics
}

// newFixture builds both servers with healthy dependencies and a log buffer;
// mutate adjusts config and deps before construction.
func newFixture(t *testing.T, mutate func(*httpapi.Config, *httpapi.Deps)) fixture {
	t.Helper()
	logs := &testsupport.SyncBuffer{}
	m := metrics.New()
	cfg := httpapi.Config{
		Env:         "development",
		CORSOrigins: []string{"https://shop.ultramarket.uz"},
		Version:     "1.2.3",
		StartedAt:   time.Now().Add(-90 * time.Second),
	}
	deps := httpapi.Deps{
		Metrics: m,
		Logger:  slog.New(httpapi.NewLogHandler(slog.NewJSONHandler(logs, nil))),
		Health:  health.NewService(health.Dependencies{Postgres: up(), Redis: up()}, wallClock{}, time.Second),
	}
	if mutate != nil {
		mutate(&cfg, &deps)
	}
	return fixture{e: httpapi.NewPublic(cfg, deps), ops: httpapi.NewOps(cfg, deps), logs: logs, logger: deps.Logger, metrics: m}
}

func serve(h http.Handler, req *http.Request) *httptest.ResponseRecorder {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	return rec
}

func get(h http.Handler, path string) *httptest.ResponseRecorder {
	return serve(h, httptest.NewRequestWithContext(context.Background(), http.MethodGet, path, nil))
}

func decodeProblem(t *testing.T, rec *httptest.ResponseRecorder) problemBody {
	t.Helper()
	require.Equal(t, httpapi.ContentTypeProblem, rec.Header().Get("Content-Type"), "body: %s", rec.Body.String())
	var p problemBody
	dec := json.NewDecoder(bytes.NewReader(rec.Body.Bytes()))
	dec.DisallowUnknownFields()
	require.NoError(t, dec.Decode(&p), rec.Body.String())
	require.Equal(t, rec.Code, p.Status, "status in body matches the response")
	require.NotEmpty(t, p.RequestID)
	require.Equal(t, rec.Header().Get(echo.HeaderXRequestID), p.RequestID)
	return p
}

func readAll(t *testing.T, r io.Reader) string {
	t.Helper()
	b, err := io.ReadAll(r)
	require.NoError(t, err)
	return string(b)
}
