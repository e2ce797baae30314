package config_test

import (
	"net"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func env(m map[string]string) func(string) (string, bool) {
	return func(k string) (string, bool) { v, ok := m[k]; return v, ok }
}

func prodEnv() map[string]string {
	return map[string]string{
		"APP_ENV": "production", "JWT_SECRET": strings.Repeat("s", 32), "CORS_ORIGINS": "https://ultramarket.uz",
		"PAYME_MERCHANT_ID": "m1", "PAYME_KEY": "k1", "CLICK_SERVICE_ID": "1", "CLICK_MERCHANT_ID": "2",
		"CLICK_SECRET_KEY": "s", "CLICK_MERCHANT_USER_ID": "3",
		"PAYME_ALLOWED_IPS": "185.234.113.0/28", "CLICK_ALLOWED_IPS": "*",
		"SMS_PROVIDER": "eskiz", "ESKIZ_EMAIL": "ops@ultramarket.uz", "ESKIZ_PASSWORD": "eskiz-secret",
	}
}

func TestDefaults(t *testing.T) {
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, "development", c.Env)
	assert.Equal(t, "127.0.0.1:5000", c.HTTPAddr, "development listens on loopback only")
	assert.Equal(t, "127.0.0.1:9090", c.OpsAddr)
	assert.Equal(t, config.DevJWTSecret, c.JWTSecret)
	assert.Equal(t, 15*time.Minute, c.AccessTokenTTL)
	assert.Equal(t, 720*time.Hour, c.RefreshTokenTTL)
	assert.Equal(t, 20, c.SessionMaxPerUser)
	assert.Equal(t, 2160*time.Hour, c.SessionMaxAge)
	assert.Equal(t, []string{"http://localhost:3000"}, c.CORSOrigins)
	assert.Equal(t, config.RateLimit{N: 100, Per: 15 * time.Minute}, c.RateLimitAuth)
	assert.Equal(t, config.RateLimit{N: 1000, Per: time.Minute}, c.RateLimitAPI)
	assert.Equal(t, 24*time.Hour, c.OrderPaymentTTL)
	assert.Equal(t, 3*time.Second, c.CatalogTimeout)
	assert.Equal(t, 5, c.CatalogBreakerFailures)
	assert.Equal(t, 10*time.Second, c.CatalogBreakerOpen)
	assert.Equal(t, time.Minute, c.ExpirySweepInterval)
	assert.Equal(t, "Paycom", c.PaymeLogin)
	assert.Equal(t, "https://checkout.paycom.uz", c.PaymeCheckoutURL)
	assert.True(t, c.MigrateOnStart)
	assert.True(t, c.SeedDemo)
	assert.Equal(t, 15*time.Second, c.ShutdownTimeout)
	assert.Empty(t, c.CatalogURL)
	assert.Empty(t, c.ClickAPIURL, "Click's Merchant API is off outside production")
	assert.Equal(t, 5*time.Minute, c.ReconcileInterval)
}

func TestProductionDefaultsOffAndValid(t *testing.T) {
	c, err := config.Load(env(prodEnv()))
	require.NoError(t, err)
	assert.False(t, c.MigrateOnStart)
	assert.False(t, c.SeedDemo)
	assert.True(t, c.IsProduction())
	assert.Equal(t, "https://api.click.uz/v2/merchant", c.ClickAPIURL)

	off := prodEnv()
	off["CLICK_API_URL"] = ""
	c, err = config.Load(env(off))
	require.NoError(t, err)
	assert.Empty(t, c.ClickAPIURL, "set empty, it is off in production too")
}

func TestBadValuesNameTheVariable(t *testing.T) {
	cases := []struct {
		name, key, value, want string
	}{
		{"env", "APP_ENV", "staging", "APP_ENV"},
		{"addr", "HTTP_ADDR", "5000", "HTTP_ADDR"},
		{"db", "DATABASE_URL", "mysql://x", "DATABASE_URL"},
		{"redis", "REDIS_URL", "::", "REDIS_URL"},
		{"redis cluster node", "REDIS_URL", "redis://10.0.0.1:7001?addr=10.0.0.2", "REDIS_URL"},
		{"redis cluster database", "REDIS_URL", "redis://10.0.0.1:7001/2?addr=10.0.0.2:7002", "REDIS_URL"},
		{"migrate db", "MIGRATE_DATABASE_URL", "mysql://x", "MIGRATE_DATABASE_URL"},
		{"ttl", "ACCESS_TOKEN_TTL", "15", "ACCESS_TOKEN_TTL"},
		{"negative ttl", "ORDER_PAYMENT_TTL", "-1h", "ORDER_PAYMENT_TTL"},
		{"cors", "CORS_ORIGINS", "localhost:3000", "CORS_ORIGINS"},
		{"proxies", "TRUSTED_PROXIES", "10.0.0.0/33", "TRUSTED_PROXIES"},
		{"rate", "RATE_LIMIT_API", "1000 per minute", "RATE_LIMIT_API"},
		{"rate zero", "RATE_LIMIT_AUTH", "0/1m", "RATE_LIMIT_AUTH"},
		{"breaker", "CATALOG_BREAKER_FAILURES", "0", "CATALOG_BREAKER_FAILURES"},
		{"catalog", "CATALOG_URL", "ftp://catalog", "CATALOG_URL"},
		{"payme ips", "PAYME_ALLOWED_IPS", "185.234.113.1,nope", "PAYME_ALLOWED_IPS"},
		{"click ips", "CLICK_ALLOWED_IPS", "203.0.113.0/33", "CLICK_ALLOWED_IPS"},
		{"star among ips", "CLICK_ALLOWED_IPS", "203.0.113.1,*", "CLICK_ALLOWED_IPS"},
		{"star cidr", "PAYME_ALLOWED_IPS", "*/0", "PAYME_ALLOWED_IPS"},
		{"bool", "SEED_DEMO", "yes please", "SEED_DEMO"},
		{"click id", "CLICK_SERVICE_ID", "12a", "CLICK_SERVICE_ID"},
		{"shutdown", "SHUTDOWN_TIMEOUT", "soon", "SHUTDOWN_TIMEOUT"},
		{"sessions per user", "SESSION_MAX_PER_USER", "0", "SESSION_MAX_PER_USER"},
		{"sessions per user not a number", "SESSION_MAX_PER_USER", "twenty", "SESSION_MAX_PER_USER"},
		{"session age", "SESSION_MAX_AGE", "90d", "SESSION_MAX_AGE"},
		{"session age zero", "SESSION_MAX_AGE", "0s", "SESSION_MAX_AGE"},
		{"click api", "CLICK_API_URL", "ftp://api.click.uz", "CLICK_API_URL"},
		{"reconcile interval", "RECONCILE_INTERVAL", "0s", "RECONCILE_INTERVAL"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := config.Load(env(map[string]string{c.key: c.value}))
			require.Error(t, err)
			assert.Contains(t, err.Error(), c.want)
		})
	}
}

func TestSessionBounds(t *testing.T) {
	c, err := config.Load(env(map[string]string{"SESSION_MAX_PER_USER": " 5 ", "SESSION_MAX_AGE": "48h"}))
	require.NoError(t, err)
	assert.Equal(t, 5, c.SessionMaxPerUser)
	assert.Equal(t, 48*time.Hour, c.SessionMaxAge)
}

// Migrations hold a session-level advisory lock, which a transaction-pooling
// PgBouncer cannot keep: MIGRATE_DATABASE_URL names Postgres itself while
// DATABASE_URL goes through the pooler. Unset, migrations use DATABASE_URL.
func TestMigrateDatabaseURL(t *testing.T) {
	const pooled = "postgres://app@pgbouncer:6432/ultramarket?sslmode=disable"
	const direct = "postgres://owner@postgres:5432/ultramarket?sslmode=disable"
	c, err := config.Load(env(map[string]string{"DATABASE_URL": pooled}))
	require.NoError(t, err)
	assert.Equal(t, pooled, c.MigrateDatabaseURL, "unset: migrations use DATABASE_URL")

	c, err = config.Load(env(map[string]string{"DATABASE_URL": pooled, "MIGRATE_DATABASE_URL": direct}))
	require.NoError(t, err)
	assert.Equal(t, pooled, c.DatabaseURL)
	assert.Equal(t, direct, c.MigrateDatabaseURL)

	_, err = config.Load(env(map[string]string{"MIGRATE_DATABASE_URL": "mysql://owner:hunter2@db/x"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "MIGRATE_DATABASE_URL")
	assert.NotContains(t, err.Error(), "config: DATABASE_URL", "only the variable that is wrong is named")
	assert.NotContains(t, err.Error(), "hunter2")
}

// REDIS_URL names one Redis, a Redis Cluster (further seed nodes as addr
// parameters) or a Sentinel-managed master (master_name).
func TestRedisURLForms(t *testing.T) {
	for _, v := range []string{
		"redis://127.0.0.1:6379/0",
		"rediss://user:pw@redis.internal:6380/2",
		"redis://10.0.0.1:7001?addr=10.0.0.2:7002&addr=10.0.0.3:7003",
		"redis://10.0.0.1:7001/0?addr=10.0.0.2:7002",
		"redis://sentinel1:26379/1?master_name=um&addr=sentinel2:26379",
	} {
		c, err := config.Load(env(map[string]string{"REDIS_URL": v}))
		require.NoError(t, err, v)
		assert.Equal(t, v, c.RedisURL)
	}
	_, err := config.Load(env(map[string]string{"REDIS_URL": "redis://:hunter2@10.0.0.1:7001/5?addr=10.0.0.2:7002"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only database 0")
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestSecretsNeverEchoed(t *testing.T) {
	_, err := config.Load(env(map[string]string{"DATABASE_URL": "mysql://user:hunter2@db/x"}))
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "hunter2")
}

func TestProductionRefusals(t *testing.T) {
	cases := map[string]func(m map[string]string){
		"JWT_SECRET":             func(m map[string]string) { delete(m, "JWT_SECRET") },
		"JWT_SECRET ":            func(m map[string]string) { m["JWT_SECRET"] = config.DevJWTSecret },
		"JWT_SECRET  ":           func(m map[string]string) { m["JWT_SECRET"] = strings.Repeat("s", 31) },
		"CORS_ORIGINS":           func(m map[string]string) { m["CORS_ORIGINS"] = "https://a.uz,*" },
		"PAYME_KEY":              func(m map[string]string) { delete(m, "PAYME_KEY") },
		"PAYME_MERCHANT_ID":      func(m map[string]string) { delete(m, "PAYME_MERCHANT_ID") },
		"CLICK_SECRET_KEY":       func(m map[string]string) { delete(m, "CLICK_SECRET_KEY") },
		"CLICK_SERVICE_ID":       func(m map[string]string) { delete(m, "CLICK_SERVICE_ID") },
		"CLICK_MERCHANT_ID":      func(m map[string]string) { delete(m, "CLICK_MERCHANT_ID") },
		"CLICK_MERCHANT_USER_ID": func(m map[string]string) { delete(m, "CLICK_MERCHANT_USER_ID") },
		// An empty allow-list would let anyone call the webhooks; "*" must say so.
		"PAYME_ALLOWED_IPS":  func(m map[string]string) { delete(m, "PAYME_ALLOWED_IPS") },
		"PAYME_ALLOWED_IPS ": func(m map[string]string) { m["PAYME_ALLOWED_IPS"] = " , " },
		"CLICK_ALLOWED_IPS":  func(m map[string]string) { delete(m, "CLICK_ALLOWED_IPS") },
		"CLICK_ALLOWED_IPS ": func(m map[string]string) { m["CLICK_ALLOWED_IPS"] = "" },
		// The development values, set explicitly, are no secrets either.
		"PAYME_KEY ":        func(m map[string]string) { m["PAYME_KEY"] = config.DevPaymeKey },
		"CLICK_SECRET_KEY ": func(m map[string]string) { m["CLICK_SECRET_KEY"] = config.DevClickSecretKey },
		// The demo accounts' passwords are printed in the log.
		"SEED_DEMO": func(m map[string]string) { m["SEED_DEMO"] = "true" },
		// The console writes codes to the log instead of texting them.
		"SMS_PROVIDER":   func(m map[string]string) { delete(m, "SMS_PROVIDER") },
		"SMS_PROVIDER ":  func(m map[string]string) { m["SMS_PROVIDER"] = "console" },
		"ESKIZ_EMAIL":    func(m map[string]string) { delete(m, "ESKIZ_EMAIL") },
		"ESKIZ_PASSWORD": func(m map[string]string) { delete(m, "ESKIZ_PASSWORD") },
	}
	for want, mutate := range cases {
		t.Run(want, func(t *testing.T) {
			m := prodEnv()
			mutate(m)
			_, err := config.Load(env(m))
			require.Error(t, err)
			assert.Contains(t, err.Error(), strings.TrimSpace(want))
		})
	}
}

func TestListsAndLimits(t *testing.T) {
	c, err := config.Load(env(map[string]string{
		"CORS_ORIGINS":      "https://ultramarket.uz, https://admin.ultramarket.uz/",
		"TRUSTED_PROXIES":   "10.0.0.0/8, 192.168.1.7",
		"PAYME_ALLOWED_IPS": "185.234.113.1,185.234.113.0/28",
		"RATE_LIMIT_AUTH":   "off",
		"RATE_LIMIT_API":    "50/30s",
		"CATALOG_URL":       "http://catalog:8080/",
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"https://ultramarket.uz", "https://admin.ultramarket.uz"}, c.CORSOrigins)
	require.Len(t, c.TrustedProxies, 2)
	assert.Equal(t, "192.168.1.7/32", c.TrustedProxies[1].String())
	require.Len(t, c.PaymeAllowedIPs, 2)
	assert.True(t, c.RateLimitAuth.Off)
	assert.Equal(t, config.RateLimit{N: 50, Per: 30 * time.Second}, c.RateLimitAPI)
	assert.Equal(t, "http://catalog:8080", c.CatalogURL)
}

func TestWebhookAllowLists(t *testing.T) {
	// Outside production both are optional: empty allows any address.
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Empty(t, c.PaymeAllowedIPs)
	assert.Empty(t, c.ClickAllowedIPs)
	assert.False(t, config.AllowsAny(c.ClickAllowedIPs), "nothing to warn about")

	c, err = config.Load(env(map[string]string{
		"CLICK_ALLOWED_IPS": "203.0.113.7, 198.51.100.0/24, 2001:db8::/32",
		"PAYME_ALLOWED_IPS": "*",
	}))
	require.NoError(t, err)
	require.Len(t, c.ClickAllowedIPs, 3)
	assert.Equal(t, "203.0.113.7/32", c.ClickAllowedIPs[0].String())
	assert.Equal(t, "198.51.100.0/24", c.ClickAllowedIPs[1].String())
	assert.False(t, config.AllowsAny(c.ClickAllowedIPs))
	assert.True(t, config.AllowsAny(c.PaymeAllowedIPs), "* allows any address")
	for _, ip := range []string{"203.0.113.7", "10.1.2.3", "2001:db8::1", "::1"} {
		assert.True(t, anyContains(c.PaymeAllowedIPs, ip), ip)
	}

	// In production "*" is the way to say "any", and it is accepted.
	m := prodEnv()
	m["PAYME_ALLOWED_IPS"], m["CLICK_ALLOWED_IPS"] = "*", "*"
	c, err = config.Load(env(m))
	require.NoError(t, err)
	assert.True(t, config.AllowsAny(c.PaymeAllowedIPs))
	assert.True(t, config.AllowsAny(c.ClickAllowedIPs))
}

func anyContains(nets []*net.IPNet, ip string) bool {
	for _, n := range nets {
		if n.Contains(net.ParseIP(ip)) {
			return true
		}
	}
	return false
}

func TestAllErrorsReportedAtOnce(t *testing.T) {
	_, err := config.Load(env(map[string]string{"APP_ENV": "x", "SHUTDOWN_TIMEOUT": "y"}))
	require.Error(t, err)
	assert.Contains(t, err.Error(), "APP_ENV")
	assert.Contains(t, err.Error(), "SHUTDOWN_TIMEOUT")
}

func TestDevelopmentHasPaymentCredentialsTestHasNone(t *testing.T) {
	dev, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, config.DevPaymeKey, dev.PaymeKey)
	assert.Equal(t, config.DevClickSecretKey, dev.ClickSecretKey)
	assert.Equal(t, config.DevClickServiceID, dev.ClickServiceID)

	own, err := config.Load(env(map[string]string{"PAYME_KEY": "mine"}))
	require.NoError(t, err)
	assert.Equal(t, "mine", own.PaymeKey)

	test, err := config.Load(env(map[string]string{"APP_ENV": "test", "SMS_PROVIDER": "console"}))
	require.NoError(t, err)
	assert.Empty(t, test.PaymeKey)
	assert.Empty(t, test.ClickSecretKey)
}

func TestHTTPAddrDefaultsToLoopbackInDevelopmentOnly(t *testing.T) {
	for appEnv, want := range map[string]string{"development": "127.0.0.1:5000", "test": ":5000", "production": ":5000"} {
		t.Run(appEnv, func(t *testing.T) {
			m := prodEnv()
			m["APP_ENV"] = appEnv
			c, err := config.Load(env(m))
			require.NoError(t, err, appEnv)
			assert.Equal(t, want, c.HTTPAddr, appEnv)
		})
	}
}

func TestIsLoopback(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:5000": true, "127.8.9.10:5000": true, "localhost:5000": true, "LocalHost:0": true,
		"[::1]:5000": true,
		":5000":      false, "0.0.0.0:5000": false, "[::]:5000": false, "192.168.1.10:5000": false,
		"10.0.0.1:5000": false, "[fe80::1]:5000": false, "ultramarket.uz:5000": false,
		"localhost.example.com:5000": false, "not an address": false,
	} {
		t.Run(addr, func(t *testing.T) {
			assert.Equal(t, want, config.IsLoopback(addr), addr)
		})
	}
}

// A public listener that other machines can reach refuses the development
// secrets, naming each one that still has its development value.
func TestCheckServe_RefusesDevelopmentSecretsOffLoopback(t *testing.T) {
	load := func(m map[string]string) config.Config {
		t.Helper()
		c, err := config.Load(env(m))
		require.NoError(t, err, "Load itself accepts it: only serving exposes the secrets")
		return c
	}

	for _, addr := range []string{":5000", "0.0.0.0:5000", "[::]:5000", "192.168.1.10:5000"} {
		err := load(map[string]string{"HTTP_ADDR": addr}).CheckServe()
		require.Error(t, err, addr)
		for _, name := range []string{"JWT_SECRET", "PAYME_KEY", "CLICK_SECRET_KEY"} {
			assert.Contains(t, err.Error(), name, addr)
		}
		for _, value := range []string{config.DevJWTSecret, config.DevPaymeKey, config.DevClickSecretKey} {
			assert.NotContains(t, err.Error(), value, "the error names the variable, never its value")
		}
	}

	// Only the secrets still at their development value are named.
	err := load(map[string]string{"HTTP_ADDR": ":5000", "JWT_SECRET": strings.Repeat("j", 32), "PAYME_KEY": "real"}).CheckServe()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "CLICK_SECRET_KEY")
	assert.NotContains(t, err.Error(), "JWT_SECRET")
	assert.NotContains(t, err.Error(), "PAYME_KEY")

	// APP_ENV=test listens on every interface by default and signs with the
	// development JWT key when none is set.
	err = load(map[string]string{"APP_ENV": "test", "SMS_PROVIDER": "console"}).CheckServe()
	require.Error(t, err)
	assert.Contains(t, err.Error(), "JWT_SECRET")

	// Loopback, or every secret set: serving is safe.
	for _, m := range []map[string]string{
		nil, // development: 127.0.0.1:5000
		{"HTTP_ADDR": "localhost:5000"},
		{"HTTP_ADDR": "[::1]:5000"},
		{"APP_ENV": "test", "SMS_PROVIDER": "console", "HTTP_ADDR": "127.0.0.1:0"},
		{"HTTP_ADDR": "0.0.0.0:5000", "JWT_SECRET": "j", "PAYME_KEY": "p", "CLICK_SECRET_KEY": "c"},
		{"APP_ENV": "test", "SMS_PROVIDER": "console", "JWT_SECRET": strings.Repeat("j", 32)},
		prodEnv(),
	} {
		assert.NoError(t, load(m).CheckServe(), "%v", m)
	}
}

func TestSMSSettings(t *testing.T) {
	c, err := config.Load(env(map[string]string{"APP_ENV": "development"}))
	require.NoError(t, err)
	assert.Equal(t, config.SMSConsole, c.SMSProvider, "development needs no SMS account")
	assert.Equal(t, 3*time.Minute, c.OTPTTL)
	assert.Equal(t, "https://notify.eskiz.uz/api", c.EskizURL)
	assert.Equal(t, "4546", c.EskizFrom)
	_, err = config.Load(env(map[string]string{"APP_ENV": "test"}))
	require.ErrorContains(t, err, "SMS_PROVIDER", "required outside development (DESIGN.md)")
	c, err = config.Load(env(map[string]string{"APP_ENV": "test", "SMS_PROVIDER": "console"}))
	require.NoError(t, err)
	assert.Equal(t, config.SMSConsole, c.SMSProvider)
	c, err = config.Load(env(map[string]string{"SMS_PROVIDER": "eskiz", "ESKIZ_EMAIL": "a@b.uz", "ESKIZ_PASSWORD": "p",
		"ESKIZ_URL": "http://127.0.0.1:8089/api/", "ESKIZ_FROM": "UltraMarket", "OTP_TTL": "5m"}))
	require.NoError(t, err)
	assert.Equal(t, config.Config{}.EskizURL+"http://127.0.0.1:8089/api", c.EskizURL)
	assert.Equal(t, "UltraMarket", c.EskizFrom)
	assert.Equal(t, 5*time.Minute, c.OTPTTL)

	for name, m := range map[string]map[string]string{
		"SMS_PROVIDER":   {"SMS_PROVIDER": "twilio"},
		"ESKIZ_PASSWORD": {"SMS_PROVIDER": "eskiz", "ESKIZ_EMAIL": "a@b.uz"},
		"ESKIZ_URL":      {"ESKIZ_URL": "ftp://x"},
		"OTP_TTL":        {"OTP_TTL": "11m"},
		"OTP_TTL ":       {"OTP_TTL": "500ms"},
	} {
		_, err := config.Load(env(m))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), strings.TrimSpace(name))
		assert.NotContains(t, err.Error(), "a@b.uz")
	}
}

func TestClickAPIURL(t *testing.T) {
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Empty(t, c.ClickAPIURL, "off outside production unless set")

	c, err = config.Load(env(prodEnv()))
	require.NoError(t, err)
	assert.Equal(t, "https://api.click.uz/v2/merchant", c.ClickAPIURL)

	c, err = config.Load(env(map[string]string{"CLICK_API_URL": "http://127.0.0.1:8099/v2/merchant/"}))
	require.NoError(t, err)
	assert.Equal(t, "http://127.0.0.1:8099/v2/merchant", c.ClickAPIURL, "without its trailing slash")

	_, err = config.Load(env(map[string]string{"CLICK_API_URL": "ftp://click"}))
	require.ErrorContains(t, err, "CLICK_API_URL")
}
