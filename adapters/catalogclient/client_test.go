package catalogclient_test

import (
	"context"
	"errors"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/catalogclient"
	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/adapters/requestid"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/contract"
	fakecatalog "github.com/ultramarket/gateway/test/fakes/catalog"
)

func TestClientContract(t *testing.T) {
	contract.RunCatalogSuite(t, func(t *testing.T) contract.Fixture {
		fake := fakecatalog.New(fakecatalog.WithClock(contract.NewClock().Now))
		t.Cleanup(fake.Close)
		return contract.Fixture{Catalog: catalogclient.New(catalogclient.Config{BaseURL: fake.URL()})}
	})
}

// setup starts a fake and a client with fast retries; edit tunes the config.
func setup(t *testing.T, edit func(*catalogclient.Config)) (*fakecatalog.Server, *catalogclient.Client, *metrics.Metrics) {
	t.Helper()
	fake := fakecatalog.New()
	t.Cleanup(fake.Close)
	m := metrics.New()
	cfg := catalogclient.Config{
		BaseURL: fake.URL(), Timeout: 2 * time.Second, BreakerFailures: 5, BreakerOpen: time.Minute,
		Metrics: m, RetryBaseDelay: time.Millisecond,
	}
	if edit != nil {
		edit(&cfg)
	}
	return fake, catalogclient.New(cfg), m
}

// ctx is a request's context: it carries the request id the client forwards.
func ctx(t testing.TB) context.Context {
	t.Helper()
	c, cancel := context.WithTimeout(requestid.NewContext(context.Background(), requestID), 10*time.Second)
	t.Cleanup(cancel)
	return c
}

var actor = user.Actor{ID: uuid.NewString(), Role: user.RoleSeller}

const requestID = "req-123.abc_X"

func seed(fake *fakecatalog.Server, stock int64) fakecatalog.Product {
	return fake.Seed(fakecatalog.Product{
		Name: "Atlas ko'ylak", Category: "clothes", Price: 35_000_000, Stock: stock, SellerID: uuid.NewString(), Active: true,
	})
}

func circuitGauge(t *testing.T, m *metrics.Metrics) float64 {
	t.Helper()
	families, err := m.Registry().Gather()
	require.NoError(t, err)
	for _, f := range families {
		if f.GetName() == "catalog_circuit_state" {
			return f.GetMetric()[0].GetGauge().GetValue()
		}
	}
	t.Fatal("catalog_circuit_state not registered")
	return -1
}

func TestForwardsCallerHeaders(t *testing.T) {
	fake, c, _ := setup(t, nil)
	p := seed(fake, 3)

	calls := map[string]func() error{
		"get": func() error { _, err := c.Get(ctx(t), p.ID, actor); return err },
		"list": func() error {
			_, err := c.List(ctx(t), ports.ProductQuery{}, actor)
			return err
		},
		"lookup": func() error { _, err := c.Lookup(ctx(t), []string{p.ID}, actor); return err },
		"reserve": func() error {
			return c.Reserve(ctx(t), uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID, Quantity: 1}}, actor)
		},
		"release": func() error { return c.Release(ctx(t), uuid.NewString(), actor) },
	}
	for name, call := range calls {
		t.Run(name, func(t *testing.T) {
			require.NoError(t, call(), name)
			h := fake.LastHeaders()
			assert.Equal(t, requestID, h.Get("X-Request-ID"), name)
			assert.Equal(t, actor.ID, h.Get("X-User-Id"), name)
			assert.Equal(t, "seller", h.Get("X-User-Role"), name)
		})
	}

	// Anonymous: nothing invented; a header value Go would refuse is dropped, not fatal.
	_, err := c.Get(requestid.NewContext(ctx(t), "bad\r\nX-Evil: 1"), p.ID, user.Actor{})
	require.NoError(t, err)
	h := fake.LastHeaders()
	assert.Empty(t, h.Get("X-Request-ID"))
	assert.Empty(t, h.Get("X-User-Id"))
	assert.Empty(t, h.Get("X-User-Role"))
	assert.Empty(t, h.Get("X-Evil"))
}

func TestSendsQueryAndVisibilityHints(t *testing.T) {
	fake, c, _ := setup(t, nil)
	queries := make(chan string, 1)
	fake.SetFault(func(w http.ResponseWriter, r *http.Request) bool {
		queries <- r.URL.RawQuery
		return false
	})
	seller := uuid.NewString()
	_, err := c.List(ctx(t), ports.ProductQuery{
		Q: " tea ", Category: "food", SellerID: seller, Page: 2, PageSize: 500,
		IncludeInactive: true, InactiveOfSeller: seller,
	}, actor)
	require.NoError(t, err)
	assert.Equal(t, "category=food&inactive_of_seller="+seller+"&include_inactive=true"+
		"&page=2&page_size=100&q=tea&seller_id="+seller, <-queries)

	_, err = c.List(ctx(t), ports.ProductQuery{}, actor)
	require.NoError(t, err)
	assert.Equal(t, "page=1&page_size=20", <-queries, "defaults; no visibility hint")
}

func TestRetriesIdempotentCallsOn5xx(t *testing.T) {
	fake, c, _ := setup(t, nil)
	p := seed(fake, 3)

	fake.FailNext(2)
	got, err := c.Get(ctx(t), p.ID, actor)
	require.NoError(t, err, "third attempt succeeds")
	assert.Equal(t, p.ID, got.ID())
	assert.Equal(t, 3, fake.Calls("GET /products/{id}"))

	fake.ResetCounters()
	fake.FailNext(1)
	found, err := c.Lookup(ctx(t), []string{p.ID}, actor)
	require.NoError(t, err, "lookup is read-only: retried")
	assert.Len(t, found, 1)
	assert.Equal(t, 2, fake.Calls("POST /products/lookup"))

	fake.ResetCounters()
	fake.FailNext(1)
	require.NoError(t, c.Release(ctx(t), uuid.NewString(), actor))
	assert.Equal(t, 2, fake.Calls("DELETE /reservations/{order_id}"))

	fake.ResetCounters()
	fake.FailNext(10)
	_, err = c.Get(ctx(t), p.ID, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Equal(t, 3, fake.Calls("GET /products/{id}"), "gives up after MaxAttempts")
}

func TestNeverRetriesNonIdempotentCalls(t *testing.T) {
	fake, c, _ := setup(t, nil)
	p := seed(fake, 3)

	fake.FailNext(1)
	err := c.Reserve(ctx(t), uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID, Quantity: 1}}, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Equal(t, 1, fake.Calls("POST /reservations"))

	fake.FailNext(1)
	_, err = c.Create(ctx(t), product.Draft{Name: "n", Category: "c", Price: 1, SellerID: uuid.NewString()}, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Equal(t, 1, fake.Calls("POST /products"))

	stored, _ := fake.Product(p.ID)
	assert.Equal(t, int64(3), stored.Stock)
}

func TestUpstreamErrorsNeverLeakTheBody(t *testing.T) {
	fake, c, _ := setup(t, nil)
	fake.SetDown(true)
	_, err := c.Get(ctx(t), uuid.NewString(), actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Contains(t, err.Error(), "500")
	assert.NotContains(t, err.Error(), "db.go", "the upstream's body is not in the message")
}

func TestConnectionRefused(t *testing.T) {
	fake, c, _ := setup(t, nil)
	p := seed(fake, 1)
	fake.Close()
	_, err := c.Get(ctx(t), p.ID, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.NotContains(t, err.Error(), "http://", "no URL in the message")

	fake.Restart()
	got, err := c.Get(ctx(t), p.ID, actor)
	require.NoError(t, err, "same URL after Restart")
	assert.Equal(t, p.ID, got.ID())
}

func TestTimeout(t *testing.T) {
	fake, c, _ := setup(t, func(cfg *catalogclient.Config) {
		cfg.Timeout = 50 * time.Millisecond
		cfg.MaxAttempts = 1
	})
	p := seed(fake, 1)
	fake.SetDelay(2 * time.Second)

	start := time.Now()
	_, err := c.Get(ctx(t), p.ID, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.False(t, errors.Is(err, context.DeadlineExceeded), "the caller's context did not end")
	assert.Less(t, time.Since(start), time.Second, "bounded by Timeout, not the upstream")
	assert.Equal(t, 1, fake.Calls("GET /products/{id}"))
}

func TestTimeoutsAreRetriedForIdempotentCalls(t *testing.T) {
	fake, c, _ := setup(t, func(cfg *catalogclient.Config) { cfg.Timeout = 30 * time.Millisecond })
	fake.SetDelay(time.Second)
	_, err := c.List(ctx(t), ports.ProductQuery{}, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Equal(t, 3, fake.Calls("GET /products"))
}

func TestCallerCancellationIsNotAnUpstreamFailure(t *testing.T) {
	fake, c, m := setup(t, func(cfg *catalogclient.Config) { cfg.BreakerFailures = 1 })
	fake.SetDelay(time.Second)
	cctx, cancel := context.WithTimeout(context.Background(), 30*time.Millisecond)
	defer cancel()
	_, err := c.Get(cctx, uuid.NewString(), actor)
	require.ErrorIs(t, err, context.DeadlineExceeded)
	assert.False(t, errors.Is(err, domain.ErrUpstreamUnavailable))
	assert.Equal(t, metrics.CircuitClosed, c.Circuit(), "the caller gave up; the upstream was not judged")
	assert.Equal(t, 0.0, circuitGauge(t, m))
}

func TestUpstream4xxPassesThrough(t *testing.T) {
	fake, c, _ := setup(t, nil)
	p := seed(fake, 1)

	t.Run("404 from the contract", func(t *testing.T) {
		_, err := c.Get(ctx(t), uuid.NewString(), actor)
		var up *catalogclient.UpstreamProblem
		require.ErrorAs(t, err, &up)
		assert.Equal(t, 404, up.Status)
		assert.Equal(t, "not_found", up.Code)
		assert.Equal(t, "product not found", up.Detail)
		assert.ErrorIs(t, err, product.ErrNotFound)
		assert.ErrorIs(t, err, domain.ErrNotFound)
		assert.False(t, errors.Is(err, domain.ErrUpstreamUnavailable))
	})

	t.Run("422 with field errors", func(t *testing.T) {
		_, err := c.Create(ctx(t), product.Draft{Name: "", Category: "c", Price: 0, SellerID: uuid.NewString()}, actor)
		var up *catalogclient.UpstreamProblem
		require.ErrorAs(t, err, &up)
		assert.Equal(t, 422, up.Status)
		assert.Equal(t, "validation_failed", up.Code)
		assert.Equal(t, "Validation failed", up.Title)
		assert.ElementsMatch(t, []string{"name", "price"}, []string{up.Errors[0].Field, up.Errors[1].Field})
		assert.ErrorIs(t, err, domain.ErrValidation)
		var verr *domain.ValidationError
		require.ErrorAs(t, err, &verr, "usable as a local validation error")
		assert.Len(t, verr.Fields, 2)
	})

	cases := []struct {
		name        string
		status      int
		contentType string
		body        string
		want        catalogclient.UpstreamProblem
		is          error
	}{
		{"403 problem+json", 403, "application/problem+json",
			`{"type":"x","title":"Forbidden","status":403,"code":"forbidden","detail":"not your product"}`,
			catalogclient.UpstreamProblem{Status: 403, Code: "forbidden", Title: "Forbidden", Detail: "not your product"},
			domain.ErrForbidden},
		{"409 code+message", 409, "application/json", `{"code":"sku_taken","message":"SKU already used"}`,
			catalogclient.UpstreamProblem{Status: 409, Code: "sku_taken", Title: "Conflict", Detail: "SKU already used"},
			domain.ErrConflict},
		{"400 html body is generic", 400, "text/html", `<html><body>nginx says no</body></html>`,
			catalogclient.UpstreamProblem{Status: 400, Code: "bad_request", Title: "Bad Request"}, nil},
		{"429 bad code is replaced", 429, "application/json", `{"code":"Rate Limited!\n","detail":"slow\u0000down"}`,
			catalogclient.UpstreamProblem{Status: 429, Code: "rate_limited", Title: "Too Many Requests", Detail: "slow down"}, nil},
		{"long detail is capped", 404, "application/json", `{"detail":"` + strings.Repeat("x", 5000) + `"}`,
			catalogclient.UpstreamProblem{Status: 404, Code: "not_found", Title: "Not Found", Detail: strings.Repeat("x", 500) + "…"},
			product.ErrNotFound},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fake.SetFault(func(w http.ResponseWriter, _ *http.Request) bool {
				w.Header().Set("Content-Type", tc.contentType)
				w.WriteHeader(tc.status)
				_, _ = io.WriteString(w, tc.body)
				return true
			})
			defer fake.SetFault(nil)
			fake.ResetCounters()
			_, err := c.Replace(ctx(t), p.ID, product.Draft{Name: "n", Category: "c", Price: 1}, actor)
			var up *catalogclient.UpstreamProblem
			require.ErrorAs(t, err, &up)
			assert.Equal(t, tc.want, *up)
			if tc.is != nil {
				assert.ErrorIs(t, err, tc.is)
			}
			assert.False(t, errors.Is(err, domain.ErrUpstreamUnavailable))
			assert.Equal(t, 1, fake.Requests(), "a 4xx is an answer: not retried")
		})
	}
}

func TestInsufficientStockFromUpstream(t *testing.T) {
	fake, c, _ := setup(t, nil)
	p := seed(fake, 1)
	err := c.Reserve(ctx(t), uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID, Quantity: 2}}, actor)
	var ise *product.InsufficientStockError
	require.ErrorAs(t, err, &ise)
	assert.Equal(t, p.ID, ise.ProductID)
	var up *catalogclient.UpstreamProblem
	assert.False(t, errors.As(err, &up), "a domain error, not a pass-through problem")
}

func TestMalformedAnswersAreUnavailable(t *testing.T) {
	cases := map[string]func(w http.ResponseWriter){
		"not JSON": func(w http.ResponseWriter) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, "<html>hello</html>")
		},
		"impossible product": func(w http.ResponseWriter) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"id":"x","price":-5,"stock":1}`)
		},
		"other currency": func(w http.ResponseWriter) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"id":"x","price":5,"currency":"USD","stock":1}`)
		},
		"oversized": func(w http.ResponseWriter) {
			w.WriteHeader(200)
			_, _ = io.WriteString(w, `{"id":"x","name":"`+strings.Repeat("a", catalogclient.MaxResponseBytes)+`"}`)
		},
		"redirect": func(w http.ResponseWriter) {
			w.Header().Set("Location", "/elsewhere")
			w.WriteHeader(302)
		},
	}
	for name, answer := range cases {
		t.Run(name, func(t *testing.T) {
			fake, c, _ := setup(t, nil)
			fake.SetFault(func(w http.ResponseWriter, _ *http.Request) bool { answer(w); return true })
			_, err := c.Get(ctx(t), uuid.NewString(), actor)
			require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
			assert.NotContains(t, err.Error(), "hello")
			assert.Equal(t, 1, fake.Requests(), "a malformed answer is not retried")
		})
	}
}

func TestCircuitBreaker(t *testing.T) {
	const openFor = 150 * time.Millisecond
	fake, c, m := setup(t, func(cfg *catalogclient.Config) {
		cfg.BreakerFailures = 3
		cfg.BreakerOpen = openFor
	})
	p := seed(fake, 5)
	assert.Equal(t, 0.0, circuitGauge(t, m), "closed at start")

	// 4xx answers never count.
	for range 5 {
		_, err := c.Get(ctx(t), uuid.NewString(), actor)
		require.ErrorIs(t, err, product.ErrNotFound)
	}
	assert.Equal(t, metrics.CircuitClosed, c.Circuit())

	// One GET = 3 failed attempts = 3 consecutive failures: open.
	fake.SetDown(true)
	fake.ResetCounters()
	_, err := c.Get(ctx(t), p.ID, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Equal(t, 3, fake.Requests())
	assert.Equal(t, metrics.CircuitOpen, c.Circuit())
	assert.Equal(t, 2.0, circuitGauge(t, m))

	// Open: every call fails at once without reaching the upstream.
	start := time.Now()
	for _, call := range []func() error{
		func() error { _, err := c.Get(ctx(t), p.ID, actor); return err },
		func() error {
			return c.Reserve(ctx(t), uuid.NewString(), []ports.ReservationItem{{ProductID: p.ID, Quantity: 1}}, actor)
		},
		func() error { return c.Ping(ctx(t)) },
	} {
		err := call()
		require.ErrorIs(t, err, catalogclient.ErrCircuitOpen)
		require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	}
	assert.Less(t, time.Since(start), 50*time.Millisecond)
	assert.Equal(t, 3, fake.Requests(), "the upstream was not called while open")

	// After BreakerOpen: half-open; a failed trial opens it again.
	time.Sleep(openFor + 20*time.Millisecond)
	assert.Equal(t, metrics.CircuitHalfOpen, c.Circuit())
	assert.Equal(t, 1.0, circuitGauge(t, m))
	_, err = c.Get(ctx(t), p.ID, actor)
	require.ErrorIs(t, err, domain.ErrUpstreamUnavailable)
	assert.Equal(t, 4, fake.Requests(), "one trial call, no retry through an open circuit")
	assert.Equal(t, metrics.CircuitOpen, c.Circuit())
	assert.Equal(t, 2.0, circuitGauge(t, m))

	// The upstream recovers: the next trial succeeds and closes the circuit.
	fake.SetDown(false)
	time.Sleep(openFor + 20*time.Millisecond)
	got, err := c.Get(ctx(t), p.ID, actor)
	require.NoError(t, err)
	assert.Equal(t, p.ID, got.ID())
	assert.Equal(t, metrics.CircuitClosed, c.Circuit())
	assert.Equal(t, 0.0, circuitGauge(t, m))
}

func TestCircuitOpensOnRefusedConnections(t *testing.T) {
	fake, c, m := setup(t, func(cfg *catalogclient.Config) {
		cfg.BreakerFailures = 2
		cfg.BreakerOpen = 100 * time.Millisecond
		cfg.MaxAttempts = 1
	})
	fake.Close()
	for range 2 {
		require.ErrorIs(t, c.Ping(ctx(t)), domain.ErrUpstreamUnavailable)
	}
	require.ErrorIs(t, c.Ping(ctx(t)), catalogclient.ErrCircuitOpen)
	assert.Equal(t, 2.0, circuitGauge(t, m))

	fake.Restart()
	time.Sleep(120 * time.Millisecond)
	require.NoError(t, c.Ping(ctx(t)))
	assert.Equal(t, metrics.CircuitClosed, c.Circuit())
}

func TestIdsThatAreNotUUIDsAreNotSent(t *testing.T) {
	fake, c, _ := setup(t, nil)
	_, err := c.Get(ctx(t), "../reservations/x", actor)
	assert.ErrorIs(t, err, product.ErrNotFound)
	assert.ErrorIs(t, c.Delete(ctx(t), "x", actor), product.ErrNotFound)
	found, err := c.Lookup(ctx(t), []string{"a", "b"}, actor)
	require.NoError(t, err)
	assert.Empty(t, found)
	assert.NoError(t, c.Release(ctx(t), "x", actor))
	assert.Zero(t, fake.Requests())
}

func TestBadBaseURL(t *testing.T) {
	c := catalogclient.New(catalogclient.Config{BaseURL: "catalog:8080"})
	_, err := c.Get(ctx(t), uuid.NewString(), actor)
	require.Error(t, err)
	assert.Contains(t, err.Error(), "base URL")
}

func TestBaseURLPathPrefixIsKept(t *testing.T) {
	paths := make(chan string, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		paths <- r.URL.Path
		_, _ = io.WriteString(w, `{"items":[],"total":0}`)
	}))
	defer srv.Close()
	c := catalogclient.New(catalogclient.Config{BaseURL: srv.URL + "/v1/"})
	require.NoError(t, c.Ping(ctx(t)))
	assert.Equal(t, "/v1/products", <-paths)
}

func BenchmarkClientGet(b *testing.B) {
	fake := fakecatalog.New()
	defer fake.Close()
	p := seed(fake, 1)
	c := catalogclient.New(catalogclient.Config{BaseURL: fake.URL()})
	bctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if _, err := c.Get(bctx, p.ID, actor); err != nil {
			b.Fatal(err)
		}
	}
}

// The default client keeps a connection per concurrent caller warm, like
// nginx's keepalive 128: a second burst of 100 concurrent calls opens no new
// connection, and none asks for gzip.
func TestDefaultClientKeepsConnectionsWarm(t *testing.T) {
	const callers = 100
	var mu sync.Mutex
	conns := 0
	arrived := make(chan struct{}, callers)
	release := make(chan struct{})
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		assert.Empty(t, r.Header.Get("Accept-Encoding"))
		arrived <- struct{}{}
		<-release
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, `{"items":[],"total":0}`)
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			mu.Lock()
			conns++
			mu.Unlock()
		}
	}
	srv.Start()
	t.Cleanup(srv.Close)
	c := catalogclient.New(catalogclient.Config{BaseURL: srv.URL, Timeout: 10 * time.Second})

	burst := func() {
		var wg sync.WaitGroup
		for range callers {
			wg.Add(1)
			go func() {
				defer wg.Done()
				_, err := c.List(ctx(t), ports.ProductQuery{}, user.Actor{})
				assert.NoError(t, err)
			}()
		}
		for range callers {
			<-arrived // every call holds a connection at once
		}
		for range callers {
			release <- struct{}{}
		}
		wg.Wait()
	}
	burst()
	mu.Lock()
	first := conns
	mu.Unlock()
	require.Equal(t, callers, first)
	burst()
	mu.Lock()
	defer mu.Unlock()
	assert.Equal(t, first, conns, "the second burst reused the idle connections")
}
