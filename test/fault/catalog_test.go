package fault

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	fakecatalog "github.com/ultramarket/gateway/test/fakes/catalog"
	"github.com/ultramarket/gateway/test/testapp"
)

// openAnswer bounds an answer given while the circuit is open: no network
// call is made, so it is the gateway's own overhead (generous for -race on a
// busy CI machine).
const openAnswer = 500 * time.Millisecond

// The upstream catalog (CATALOG_URL) goes down twice — first answering 500,
// then refusing connections — and comes back each time. API.md: "When the
// catalog cannot be reached: 503 upstream_unavailable, fast (the circuit is
// open), never a hang"; DESIGN.md: CATALOG_BREAKER_FAILURES consecutive
// failures open the circuit for CATALOG_BREAKER_OPEN, then a trial call.
//
// It shows, on /metrics of the ops listener, catalog_circuit_state going
// 0 → 2 → 0 (and 2 → 0 again for the refused connections); that while open
// nothing reaches the upstream (the fake's request counter stops) and
// answers are fast 503 upstream_unavailable; that a trial call while the
// upstream is still down reopens the circuit; and that once the upstream is
// back and the open period has passed, the next request succeeds and closes
// the circuit.
func TestCatalogDownOpensTheCircuitAndRecovers(t *testing.T) {
	t.Parallel()
	const failures, open = 5, 2 * time.Second
	upstream := fakecatalog.New()
	t.Cleanup(upstream.Close)
	product := upstream.Seed(fakecatalog.Product{Name: "Suzani", Category: "textiles", Price: 90_000, Stock: 3,
		SellerID: "6f1c9a52-3b7e-4d0a-9c1e-2a4b5c6d7e8f", Active: true})

	cfg := faultConfig(t)
	cfg.CatalogURL = upstream.URL()
	cfg.CatalogBreakerFailures = failures
	cfg.CatalogBreakerOpen = open
	cfg.CatalogTimeout = 500 * time.Millisecond
	app := testapp.StartApp(t, cfg, "")
	base, ops := app.BaseURL, app.OpsURL

	listOK := func() {
		t.Helper()
		r := do(t, base, http.MethodGet, "/api/products", "", nil)
		body := requireStatus(t, r, http.StatusOK)
		items, _ := body["items"].([]any)
		require.Len(t, items, 1, "%s", r)
		assert.Equal(t, product.ID, items[0].(map[string]any)["id"])
	}
	listOK()
	require.Equal(t, 0.0, gauge(t, ops, "catalog_circuit_state"), "closed")

	// openCircuit sends lists until the circuit opens and checks each is a
	// bounded 503 upstream_unavailable.
	openCircuit := func(how string) {
		t.Helper()
		for i := 0; gauge(t, ops, "catalog_circuit_state") != 2; i++ {
			// A GET is tried up to 3 times, so ⌈failures/3⌉ lists open it.
			require.Less(t, i, failures, "%s: the circuit did not open after %d failing lists", how, i)
			r := do(t, base, http.MethodGet, "/api/products", "", nil)
			requireProblem(t, r, http.StatusServiceUnavailable, "upstream_unavailable")
			assert.Less(t, r.Took, fastAnswer, "%s: never a hang", how)
		}
	}
	// whileOpen checks answers are fast 503s that never reach the upstream.
	whileOpen := func(how string) {
		t.Helper()
		before := upstream.Requests()
		for _, path := range []string{"/api/products", "/api/products/" + product.ID, "/api/products?page=2"} {
			r := do(t, base, http.MethodGet, path, "", nil)
			requireProblem(t, r, http.StatusServiceUnavailable, "upstream_unavailable")
			assert.Less(t, r.Took, openAnswer, "%s: GET %s answers at once while the circuit is open", how, path)
		}
		assert.Equal(t, before, upstream.Requests(), "%s: nothing reaches the upstream while the circuit is open", how)
		assert.Equal(t, 2.0, gauge(t, ops, "catalog_circuit_state"), "%s: still open", how)
	}

	// 1. The upstream answers 500 to everything.
	upstream.SetDown(true)
	upstream.ResetCounters()
	openCircuit("answering 500")
	assert.Equal(t, failures, upstream.Requests(), "exactly CATALOG_BREAKER_FAILURES attempts reached the upstream")
	whileOpen("answering 500")

	// Still down when the open period ends: the one trial call fails and the
	// circuit opens again.
	time.Sleep(open + 100*time.Millisecond)
	requireProblem(t, do(t, base, http.MethodGet, "/api/products", "", nil), http.StatusServiceUnavailable, "upstream_unavailable")
	assert.Equal(t, failures+1, upstream.Requests(), "one trial call, no retry while half-open")
	assert.Equal(t, 2.0, gauge(t, ops, "catalog_circuit_state"), "the failed trial reopened the circuit")
	whileOpen("after a failed trial")

	// Back: after the open period the next request succeeds and closes it.
	upstream.SetDown(false)
	time.Sleep(open + 100*time.Millisecond)
	listOK()
	assert.Equal(t, 0.0, gauge(t, ops, "catalog_circuit_state"), "closed again after a successful trial")
	listOK()

	// 2. The upstream process is gone: connections are refused.
	upstream.Close()
	openCircuit("refusing connections")
	whileOpen("refusing connections")
	upstream.Restart()
	time.Sleep(open + 100*time.Millisecond)
	listOK()
	assert.Equal(t, 0.0, gauge(t, ops, "catalog_circuit_state"), "closed again after the upstream restarted")
	requireStatus(t, do(t, base, http.MethodGet, "/api/products/"+product.ID, "", nil), http.StatusOK)
}
