// Package fault injects the failures a production gateway meets — Redis lost
// and back, Postgres connections killed under load, the upstream catalog down
// and back, SIGTERM during load — into a whole gateway and checks what API.md
// and DESIGN.md promise about each. Every test is independent, bounded in
// time and touches only what it started: a private redis-server, the
// backends of its own database, its own fake catalog, its own process.
// The shared Postgres and Redis other packages use are never stopped.
package fault

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net"
	"net/http"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testapp"
	"github.com/ultramarket/gateway/test/testsupport"
)

const (
	paymeLogin    = "Paycom"
	paymeKey      = "Fault9gK3pQ7mN2vB5cX8zL1aS4dF6gH0jK2" // 36 characters, like a cashbox key
	paymeMerchant = "587f72c72cac0d162c722ae2"
	paymeRoute    = "/api/payments/payme"
	password      = "Plum-Orchard-Lantern-71" // passes the policy
)

var (
	// client gives up long after any answer the tests accept, so a hang shows
	// as a failure of the test's own latency bound, not as a stuck test.
	client    = &http.Client{Timeout: 15 * time.Second}
	paymeAuth = "Basic " + base64.StdEncoding.EncodeToString([]byte(paymeLogin+":"+paymeKey))
	seq       atomic.Int64
)

// faultConfig is a fresh test configuration (own database, loopback ports)
// with Payme's credentials and both rate limits off, so load is not throttled.
func faultConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := testapp.Config(t)
	cfg.PaymeLogin, cfg.PaymeKey, cfg.PaymeMerchantID = paymeLogin, paymeKey, paymeMerchant
	cfg.RateLimitAuth = config.RateLimit{Off: true}
	cfg.RateLimitAPI = config.RateLimit{Off: true}
	return cfg
}

func randomHex(n int) string {
	b := make([]byte, n)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func uniqueEmail(tag string) string {
	return fmt.Sprintf("%s-%d-%s@example.uz", tag, seq.Add(1), randomHex(3))
}

// ---------------------------------------------------------------------------
// HTTP

// reply is what a client saw of one request.
type reply struct {
	Status int
	Header http.Header
	Body   []byte
	Took   time.Duration
}

func (r reply) String() string {
	b := string(r.Body)
	if len(b) > 500 {
		b = b[:500] + "..."
	}
	return fmt.Sprintf("HTTP %d (%s) %s", r.Status, r.Took.Round(time.Millisecond), b)
}

// call performs one request and reads the whole answer; safe off the test
// goroutine. body is JSON-encoded unless it is nil or []byte.
func call(base, method, path, token string, body any, header map[string]string) (reply, error) {
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return reply{}, err
		}
		rd = bytes.NewReader(enc)
	}
	req, err := http.NewRequestWithContext(context.Background(), method, base+path, rd)
	if err != nil {
		return reply{}, err
	}
	if rd != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	start := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return reply{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return reply{}, fmt.Errorf("read body of HTTP %d: %w", resp.StatusCode, err)
	}
	return reply{Status: resp.StatusCode, Header: resp.Header, Body: data, Took: time.Since(start)}, nil
}

// do is call that fails the test on a transport error.
func do(t *testing.T, base, method, path, token string, body any) reply {
	t.Helper()
	r, err := call(base, method, path, token, body, nil)
	require.NoError(t, err, "%s %s", method, path)
	return r
}

type problem struct {
	Status    int    `json:"status"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	RequestID string `json:"request_id"`
}

// problemOf returns the problem of r when r is an application/problem+json
// answer whose body's status is the response's; ok is false otherwise.
func problemOf(r reply) (problem, bool) {
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil || mt != "application/problem+json" {
		return problem{}, false
	}
	var p problem
	if json.Unmarshal(r.Body, &p) != nil || p.Status != r.Status || p.Code == "" {
		return problem{}, false
	}
	return p, true
}

// requireProblem checks r is the problem status/code.
func requireProblem(t *testing.T, r reply, status int, code string) {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	p, ok := problemOf(r)
	require.True(t, ok, "a problem+json answer: %s", r)
	require.Equal(t, code, p.Code, "%s", r)
	require.Equal(t, r.Header.Get("X-Request-ID"), p.RequestID, "%s", r)
}

func requireStatus(t *testing.T, r reply, status int) map[string]any {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	if len(r.Body) == 0 {
		return nil
	}
	var m map[string]any
	require.NoError(t, json.Unmarshal(r.Body, &m), "%s", r)
	return m
}

// ---------------------------------------------------------------------------
// Identity and orders

type account struct {
	Email, ID, Access, Refresh string
}

func authOf(t *testing.T, r reply) account {
	t.Helper()
	var out struct {
		User struct {
			ID    string `json:"id"`
			Email string `json:"email"`
		} `json:"user"`
		Tokens struct {
			Access  string `json:"access_token"`
			Refresh string `json:"refresh_token"`
		} `json:"tokens"`
	}
	require.NoError(t, json.Unmarshal(r.Body, &out), "%s", r)
	require.NotEmpty(t, out.Tokens.Access, "%s", r)
	return account{Email: out.User.Email, ID: out.User.ID, Access: out.Tokens.Access, Refresh: out.Tokens.Refresh}
}

func registerBody(email string) map[string]any {
	return map[string]any{"email": email, "password": password, "full_name": "Fault Buyer"}
}

func loginBody(email string) map[string]any {
	return map[string]any{"email": email, "password": password}
}

// register makes a customer through the API.
func register(t *testing.T, base string) account {
	t.Helper()
	r := do(t, base, http.MethodPost, "/api/auth/register", "", registerBody(uniqueEmail("fault")))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	return authOf(t, r)
}

// insertProduct adds an active product of the built-in catalog.
func insertProduct(t *testing.T, db *sqlx.DB, price, stock int64) string {
	t.Helper()
	id := uuid.NewString()
	_, err := db.Exec(`INSERT INTO products (id, seller_id, name, category, price, stock)
		VALUES ($1, $2, $3, 'ceramics', $4, $5)`, id, uuid.NewString(), fmt.Sprintf("Rishton lagan %d", seq.Add(1)), price, stock)
	require.NoError(t, err)
	return id
}

func address() map[string]any {
	return map[string]any{"region": "Toshkent", "city": "Toshkent", "street": "Amir Temur 108", "phone": "+998901234567"}
}

// orderBody is a POST /api/orders body of (product id, quantity) pairs.
func orderBody(lines ...any) map[string]any {
	items := []map[string]any{}
	for i := 0; i+1 < len(lines); i += 2 {
		items = append(items, map[string]any{"product_id": lines[i], "quantity": lines[i+1]})
	}
	return map[string]any{"items": items, "shipping_address": address()}
}

type placed struct {
	ID    string
	Total int64
}

func placedOf(r reply) (placed, error) {
	var o struct {
		ID     string `json:"id"`
		Total  int64  `json:"total"`
		Status string `json:"status"`
	}
	if err := json.Unmarshal(r.Body, &o); err != nil {
		return placed{}, err
	}
	if o.ID == "" || o.Total <= 0 || o.Status != "pending_payment" {
		return placed{}, fmt.Errorf("not a new order: %s", r)
	}
	return placed{ID: o.ID, Total: o.Total}, nil
}

// placeOrder places an order and requires 201.
func placeOrder(t *testing.T, base, token string, lines ...any) placed {
	t.Helper()
	r := do(t, base, http.MethodPost, "/api/orders", token, orderBody(lines...))
	require.Equal(t, http.StatusCreated, r.Status, "%s", r)
	o, err := placedOf(r)
	require.NoError(t, err)
	return o
}

// ---------------------------------------------------------------------------
// Payme

type paymeReply struct {
	Result map[string]any
	Error  *struct {
		Code int `json:"code"`
	}
	Raw []byte
}

func (r paymeReply) String() string { return string(r.Raw) }

// payme sends one Merchant API call as Payme would; the answer must be an
// HTTP 200 JSON-RPC envelope whatever happened.
func payme(base, method string, params map[string]any) (paymeReply, error) {
	body, _ := json.Marshal(map[string]any{"jsonrpc": "2.0", "id": seq.Add(1), "method": method, "params": params})
	r, err := call(base, http.MethodPost, paymeRoute, "", body, map[string]string{"Authorization": paymeAuth})
	if err != nil {
		return paymeReply{}, err
	}
	if r.Status != http.StatusOK {
		return paymeReply{}, fmt.Errorf("payme %s: %s", method, r)
	}
	var out paymeReply
	if err := json.Unmarshal(r.Body, &out); err != nil {
		return paymeReply{}, fmt.Errorf("payme %s: not JSON: %s", method, r)
	}
	if (out.Result == nil) == (out.Error == nil) {
		return paymeReply{}, fmt.Errorf("payme %s: not a JSON-RPC answer: %s", method, r)
	}
	out.Raw = r.Body
	return out, nil
}

func paymeID() string { return strings.ReplaceAll(uuid.NewString(), "-", "")[:24] }

// payOrder runs CheckPerform, Create and Perform for o and returns the Payme
// id; any refusal fails the test.
func payOrder(t *testing.T, base string, o placed) string {
	t.Helper()
	pid := paymeID()
	acct := map[string]any{"order_id": o.ID}
	for _, step := range []struct {
		method string
		params map[string]any
	}{
		{"CheckPerformTransaction", map[string]any{"amount": o.Total, "account": acct}},
		{"CreateTransaction", map[string]any{"id": pid, "time": time.Now().UnixMilli(), "amount": o.Total, "account": acct}},
		{"PerformTransaction", map[string]any{"id": pid}},
	} {
		r, err := payme(base, step.method, step.params)
		require.NoError(t, err)
		require.Nil(t, r.Error, "%s: %s", step.method, r)
	}
	return pid
}

// ---------------------------------------------------------------------------
// Health and metrics

type readiness struct {
	Status string `json:"status"`
	Checks map[string]struct {
		Status string `json:"status"`
		Error  string `json:"error"`
	} `json:"checks"`
}

func ready(base string) (int, readiness, error) {
	r, err := call(base, http.MethodGet, "/health/ready", "", nil, nil)
	if err != nil {
		return 0, readiness{}, err
	}
	var out readiness
	err = json.Unmarshal(r.Body, &out)
	return r.Status, out, err
}

// gauge reads one unlabelled sample of /metrics on the ops listener.
func gauge(t *testing.T, opsURL, name string) float64 {
	t.Helper()
	r := do(t, opsURL, http.MethodGet, "/metrics", "", nil)
	require.Equal(t, http.StatusOK, r.Status)
	s := bufio.NewScanner(bytes.NewReader(r.Body))
	s.Buffer(make([]byte, 1<<20), 1<<20)
	for s.Scan() {
		if v, ok := strings.CutPrefix(s.Text(), name+" "); ok {
			f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
			require.NoError(t, err)
			return f
		}
	}
	t.Fatalf("no %s sample in /metrics", name)
	return 0
}

// ---------------------------------------------------------------------------
// A private Redis

// privateRedis is a redis-server child process of the test on a port of its
// own, which the test may stop and start again: the shared Redis the other
// packages use is never touched. It stores nothing on disk.
type privateRedis struct {
	t    *testing.T
	port int
	dir  string
	log  *testsupport.SyncBuffer

	mu  sync.Mutex
	cmd *exec.Cmd
}

// startRedis starts a private redis-server on a free loopback port and kills
// it when the test ends.
func startRedis(t *testing.T) *privateRedis {
	t.Helper()
	_, err := exec.LookPath("redis-server")
	require.NoError(t, err, "redis-server must be installed (make services installs it)")
	r := &privateRedis{t: t, port: freePort(t), dir: t.TempDir(), log: &testsupport.SyncBuffer{}}
	r.Start()
	t.Cleanup(r.Stop)
	return r
}

// URL is the REDIS_URL of this server; it stays the same across restarts.
func (r *privateRedis) URL() string { return fmt.Sprintf("redis://127.0.0.1:%d/0", r.port) }

// Start starts the server (again) on its port and waits until it answers.
func (r *privateRedis) Start() {
	r.t.Helper()
	r.mu.Lock()
	defer r.mu.Unlock()
	require.Nil(r.t, r.cmd, "redis already running")
	deadline := time.Now().Add(10 * time.Second)
	for {
		cmd := exec.CommandContext(context.Background(), "redis-server",
			"--port", strconv.Itoa(r.port), "--bind", "127.0.0.1",
			"--save", "", "--appendonly", "no", "--dir", r.dir, "--loglevel", "warning")
		cmd.Stdout, cmd.Stderr = r.log, r.log
		require.NoError(r.t, cmd.Start())
		exited := make(chan struct{})
		go func() { _ = cmd.Wait(); close(exited) }()
		if r.waitPong(exited, deadline) {
			r.cmd = cmd
			return
		}
		// It exited (the port was not free yet) or never answered: try again.
		_ = cmd.Process.Kill()
		<-exited
		if time.Now().After(deadline) {
			r.t.Fatalf("private redis-server on port %d did not start: %s", r.port, r.log.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func (r *privateRedis) waitPong(exited <-chan struct{}, deadline time.Time) bool {
	for time.Now().Before(deadline) {
		select {
		case <-exited:
			return false
		default:
		}
		if ping(r.port) {
			return true
		}
		time.Sleep(10 * time.Millisecond)
	}
	return false
}

// Stop kills the server (SIGKILL: a crash, no goodbye to clients) and waits
// until its port refuses connections. Stopping a stopped server is a no-op.
func (r *privateRedis) Stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.cmd == nil {
		return
	}
	_ = r.cmd.Process.Signal(syscall.SIGKILL)
	for range 200 {
		if !ping(r.port) {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	r.cmd = nil
}

// ping sends PING over a raw connection and expects +PONG.
func ping(port int) bool {
	conn, err := (&net.Dialer{Timeout: 200 * time.Millisecond}).DialContext(context.Background(), "tcp", fmt.Sprintf("127.0.0.1:%d", port))
	if err != nil {
		return false
	}
	defer conn.Close()
	_ = conn.SetDeadline(time.Now().Add(500 * time.Millisecond))
	if _, err := conn.Write([]byte("PING\r\n")); err != nil {
		return false
	}
	line, err := bufio.NewReader(conn).ReadString('\n')
	return err == nil && strings.HasPrefix(line, "+PONG")
}

// freePort asks the kernel for a free loopback port.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := (&net.ListenConfig{}).Listen(context.Background(), "tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// eventually polls cond every 50 ms until it holds or within passes.
func eventually(t *testing.T, within time.Duration, what string, cond func() (bool, string)) {
	t.Helper()
	deadline := time.Now().Add(within)
	last := ""
	for {
		ok, msg := cond()
		if ok {
			return
		}
		last = msg
		if time.Now().After(deadline) {
			t.Fatalf("%s did not happen within %s; last: %s", what, within, last)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

// withTimeout is a context for a test's own SQL.
func withTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}
