package fault

import (
	"net/http"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/test/testapp"
	"github.com/ultramarket/gateway/test/testenv"
)

// fastAnswer bounds every answer given while a dependency is down: a clear
// error quickly, never a hang (the Redis client has 1 s read and 2 s dial
// timeouts, and a refused connection fails at once).
const fastAnswer = 3 * time.Second

// Redis dies while the gateway serves and comes back empty. DESIGN.md:
// "Losing Redis logs users out; it never loses an order or a payment."
//
// While it is down:
//   - /health/ready answers 503 with checks.redis down (postgres still ok);
//     /health stays 200;
//   - login and register answer 503 service_unavailable, fast; a register
//     refused this way leaves no account behind (the same email registers
//     fine afterwards);
//   - bearer routes (GET /api/auth/me, POST /api/orders) answer 503
//     service_unavailable, fast: every token is checked against its session
//     in Redis (API.md: logout takes effect at once on every instance), so
//     while Redis cannot be asked the gateway fails closed with a retryable
//     503, neither a 401 that would make clients drop their tokens nor a 500;
//   - anonymous catalog reads and the Payme webhook, which need no Redis,
//     keep working: a pending order placed before the outage is paid
//     (CheckPerform, Create, Perform) and becomes paid.
//
// After Redis is back (empty, on the same address) without restarting the
// gateway: readiness is 200 again, the old access token is 401
// token_revoked (API.md: a session Redis no longer knows has ended), the old
// refresh token is refused, and a new login works end to end and still sees
// the order paid during the outage.
func TestRedisStoppedAndRestarted(t *testing.T) {
	t.Parallel()
	rds := startRedis(t)
	cfg := faultConfig(t)
	cfg.RedisURL = rds.URL()
	// A prefix of our own: nothing of this test is in the shared Redis.
	app := testapp.StartApp(t, cfg, "fault:"+randomHex(8)+":")
	base := app.BaseURL
	db := testenv.OpenURL(t, cfg.DatabaseURL)
	productID := insertProduct(t, db, 75_000, 10)

	buyer := register(t, base)
	pending := placeOrder(t, base, buyer.Access, productID, 2) // paid during the outage
	code, rep, err := ready(base)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, code, "%+v", rep)

	rds.Stop()

	eventually(t, 5*time.Second, "readiness reporting redis down", func() (bool, string) {
		code, rep, err := ready(base)
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusServiceUnavailable && rep.Status == "unavailable" &&
			rep.Checks["redis"].Status == "down" && rep.Checks["postgres"].Status == "ok", ""
	})
	requireStatus(t, do(t, base, http.MethodGet, "/health", "", nil), http.StatusOK)

	// Everything that needs Redis: a clear, fast, retryable 503.
	refusedEmail := uniqueEmail("during-outage")
	for _, c := range []struct {
		name, method, path, token string
		body                      any
	}{
		{"login", http.MethodPost, "/api/auth/login", "", loginBody(buyer.Email)},
		{"register", http.MethodPost, "/api/auth/register", "", registerBody(refusedEmail)},
		{"refresh", http.MethodPost, "/api/auth/refresh", "", map[string]any{"refresh_token": buyer.Refresh}},
		{"me", http.MethodGet, "/api/auth/me", buyer.Access, nil},
		{"place order", http.MethodPost, "/api/orders", buyer.Access, orderBody(productID, 1)},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := do(t, base, c.method, c.path, c.token, c.body)
			requireProblem(t, r, http.StatusServiceUnavailable, "service_unavailable")
			assert.Less(t, r.Took, fastAnswer, "%s answers fast while Redis is down", c.name)
		})
	}

	// What needs no Redis keeps working: the catalog, and Payme paying an order.
	r := do(t, base, http.MethodGet, "/api/products", "", nil)
	requireStatus(t, r, http.StatusOK)
	assert.Less(t, r.Took, fastAnswer)
	pid := payOrder(t, base, pending)
	var status string
	require.NoError(t, db.Get(&status, `SELECT status FROM orders WHERE id = $1`, pending.ID))
	assert.Equal(t, "paid", status, "Payme paid the order while Redis was down")
	var settled int
	require.NoError(t, db.Get(&settled, `SELECT count(*) FROM order_settlements s
		JOIN payme_transactions p ON p.id::text = s.provider_tx_id AND p.order_id = s.order_id
		WHERE s.order_id = $1 AND s.provider = 'payme' AND p.payme_id = $2 AND p.state = 2`, pending.ID, pid))
	assert.Equal(t, 1, settled)
	var accounts int
	require.NoError(t, db.Get(&accounts, `SELECT count(*) FROM users WHERE email = $1`, refusedEmail))
	assert.Zero(t, accounts, "a register refused for want of Redis leaves no account behind")

	rds.Start() // empty: --save "" and --appendonly no

	eventually(t, 10*time.Second, "readiness back to 200 without restarting the gateway", func() (bool, string) {
		code, rep, err := ready(base)
		if err != nil {
			return false, err.Error()
		}
		return code == http.StatusOK && rep.Status == "ok", rep.Status
	})

	// Redis lost every session: old tokens are of ended sessions.
	requireProblem(t, do(t, base, http.MethodGet, "/api/auth/me", buyer.Access, nil), http.StatusUnauthorized, "token_revoked")
	requireProblem(t, do(t, base, http.MethodPost, "/api/orders", buyer.Access, orderBody(productID, 1)), http.StatusUnauthorized, "token_revoked")
	// The refresh token is refused too. Today it reads as unknown (401
	// unauthorized): unlike the signed access token, nothing proves an
	// unsigned refresh token was ever ours once its session is gone. API.md
	// fixes token_revoked only for access tokens, so either code passes.
	r = do(t, base, http.MethodPost, "/api/auth/refresh", "", map[string]any{"refresh_token": buyer.Refresh})
	require.Equal(t, http.StatusUnauthorized, r.Status, "%s", r)
	p, ok := problemOf(r)
	require.True(t, ok, "%s", r)
	assert.Contains(t, []string{"token_revoked", "unauthorized"}, p.Code, "%s", r)

	// New logins work, and so does everything behind them.
	r = do(t, base, http.MethodPost, "/api/auth/login", "", loginBody(buyer.Email))
	requireStatus(t, r, http.StatusOK)
	again := authOf(t, r)
	requireStatus(t, do(t, base, http.MethodGet, "/api/auth/me", again.Access, nil), http.StatusOK)
	got := requireStatus(t, do(t, base, http.MethodGet, "/api/orders/"+pending.ID, again.Access, nil), http.StatusOK)
	assert.Equal(t, "paid", got["status"], "the payment made during the outage is kept")
	placeOrder(t, base, again.Access, productID, 1)
	requireStatus(t, do(t, base, http.MethodPost, "/api/auth/register", "", registerBody(refusedEmail)), http.StatusCreated)
}
