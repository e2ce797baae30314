package e2e

// Helpers of the Payme end-to-end tests: a gateway with Payme credentials,
// buyers, products and pending orders placed straight in the database (the
// ordering routes are another part's), and Payme's JSON-RPC calls. Names carry
// a payme prefix: the other parts' tests share this package.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/postgres"
	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testapp"
	"github.com/ultramarket/gateway/test/testenv"
)

const (
	paymeLogin    = "Paycom"
	paymeKey      = "Zx9gK3pQ7mN2vB5cX8zL1aS4dF6gH0jK2lM4" // 36 characters, like a cashbox TEST_KEY
	paymeMerchant = "587f72c72cac0d162c722ae2"
	paymeRoute    = "/api/payments/payme"
)

var (
	paymeSeq    atomic.Int64
	paymeClient = &http.Client{Timeout: 30 * time.Second}
	paymeAuth   = "Basic " + base64.StdEncoding.EncodeToString([]byte(paymeLogin+":"+paymeKey))
)

// paymeGateway is one running instance (or several on one database) plus
// direct SQL on the database.
type paymeGateway struct {
	apps []*testapp.RunningApp
	db   *sqlx.DB
	cfg  config.Config
}

// paymeConfig is a test configuration with Payme's credentials.
func paymeConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := testapp.Config(t)
	cfg.PaymeLogin, cfg.PaymeKey, cfg.PaymeMerchantID = paymeLogin, paymeKey, paymeMerchant
	cfg.RateLimitAuth = config.RateLimit{Off: true}
	cfg.RateLimitAPI = config.RateLimit{Off: true}
	return cfg
}

// newPaymeGateway boots instances gateways on one fresh database (cfg from
// paymeConfig, adjusted by mod), sharing a Redis prefix like a real fleet.
func newPaymeGateway(t *testing.T, instances int, mod func(*config.Config)) *paymeGateway {
	t.Helper()
	cfg := paymeConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	g := &paymeGateway{cfg: cfg}
	prefix := testenv.NewRedisPrefix(t)
	for range instances {
		g.apps = append(g.apps, testapp.StartApp(t, cfg, prefix))
	}
	g.db = testenv.OpenURL(t, cfg.DatabaseURL)
	return g
}

// paymeOrder is an order placed in the database: pending_payment, one line
// of a product whose stock holds a reservation of quantity for it.
type paymeOrder struct {
	ID, ProductID string
	Total         int64
	Quantity      int64
	StockAfter    int64 // the product's stock with the reservation taken
}

// newOrder places a pending_payment order of total tiyin (quantity 2 of a
// product priced total/2), reserving its stock the way the built-in catalog
// does: stock lowered, a stock_reservations row.
func (g *paymeGateway) newOrder(t *testing.T, total int64) paymeOrder {
	t.Helper()
	require.Zero(t, total%2, "total is two equal lines")
	ctx := context.Background()
	n := paymeSeq.Add(1)
	u, err := user.New(uuid.NewString(), fmt.Sprintf("payme-buyer-%d@example.uz", n), "argon2id$not-a-real-hash",
		"Payme Buyer", "", time.Now().UTC())
	require.NoError(t, err)
	require.NoError(t, postgres.NewUserRepo(g.db).Create(ctx, u))

	po := paymeOrder{ProductID: uuid.NewString(), Total: total, Quantity: 2, StockAfter: 8}
	_, err = g.db.ExecContext(ctx, `INSERT INTO products (id, seller_id, name, category, price, stock)
		VALUES ($1, $2, 'Rishton lagan', 'ceramics', $3, $4)`, po.ProductID, uuid.NewString(), total/2, po.StockAfter)
	require.NoError(t, err)

	o, err := order.New(uuid.NewString(), u.ID(), []order.Item{{
		ProductID: po.ProductID, Name: "Rishton lagan", UnitPrice: money.MustTiyin(total / 2), Quantity: po.Quantity,
	}}, order.Address{Region: "Toshkent", City: "Toshkent", Street: "Amir Temur 1", Phone: "+998901234567"}, "", time.Now().UTC())
	require.NoError(t, err)
	require.NoError(t, postgres.NewOrderRepo(g.db).Create(ctx, o))
	_, err = g.db.ExecContext(ctx, `INSERT INTO stock_reservations (order_id, product_id, quantity) VALUES ($1, $2, $3)`,
		o.ID(), po.ProductID, po.Quantity)
	require.NoError(t, err)
	po.ID = o.ID()
	return po
}

func (g *paymeGateway) orderStatus(t *testing.T, id string) string {
	t.Helper()
	var s string
	require.NoError(t, g.db.Get(&s, `SELECT status FROM orders WHERE id = $1`, id))
	return s
}

// stock is the product's stock and how much of it the order still holds.
func (g *paymeGateway) stock(t *testing.T, o paymeOrder) (stock, reserved int64) {
	t.Helper()
	require.NoError(t, g.db.Get(&stock, `SELECT stock FROM products WHERE id = $1`, o.ProductID))
	require.NoError(t, g.db.Get(&reserved, `SELECT COALESCE(SUM(quantity), 0) FROM stock_reservations WHERE order_id = $1`, o.ID))
	return stock, reserved
}

// ship moves a paid order to shipped (or delivered), as an admin would.
func (g *paymeGateway) ship(t *testing.T, id string, delivered bool) {
	t.Helper()
	q := `UPDATE orders SET status = 'shipped', shipped_at = now(), updated_at = now() WHERE id = $1 AND status = 'paid'`
	if delivered {
		q = `UPDATE orders SET status = 'delivered', shipped_at = now(), delivered_at = now(), updated_at = now()
			WHERE id = $1 AND status = 'paid'`
	}
	res, err := g.db.Exec(q, id)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "order %s was not paid", id)
}

func (g *paymeGateway) count(t *testing.T, query string, args ...any) int {
	t.Helper()
	var n int
	require.NoError(t, g.db.Get(&n, query, args...))
	return n
}

// paymeReply is one answer: the raw bytes (for byte-for-byte comparisons)
// and its parsed envelope.
type paymeReply struct {
	Raw    []byte
	ID     json.RawMessage
	Result map[string]any
	Error  *paymeRPCError
}

type paymeRPCError struct {
	Code    int               `json:"code"`
	Message map[string]string `json:"message"`
	Data    any               `json:"data"`
}

func (r paymeReply) String() string { return string(r.Raw) }

// raw posts body to instance i with the Authorization header auth ("" for
// none) and parses the answer, which must be HTTP 200 JSON-RPC.
func (g *paymeGateway) raw(t *testing.T, i int, body []byte, auth string) paymeReply {
	t.Helper()
	r, err := g.rawErr(i, body, auth)
	require.NoError(t, err)
	return r
}

// rawErr is raw for goroutines: it reports instead of failing.
func (g *paymeGateway) rawErr(i int, body []byte, auth string) (paymeReply, error) {
	req, err := http.NewRequestWithContext(context.Background(), http.MethodPost, g.apps[i%len(g.apps)].BaseURL+paymeRoute, bytes.NewReader(body))
	if err != nil {
		return paymeReply{}, err
	}
	req.Header.Set("Content-Type", "text/json; charset=UTF-8")
	if auth != "" {
		req.Header.Set("Authorization", auth)
	}
	resp, err := paymeClient.Do(req)
	if err != nil {
		return paymeReply{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(resp.Body)
	if err != nil {
		return paymeReply{}, err
	}
	if resp.StatusCode != http.StatusOK {
		return paymeReply{}, fmt.Errorf("HTTP %d: %s", resp.StatusCode, raw)
	}
	var env struct {
		JSONRPC string          `json:"jsonrpc"`
		ID      json.RawMessage `json:"id"`
		Result  map[string]any  `json:"result"`
		Error   *paymeRPCError  `json:"error"`
	}
	if err := json.Unmarshal(raw, &env); err != nil {
		return paymeReply{}, fmt.Errorf("not JSON: %w: %s", err, raw)
	}
	if env.JSONRPC != "2.0" || (env.Result == nil) == (env.Error == nil) {
		return paymeReply{}, fmt.Errorf("not a JSON-RPC answer: %s", raw)
	}
	return paymeReply{Raw: raw, ID: env.ID, Result: env.Result, Error: env.Error}, nil
}

// paymeBody is a Payme request body.
func paymeBody(id any, method string, params map[string]any) []byte {
	b, err := json.Marshal(map[string]any{"method": method, "params": params, "id": id})
	if err != nil {
		panic(err)
	}
	return b
}

// call sends method with params to the first instance, as Payme would.
func (g *paymeGateway) call(t *testing.T, method string, params map[string]any) paymeReply {
	t.Helper()
	return g.raw(t, 0, paymeBody(paymeSeq.Add(1), method, params), paymeAuth)
}

// twice sends the same body twice and requires byte-for-byte identical
// answers, as Payme's sandbox does for Create, Perform and Cancel.
func (g *paymeGateway) twice(t *testing.T, method string, params map[string]any) paymeReply {
	t.Helper()
	body := paymeBody(paymeSeq.Add(1), method, params)
	first := g.raw(t, 0, body, paymeAuth)
	again := g.raw(t, len(g.apps)-1, body, paymeAuth)
	require.Equal(t, first.String(), again.String(), "%s sent twice must get the same answer, byte for byte", method)
	return first
}

func paymeAccount(orderID string) map[string]any { return map[string]any{"order_id": orderID} }

// paymeNewID is a fresh Payme transaction id, 24 hex characters like Payme's.
func paymeNewID() string {
	return strings.ReplaceAll(uuid.NewString(), "-", "")[:24]
}

func paymeNowMillis() int64 { return time.Now().UnixMilli() }

func paymeCreateParams(pid string, paymeTime int64, o paymeOrder) map[string]any {
	return map[string]any{"id": pid, "time": paymeTime, "amount": o.Total, "account": paymeAccount(o.ID)}
}

// expectPaymeError checks an error answer's code and data.
func expectPaymeError(t *testing.T, r paymeReply, code int, data any) {
	t.Helper()
	require.NotNil(t, r.Error, "expected error %d, got %s", code, r)
	assert.Equal(t, code, r.Error.Code, r.String())
	assert.Equal(t, data, r.Error.Data, r.String())
	for _, lang := range []string{"ru", "uz", "en"} {
		assert.NotEmpty(t, r.Error.Message[lang], "message.%s", lang)
	}
}

// expectPaymeResult checks a success answer and returns its result.
func expectPaymeResult(t *testing.T, r paymeReply) map[string]any {
	t.Helper()
	require.Nil(t, r.Error, "expected a result, got %s", r)
	return r.Result
}

// paymeNum reads a JSON number of a result as int64 (JSON numbers arrive as float64;
// the values here are below 2^53, where that is exact).
func paymeNum(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	v, ok := m[key].(float64)
	require.True(t, ok, "%s is not a number: %v", key, m[key])
	return int64(v)
}

// paymeNets parses CIDRs for the configuration.
func paymeNets(t *testing.T, cidrs ...string) []*net.IPNet {
	t.Helper()
	out := make([]*net.IPNet, 0, len(cidrs))
	for _, c := range cidrs {
		_, n, err := net.ParseCIDR(c)
		require.NoError(t, err)
		out = append(out, n)
	}
	return out
}
