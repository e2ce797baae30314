package main

// The gateways under test and the data they need: a fresh database, two
// `ultramarket serve` processes (built-in catalog; CATALOG_URL = the fake
// upstream), a super_admin made with `ultramarket create-admin`, a product
// with plenty of stock created through the API, and buyers registered
// through the API (so their passwords are hashed at the production argon2id
// cost the login scenario measures).

import (
	"bytes"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"time"

	_ "github.com/lib/pq"
)

const (
	pgAdminURL    = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"
	paymeLogin    = "Paycom"
	paymeKey      = "Bn7wQ2xL9kR4tV6yZ1cF3hJ5mP8sD0gA2eU4" // 36 characters, like a cashbox key
	paymeMerchant = "65f1c0de5a1b2c3d4e5f6a7b"
	benchPassword = "Saffron-Minaret-Caravan-48"
	adminEmail    = "bench-admin@example.uz"
)

// dbURL is the gateway's DATABASE_URL for database name.
func dbURL(name string) string {
	return "postgres://postgres@127.0.0.1:5432/" + name + "?sslmode=disable"
}

// recreateDatabase drops name (closing its connections) and creates it again.
func recreateDatabase(ctx context.Context, name string) error {
	db, err := sql.Open("postgres", pgAdminURL)
	if err != nil {
		return err
	}
	defer db.Close()
	ident := `"` + strings.ReplaceAll(name, `"`, `""`) + `"`
	if _, err := db.ExecContext(ctx, `DROP DATABASE IF EXISTS `+ident+` WITH (FORCE)`); err != nil {
		return fmt.Errorf("drop database %s: %w", name, err)
	}
	if _, err := db.ExecContext(ctx, `CREATE DATABASE `+ident); err != nil {
		return fmt.Errorf("create database %s: %w", name, err)
	}
	return nil
}

// configKeys are the gateway's environment variables (config.go): taken out
// of the inherited environment so only the harness's values apply.
var configKeys = []string{
	"APP_ENV", "HTTP_ADDR", "OPS_ADDR", "DATABASE_URL", "REDIS_URL", "JWT_SECRET", "ACCESS_TOKEN_TTL",
	"REFRESH_TOKEN_TTL", "CORS_ORIGINS", "PAYMENT_RETURN_HOSTS", "TRUSTED_PROXIES", "RATE_LIMIT_AUTH", "RATE_LIMIT_API",
	"ORDER_PAYMENT_TTL", "ORDER_MAX_UNPAID", "EXPIRY_SWEEP_INTERVAL", "CATALOG_URL", "CATALOG_TIMEOUT", "CATALOG_BREAKER_FAILURES",
	"CATALOG_BREAKER_OPEN", "CATALOG_CACHE_TTL", "PAYME_LOGIN", "PAYME_ALLOWED_IPS", "PAYME_MERCHANT_ID", "PAYME_KEY",
	"PAYME_CHECKOUT_URL", "CLICK_SERVICE_ID", "CLICK_MERCHANT_ID", "CLICK_SECRET_KEY", "CLICK_MERCHANT_USER_ID",
	"MIGRATE_ON_START", "SEED_DEMO", "SHUTDOWN_TIMEOUT", "ULTRAMARKET_ADMIN_PASSWORD", "SMS_PROVIDER", "ESKIZ_URL",
	"ESKIZ_EMAIL", "ESKIZ_PASSWORD", "ESKIZ_FROM", "OTP_TTL", "CLICK_API_URL", "CLICK_FISCAL_MAX_TRIES",
	"FISCAL_REQUIRED", "RECONCILE_INTERVAL", "EVENTS_URL", "EVENTS_STREAM",
}

// gatewayEnv is the environment of every gateway process (and create-admin).
func gatewayEnv(s settings, extra map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		k, _, _ := strings.Cut(kv, "=")
		skip := false
		for _, c := range configKeys {
			if k == c {
				skip = true
				break
			}
		}
		if !skip {
			env = append(env, kv)
		}
	}
	base := map[string]string{
		"APP_ENV":           "test",
		"SMS_PROVIDER":      "console",
		"DATABASE_URL":      dbURL(s.database),
		"REDIS_URL":         s.redisURL,
		"RATE_LIMIT_AUTH":   "off",
		"RATE_LIMIT_API":    "off",
		"SEED_DEMO":         "false",
		"MIGRATE_ON_START":  "true",
		"PAYME_LOGIN":       paymeLogin,
		"PAYME_KEY":         paymeKey,
		"PAYME_MERCHANT_ID": paymeMerchant,
		"SHUTDOWN_TIMEOUT":  "2s",
		// Sessions made by thousands of logins must not linger in Redis.
		"REFRESH_TOKEN_TTL": "1h",
		// Each orders worker places hundreds of orders it never pays: the
		// anti-hoarding limit would turn the flash sale into 409s.
		"ORDER_MAX_UNPAID": "1000000000",
	}
	for k, v := range extra {
		base[k] = v
	}
	for k, v := range base {
		env = append(env, k+"="+v)
	}
	return env
}

type gateway struct {
	name string
	base string // http://127.0.0.1:port
	ops  string // http://127.0.0.1:port of OPS_ADDR
	p    *proc
}

// startGateway runs `ultramarket serve` and waits until /health/ready says
// Postgres and Redis answer.
func startGateway(ctx context.Context, s settings, procs *procSet, name string, extra map[string]string) (*gateway, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	opsAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	env := map[string]string{"HTTP_ADDR": httpAddr, "OPS_ADDR": opsAddr}
	for k, v := range extra {
		env[k] = v
	}
	cmd := exec.CommandContext(context.Background(), s.binary, "serve")
	cmd.Env = gatewayEnv(s, env)
	logPath := filepath.Join(s.tmp, "gateway-"+name+".log")
	p, _, err := procs.start("gateway ("+name+")", cmd, logPath, false)
	if err != nil {
		return nil, err
	}
	g := &gateway{name: name, base: "http://" + httpAddr, ops: "http://" + opsAddr, p: p}
	client := &http.Client{Timeout: 2 * time.Second, Transport: &http.Transport{Proxy: nil}}
	end := time.Now().Add(90 * time.Second) // migrations of a fresh database included
	for time.Now().Before(end) {
		if !p.alive() {
			return nil, fmt.Errorf("gateway (%s) exited: %v; log %s:\n%s", name, p.err, logPath, p.tail(15)) //nolint:errorlint // p.err is nil after a clean exit, which %w cannot print; the message is for a person
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodGet, g.base+"/health/ready", nil)
		if err != nil {
			return nil, err
		}
		resp, err := client.Do(req)
		if err == nil {
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return g, nil
			}
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	return nil, fmt.Errorf("gateway (%s) not ready after 90s; log %s:\n%s", name, logPath, p.tail(15))
}

// api is a small sequential client for preparing data.
type api struct {
	base   string
	client *http.Client
}

func newAPI(base string) *api {
	return &api{base: base, client: &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 16}}}
}

// call sends body (JSON) and decodes a want-status answer into out.
func (a *api) call(ctx context.Context, method, path, token string, body any, want int, out any) error {
	var rd *bytes.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			return err
		}
		rd = bytes.NewReader(b)
	} else {
		rd = bytes.NewReader(nil)
	}
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, rd)
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := a.client.Do(req)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	_, _ = buf.ReadFrom(resp.Body)
	if err := expect(resp.StatusCode, want, buf.Bytes(), method+" "+path); err != nil {
		return err
	}
	if out != nil {
		if err := json.Unmarshal(buf.Bytes(), out); err != nil {
			return fmt.Errorf("%s %s: decode: %w", method, path, err)
		}
	}
	return nil
}

type authAnswer struct {
	User struct {
		ID string `json:"id"`
	} `json:"user"`
	Tokens struct {
		AccessToken string `json:"access_token"`
	} `json:"tokens"`
}

type buyer struct {
	email, token string
}

// fixture is the data the scenarios run on.
type fixture struct {
	adminToken string
	productID  string
	price      int64
	buyers     []buyer
	// wide are the products every wide order buys one unit of each of.
	wide []string
}

// prepare makes the super_admin (CLI), the product (API) and n buyers (API).
func prepare(ctx context.Context, s settings, g *gateway, n int) (*fixture, error) {
	f := &fixture{}
	cmd := exec.CommandContext(ctx, s.binary, "create-admin", "--email", adminEmail, "--name", "Bench Admin")
	cmd.Env = gatewayEnv(s, map[string]string{"ULTRAMARKET_ADMIN_PASSWORD": benchPassword})
	if out, err := cmd.CombinedOutput(); err != nil {
		return nil, fmt.Errorf("create-admin: %w: %s", err, out)
	}
	a := newAPI(g.base)
	var login authAnswer
	if err := a.call(ctx, http.MethodPost, "/api/auth/login", "", map[string]any{"email": adminEmail, "password": benchPassword}, http.StatusOK, &login); err != nil {
		return nil, fmt.Errorf("admin login: %w", err)
	}
	f.adminToken = login.Tokens.AccessToken

	// Buyers, registered a few at a time (each registration is one argon2id hash).
	f.buyers = make([]buyer, n)
	err := eachAFewAtATime(n, func(i int) error {
		email := fmt.Sprintf("bench-buyer-%03d@example.uz", i)
		var reg authAnswer
		err := a.call(ctx, http.MethodPost, "/api/auth/register", "",
			map[string]any{"email": email, "password": benchPassword, "full_name": fmt.Sprintf("Bench Buyer %d", i)},
			http.StatusCreated, &reg)
		f.buyers[i] = buyer{email: email, token: reg.Tokens.AccessToken}
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("register buyers: %w", err)
	}
	return f, nil
}

// createProduct makes the product every order buys: stock at the maximum.
func (f *fixture) createProduct(ctx context.Context, g *gateway) error {
	var p struct {
		ID    string `json:"id"`
		Price int64  `json:"price"`
	}
	err := newAPI(g.base).call(ctx, http.MethodPost, "/api/products", f.adminToken, map[string]any{
		"name": "Bench plov kazan 12 L", "description": "Cast-iron kazan for plov, the harness's best seller.",
		"category": "kitchen", "price": 1_500_000, "stock": 1_000_000,
	}, http.StatusCreated, &p)
	if err != nil {
		return err
	}
	f.productID, f.price = p.ID, p.Price
	return nil
}

// wideProducts is how many distinct products a wide order holds: the most
// one order may (domain/order.MaxItems).
const wideProducts = 100

// createWideProducts makes the wideProducts products of the wide-order
// scenario, a few at a time, each with stock at the maximum.
func (f *fixture) createWideProducts(ctx context.Context, g *gateway) error {
	a := newAPI(g.base)
	f.wide = make([]string, wideProducts)
	return eachAFewAtATime(wideProducts, func(i int) error {
		var p struct {
			ID string `json:"id"`
		}
		err := a.call(ctx, http.MethodPost, "/api/products", f.adminToken, map[string]any{
			"name": fmt.Sprintf("Bench choyxona piyola no. %03d", i), "description": "One of the wide order's hundred products.",
			"category": "kitchen", "price": 25_000, "stock": 1_000_000,
		}, http.StatusCreated, &p)
		f.wide[i] = p.ID
		return err
	})
}

// eachAFewAtATime calls f for 0..n-1, eight at a time (the gateway hashes a
// password per registration on 2 cores: more would only queue), and joins
// their errors.
func eachAFewAtATime(n int, f func(i int) error) error {
	errs := make([]error, n)
	var wg sync.WaitGroup
	sem := make(chan struct{}, 8)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			sem <- struct{}{}
			defer func() { <-sem }()
			errs[i] = f(i)
		}()
	}
	wg.Wait()
	return errors.Join(errs...)
}
