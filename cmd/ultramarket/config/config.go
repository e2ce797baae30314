// Package config reads the service's configuration from environment variables
// (the names in DESIGN.md are fixed) and checks it once, at start-up: a bad
// value stops the process with a message naming the variable.
package config

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Environments.
const (
	EnvDevelopment = "development"
	EnvTest        = "test"
	EnvProduction  = "production"
)

// DevJWTSecret signs tokens outside production when JWT_SECRET is unset.
// Production refuses it, and so does a public listener that is not on a
// loopback address (CheckServe): it is printed in this repository.
const DevJWTSecret = "ultramarket-development-only-jwt-secret-do-not-use"

// Default public listeners: development listens on loopback only, so a
// laptop on a shared network does not serve the development secrets to it;
// elsewhere the process listens on every interface (behind a load balancer,
// in a container).
const (
	DevHTTPAddr     = "127.0.0.1:5000"
	DefaultHTTPAddr = ":5000"
)

// DefaultClickAPIURL is Click's Merchant API, CLICK_API_URL's production
// default; elsewhere it is off unless set.
const DefaultClickAPIURL = "https://api.click.uz/v2/merchant"

// Payment credentials used in development when none are set. They match no
// real cashbox; production refuses to start without real ones.
const (
	DevPaymeMerchantID     = "000000000000000000000000"
	DevPaymeKey            = "development-payme-key"
	DevClickServiceID      = "10000"
	DevClickMerchantID     = "20000"
	DevClickSecretKey      = "development-click-secret"
	DevClickMerchantUserID = "30000"
)

func orDefault(v, def string) string {
	if v == "" {
		return def
	}
	return v
}

// RateLimit is N requests per Per for one client; Off disables the limit.
type RateLimit struct {
	N   int
	Per time.Duration
	Off bool
}

func (r RateLimit) String() string {
	if r.Off {
		return "off"
	}
	return fmt.Sprintf("%d/%s", r.N, r.Per)
}

// Config is every setting of the service.
type Config struct {
	Env      string
	HTTPAddr string
	OpsAddr  string

	DatabaseURL string
	// MigrateDatabaseURL is where migrations run (`migrate`, create-admin,
	// MIGRATE_ON_START): DATABASE_URL unless set. Migrations hold a
	// session-level advisory lock, which a transaction-pooling PgBouncer
	// cannot keep, so behind one this points at Postgres itself.
	MigrateDatabaseURL string
	RedisURL           string

	JWTSecret       string
	AccessTokenTTL  time.Duration
	RefreshTokenTTL time.Duration
	// SessionMaxPerUser bounds a user's live sessions (a login beyond it
	// ends the least recently used); SessionMaxAge is a session's absolute
	// lifetime from its login, which refreshes do not extend.
	SessionMaxPerUser int
	SessionMaxAge     time.Duration

	CORSOrigins    []string
	TrustedProxies []*net.IPNet
	RateLimitAuth  RateLimit
	RateLimitAPI   RateLimit

	OrderPaymentTTL     time.Duration
	ExpirySweepInterval time.Duration
	OrderMaxUnpaid      int // pending_payment orders one user may hold at once

	CatalogURL             string
	CatalogTimeout         time.Duration
	CatalogBreakerFailures int
	CatalogBreakerOpen     time.Duration
	// CatalogCacheTTL keeps anonymous product reads, encoded, for this long
	// (0: off, the default); see adapters/httpapi/product_reads.go.
	CatalogCacheTTL time.Duration

	// PaymentReturnHosts are the host names (lower case, no port) a payment
	// return_url may point at; by default the hosts of CORSOrigins.
	PaymentReturnHosts []string

	PaymeLogin       string
	PaymeAllowedIPs  []*net.IPNet
	PaymeMerchantID  string
	PaymeKey         string
	PaymeCheckoutURL string

	ClickServiceID      string
	ClickMerchantID     string
	ClickSecretKey      string
	ClickMerchantUserID string
	ClickAllowedIPs     []*net.IPNet
	// ClickAPIURL is Click's Merchant API (CLICK_API_URL); "" turns the
	// calls off (admin Click refunds then answer 503).
	ClickAPIURL string

	// EventsURL is the NATS server the domain events go to (nats://host:4222,
	// several separated by commas); empty turns events off. EventsStream is
	// the JetStream stream, created when missing. See events.go.
	EventsURL    string
	EventsStream string
	// SMSProvider sends the texts of phone login: SMSConsole (the log) or
	// SMSEskiz (Eskiz.uz, with the Eskiz* settings).
	SMSProvider   string
	EskizURL      string
	EskizEmail    string
	EskizPassword string
	EskizFrom     string
	// OTPTTL is how long a one-time login code lives.
	OTPTTL time.Duration
	// ReconcileInterval is how often the reconciliation job runs.
	ReconcileInterval time.Duration

	// ClickFiscalMaxTries bounds the submissions of one Click receipt.
	ClickFiscalMaxTries int
	// FiscalRequired refuses orders of products without fiscal codes.
	FiscalRequired bool

	MigrateOnStart  bool
	SeedDemo        bool
	ShutdownTimeout time.Duration
}

// SMS providers (SMS_PROVIDER).
const (
	SMSConsole = "console"
	SMSEskiz   = "eskiz"
)

// Eskiz defaults (DESIGN.md): its API and its default (test) sender name.
const (
	DefaultEskizURL  = "https://notify.eskiz.uz/api"
	DefaultEskizFrom = "4546"
)

// MaxOTPTTL is the longest life OTP_TTL may give a code (OWASP ASVS 6.5.5,
// SMS.md §3).
const MaxOTPTTL = 10 * time.Minute

// IsProduction reports whether APP_ENV is production.
func (c Config) IsProduction() bool { return c.Env == EnvProduction }

// Load reads the configuration through lookup (os.LookupEnv in main, a map in
// tests) and validates it. The error lists every bad variable at once.
func Load(lookup func(string) (string, bool)) (Config, error) {
	r := reader{lookup: lookup}
	var c Config

	c.Env = r.str("APP_ENV", EnvDevelopment)
	switch c.Env {
	case EnvDevelopment, EnvTest, EnvProduction:
	default:
		r.fail("APP_ENV", "must be development, test or production")
	}
	prod := c.Env == EnvProduction

	httpAddr := DefaultHTTPAddr
	if c.Env == EnvDevelopment {
		httpAddr = DevHTTPAddr
	}
	c.HTTPAddr = r.addr("HTTP_ADDR", httpAddr)
	c.OpsAddr = r.addr("OPS_ADDR", "127.0.0.1:9090")
	c.DatabaseURL = r.url("DATABASE_URL", "postgres://postgres@127.0.0.1:5432/ultramarket?sslmode=disable", "postgres", "postgresql")
	c.MigrateDatabaseURL = c.DatabaseURL
	if _, ok := lookup("MIGRATE_DATABASE_URL"); ok {
		c.MigrateDatabaseURL = r.url("MIGRATE_DATABASE_URL", "", "postgres", "postgresql")
	}
	c.RedisURL = r.redisURL("REDIS_URL", "redis://127.0.0.1:6379/0")

	c.JWTSecret = r.str("JWT_SECRET", "")
	switch {
	case prod && c.JWTSecret == "":
		r.fail("JWT_SECRET", "is required in production")
	case prod && c.JWTSecret == DevJWTSecret:
		r.fail("JWT_SECRET", "must not be the development value in production")
	case prod && len(c.JWTSecret) < 32:
		r.fail("JWT_SECRET", "must be at least 32 bytes in production")
	case c.JWTSecret == "":
		c.JWTSecret = DevJWTSecret
	}
	c.AccessTokenTTL = r.duration("ACCESS_TOKEN_TTL", 15*time.Minute)
	c.RefreshTokenTTL = r.duration("REFRESH_TOKEN_TTL", 720*time.Hour)
	if c.RefreshTokenTTL > 0 && c.AccessTokenTTL > c.RefreshTokenTTL {
		r.fail("ACCESS_TOKEN_TTL", "must not be longer than REFRESH_TOKEN_TTL")
	}
	c.SessionMaxPerUser = r.positiveInt("SESSION_MAX_PER_USER", 20)
	c.SessionMaxAge = r.duration("SESSION_MAX_AGE", 2160*time.Hour)

	c.CORSOrigins = r.origins("CORS_ORIGINS", "http://localhost:3000", prod)
	c.TrustedProxies = r.cidrs("TRUSTED_PROXIES")
	c.RateLimitAuth = r.rateLimit("RATE_LIMIT_AUTH", "100/15m")
	c.RateLimitAPI = r.rateLimit("RATE_LIMIT_API", "1000/1m")

	c.OrderPaymentTTL = r.duration("ORDER_PAYMENT_TTL", 24*time.Hour)
	c.ExpirySweepInterval = r.duration("EXPIRY_SWEEP_INTERVAL", time.Minute)
	c.OrderMaxUnpaid = r.positiveInt("ORDER_MAX_UNPAID", 5)

	c.CatalogURL = r.str("CATALOG_URL", "")
	if c.CatalogURL != "" {
		c.CatalogURL = strings.TrimRight(r.url("CATALOG_URL", "", "http", "https"), "/")
	}
	c.CatalogTimeout = r.duration("CATALOG_TIMEOUT", 3*time.Second)
	c.CatalogBreakerFailures = r.positiveInt("CATALOG_BREAKER_FAILURES", 5)
	c.CatalogBreakerOpen = r.duration("CATALOG_BREAKER_OPEN", 10*time.Second)
	c.CatalogCacheTTL = r.cacheTTL("CATALOG_CACHE_TTL")

	c.PaymentReturnHosts = r.hosts("PAYMENT_RETURN_HOSTS", hostsOf(c.CORSOrigins))

	c.PaymeLogin = r.str("PAYME_LOGIN", "Paycom")
	if c.PaymeLogin == "" {
		r.fail("PAYME_LOGIN", "must not be empty")
	}
	c.PaymeAllowedIPs = r.allowList("PAYME_ALLOWED_IPS", prod)
	c.PaymeMerchantID = r.str("PAYME_MERCHANT_ID", "")
	c.PaymeKey = r.str("PAYME_KEY", "")
	c.PaymeCheckoutURL = strings.TrimRight(r.url("PAYME_CHECKOUT_URL", "https://checkout.paycom.uz", "https", "http"), "/")

	c.ClickServiceID = r.digits("CLICK_SERVICE_ID")
	c.ClickMerchantID = r.digits("CLICK_MERCHANT_ID")
	c.ClickSecretKey = r.str("CLICK_SECRET_KEY", "")
	c.ClickMerchantUserID = r.digits("CLICK_MERCHANT_USER_ID")
	c.ClickAllowedIPs = r.allowList("CLICK_ALLOWED_IPS", prod)
	clickAPIDefault := ""
	if prod {
		clickAPIDefault = DefaultClickAPIURL
	}
	if c.ClickAPIURL = r.str("CLICK_API_URL", clickAPIDefault); c.ClickAPIURL != "" {
		// Without its trailing slash: the client appends "/payment/...".
		c.ClickAPIURL = strings.TrimRight(r.url("CLICK_API_URL", clickAPIDefault, "https", "http"), "/")
	}
	c.ReconcileInterval = r.duration("RECONCILE_INTERVAL", 5*time.Minute)
	if c.Env == EnvDevelopment {
		// So `make run` can hand out payment links and accept sandbox-style
		// webhook calls out of the box; production must set real ones.
		c.PaymeMerchantID = orDefault(c.PaymeMerchantID, DevPaymeMerchantID)
		c.PaymeKey = orDefault(c.PaymeKey, DevPaymeKey)
		c.ClickServiceID = orDefault(c.ClickServiceID, DevClickServiceID)
		c.ClickMerchantID = orDefault(c.ClickMerchantID, DevClickMerchantID)
		c.ClickSecretKey = orDefault(c.ClickSecretKey, DevClickSecretKey)
		c.ClickMerchantUserID = orDefault(c.ClickMerchantUserID, DevClickMerchantUserID)
	}
	c.ClickFiscalMaxTries = r.positiveInt("CLICK_FISCAL_MAX_TRIES", 20)
	c.FiscalRequired = r.boolean("FISCAL_REQUIRED", prod)

	if prod {
		for name, v := range map[string]string{
			"PAYME_MERCHANT_ID": c.PaymeMerchantID, "PAYME_KEY": c.PaymeKey,
			"CLICK_SERVICE_ID": c.ClickServiceID, "CLICK_MERCHANT_ID": c.ClickMerchantID,
			"CLICK_SECRET_KEY": c.ClickSecretKey, "CLICK_MERCHANT_USER_ID": c.ClickMerchantUserID,
		} {
			if v == "" {
				r.fail(name, "is required in production")
			}
		}
	}

	if prod {
		// A value set explicitly to the published development one is no
		// secret. (JWT_SECRET's own checks above already name it.)
		for _, name := range c.devSecrets() {
			if name != "JWT_SECRET" {
				r.fail(name, "must not be the development value in production")
			}
		}
	}

	c.EventsURL, c.EventsStream = r.events()
	c.readSMS(&r, prod)

	dev := c.Env == EnvDevelopment
	c.MigrateOnStart = r.boolean("MIGRATE_ON_START", dev)
	c.SeedDemo = r.boolean("SEED_DEMO", dev)
	if prod && c.SeedDemo {
		// The demo accounts' passwords are printed in the log.
		r.fail("SEED_DEMO", "must not be true in production")
	}
	c.ShutdownTimeout = r.duration("SHUTDOWN_TIMEOUT", 15*time.Second)

	if err := errors.Join(r.errs...); err != nil {
		return Config{}, err
	}
	return c, nil
}

// readSMS reads SMS_PROVIDER, ESKIZ_* and OTP_TTL. Development and test
// default to the console (a test of another feature must not need an SMS
// account); production must choose, and may not choose the console, which
// would write every code to the log instead of texting it.
func (c *Config) readSMS(r *reader, prod bool) {
	// DESIGN.md: console by default in development only; elsewhere the
	// choice is made on purpose.
	def := ""
	if c.Env == EnvDevelopment {
		def = SMSConsole
	}
	c.SMSProvider = strings.ToLower(r.str("SMS_PROVIDER", def))
	switch {
	case c.SMSProvider == "" && prod:
		r.fail("SMS_PROVIDER", "is required in production (eskiz)")
	case c.SMSProvider == "":
		r.fail("SMS_PROVIDER", "is required outside development (console or eskiz)")
	case c.SMSProvider == SMSConsole && prod:
		r.fail("SMS_PROVIDER", "must not be console in production: it writes the codes to the log instead of texting them")
	case c.SMSProvider != SMSConsole && c.SMSProvider != SMSEskiz:
		r.fail("SMS_PROVIDER", "must be console or eskiz")
	}
	c.EskizURL = strings.TrimRight(r.url("ESKIZ_URL", DefaultEskizURL, "https", "http"), "/")
	c.EskizEmail = r.str("ESKIZ_EMAIL", "")
	c.EskizPassword = r.str("ESKIZ_PASSWORD", "")
	c.EskizFrom = r.str("ESKIZ_FROM", DefaultEskizFrom)
	if c.EskizFrom == "" {
		r.fail("ESKIZ_FROM", "must not be empty")
	}
	if c.SMSProvider == SMSEskiz {
		// No development values: the Eskiz account is always a real one.
		for name, v := range map[string]string{"ESKIZ_EMAIL": c.EskizEmail, "ESKIZ_PASSWORD": c.EskizPassword} {
			if v == "" {
				r.fail(name, "is required with SMS_PROVIDER=eskiz")
			}
		}
	}
	c.OTPTTL = r.duration("OTP_TTL", 3*time.Minute)
	if c.OTPTTL < time.Second || c.OTPTTL > MaxOTPTTL {
		r.fail("OTP_TTL", "must be between 1s and 10m")
	}
}

// devSecrets names the secrets that hold their development values: values
// printed in this repository, so anyone can forge a token (JWT_SECRET) or
// mark their own order paid (PAYME_KEY, CLICK_SECRET_KEY). ESKIZ_PASSWORD
// has no development value to hold: it is required whenever Eskiz is used.
func (c Config) devSecrets() []string {
	var out []string
	for _, s := range []struct{ name, value, dev string }{
		{"JWT_SECRET", c.JWTSecret, DevJWTSecret},
		{"PAYME_KEY", c.PaymeKey, DevPaymeKey},
		{"CLICK_SECRET_KEY", c.ClickSecretKey, DevClickSecretKey},
	} {
		if s.value == s.dev {
			out = append(out, s.name)
		}
	}
	return out
}

// CheckServe is what `serve` checks on top of Load: a public listener that is
// not on a loopback address refuses to start while any secret has its
// development value (DESIGN.md, "Safety of the defaults"). Only serving
// exposes the secrets, so `migrate` and `create-admin` skip it. The error
// names every such variable, never its value.
func (c Config) CheckServe() error {
	if IsLoopback(c.HTTPAddr) {
		return nil
	}
	var errs []error
	for _, name := range c.devSecrets() {
		errs = append(errs, fmt.Errorf("config: %s has its development value, and HTTP_ADDR %s is not a loopback address: set %s, or listen on 127.0.0.1",
			name, c.HTTPAddr, name))
	}
	return errors.Join(errs...)
}

// IsLoopback reports whether a host:port listens on loopback only: a
// loopback IP (127.0.0.0/8, ::1) or the name localhost. An empty host
// (":5000"), 0.0.0.0, :: and any other name or address are not: other
// machines could reach them.
func IsLoopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil || host == "" {
		return false
	}
	if strings.EqualFold(host, "localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// reader collects one error per bad variable instead of stopping at the first.
type reader struct {
	lookup func(string) (string, bool)
	errs   []error
}

func (r *reader) fail(name, msg string) {
	r.errs = append(r.errs, fmt.Errorf("config: %s %s", name, msg))
}

func (r *reader) str(name, def string) string {
	if v, ok := r.lookup(name); ok {
		return strings.TrimSpace(v)
	}
	return def
}

func (r *reader) addr(name, def string) string {
	v := r.str(name, def)
	_, port, err := net.SplitHostPort(v)
	if err != nil {
		r.fail(name, "must be host:port (for example :5000)")
		return v
	}
	if p, err := strconv.Atoi(port); err != nil || p < 0 || p > 65535 {
		r.fail(name, "has an invalid port")
	}
	return v
}

// url checks the scheme and never echoes the value: it may hold a password.
func (r *reader) url(name, def string, schemes ...string) string {
	v := r.str(name, def)
	u, err := url.Parse(v)
	if err != nil || u.Host == "" {
		r.fail(name, "must be a URL like "+schemes[0]+"://host:port/...")
		return v
	}
	for _, s := range schemes {
		if u.Scheme == s {
			return v
		}
	}
	r.fail(name, "must use the scheme "+strings.Join(schemes, " or "))
	return v
}

// redisURL is url for REDIS_URL, plus the forms that select a Redis Cluster
// or Sentinel (adapters/redis.Open): addr parameters must be host:port, and
// a Cluster (addr without master_name) has only database 0. Other query
// parameters are go-redis options, checked when the client is made.
func (r *reader) redisURL(name, def string) string {
	bad := len(r.errs)
	v := r.url(name, def, "redis", "rediss")
	if len(r.errs) > bad {
		return v
	}
	u, _ := url.Parse(v) // parsed by r.url
	q, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		r.fail(name, "has a malformed query string")
		return v
	}
	for _, a := range q["addr"] {
		if host, port, err := net.SplitHostPort(a); err != nil || host == "" || port == "" {
			r.fail(name, "must list further nodes as addr=host:port")
			return v
		}
	}
	if q.Has("addr") && !q.Has("master_name") {
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			r.fail(name, "names a Redis Cluster (addr=...), which has only database 0: drop the /"+db+" path")
		}
	}
	return v
}

func (r *reader) duration(name string, def time.Duration) time.Duration {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	d, err := time.ParseDuration(strings.TrimSpace(v))
	if err != nil || d <= 0 {
		r.fail(name, "must be a positive duration such as 15s, 10m or 24h")
		return def
	}
	return d
}

// cacheTTL is off (0) when unset, "0" or "off"; else a positive duration
// of at most a minute: the cache is for microcaching a burst of anonymous
// reads, and the TTL is also how long a deleted product may still show.
func (r *reader) cacheTTL(name string) time.Duration {
	v, ok := r.lookup(name)
	if !ok {
		return 0
	}
	if v = strings.TrimSpace(v); v == "0" || strings.EqualFold(v, "off") {
		return 0
	}
	d, err := time.ParseDuration(v)
	if err != nil || d <= 0 || d > time.Minute {
		r.fail(name, "must be off, 0, or a duration up to 1m such as 1s")
		return 0
	}
	return d
}

func (r *reader) positiveInt(name string, def int) int {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	n, err := strconv.Atoi(strings.TrimSpace(v))
	if err != nil || n <= 0 {
		r.fail(name, "must be a positive integer")
		return def
	}
	return n
}

func (r *reader) boolean(name string, def bool) bool {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	b, err := strconv.ParseBool(strings.TrimSpace(v))
	if err != nil {
		r.fail(name, "must be true or false")
		return def
	}
	return b
}

func (r *reader) digits(name string) string {
	v := r.str(name, "")
	for _, ch := range v {
		if ch < '0' || ch > '9' {
			r.fail(name, "must be a number")
			return ""
		}
	}
	return v
}

func (r *reader) origins(name, def string, prod bool) []string {
	var out []string
	for _, o := range strings.Split(r.str(name, def), ",") {
		o = strings.TrimSpace(o)
		if o == "" {
			continue
		}
		if o == "*" {
			if prod {
				r.fail(name, "must not be * in production")
				return nil
			}
			out = append(out, o)
			continue
		}
		u, err := url.Parse(o)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || (u.Path != "" && u.Path != "/") {
			r.fail(name, "must be a comma-separated list of origins like https://ultramarket.uz")
			return nil
		}
		out = append(out, strings.TrimSuffix(o, "/"))
	}
	return out
}

// AnyAddress is what an allow-list of "*" holds: every IPv4 and IPv6 address.
func AnyAddress() []*net.IPNet {
	return []*net.IPNet{
		{IP: net.IPv4zero.To4(), Mask: net.CIDRMask(0, 32)},
		{IP: net.IPv6zero, Mask: net.CIDRMask(0, 128)},
	}
}

// AllowsAny reports whether an allow-list lets every address in ("*", or a
// /0 written out), which the service warns about at start.
func AllowsAny(nets []*net.IPNet) bool {
	for _, n := range nets {
		if ones, _ := n.Mask.Size(); ones == 0 {
			return true
		}
	}
	return false
}

// allowList parses an allow-list of the payment webhooks: IPs and CIDRs, or
// "*" alone for any address. Empty allows any address too, but only outside
// production: there an empty list would silently let anyone call, so
// allowing everyone has to be said with "*".
func (r *reader) allowList(name string, prod bool) []*net.IPNet {
	v := r.str(name, "")
	if v == "*" {
		return AnyAddress()
	}
	if strings.Contains(v, "*") {
		r.fail(name, "must be * alone or a comma-separated list of IPs or CIDRs")
		return nil
	}
	bad := len(r.errs)
	nets := r.cidrs(name)
	if prod && len(nets) == 0 && len(r.errs) == bad { // empty (or only commas), not malformed
		r.fail(name, "is required in production: the gateway's IPs or CIDRs, or * to allow any address")
	}
	return nets
}

// hosts parses a comma-separated list of host names (or IP addresses), set
// or not: with the variable unset the list is def. Names are compared
// without case and without a trailing dot, so they are stored lower case
// and without it. A scheme, a port, a path or a wildcard is refused rather
// than guessed at: this list decides where buyers may be redirected.
func (r *reader) hosts(name string, def []string) []string {
	v, ok := r.lookup(name)
	if !ok {
		return def
	}
	var out []string
	for _, h := range strings.Split(v, ",") {
		h = strings.TrimSuffix(strings.ToLower(strings.TrimSpace(h)), ".")
		if h == "" {
			continue
		}
		if ip := strings.Trim(h, "[]"); net.ParseIP(ip) != nil {
			h = ip
		} else if !validHostName(h) {
			r.fail(name, "must be a comma-separated list of host names like shop.ultramarket.uz (no scheme, no port)")
			return nil
		}
		if !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// validHostName accepts RFC 1123 names: dot-separated labels of letters,
// digits and inner hyphens, 1..63 characters each, 253 in all.
func validHostName(h string) bool {
	if len(h) > 253 {
		return false
	}
	for _, label := range strings.Split(h, ".") {
		if label == "" || len(label) > 63 || label[0] == '-' || label[len(label)-1] == '-' {
			return false
		}
		for _, ch := range label {
			if (ch < 'a' || ch > 'z') && (ch < '0' || ch > '9') && ch != '-' {
				return false
			}
		}
	}
	return true
}

// hostsOf is the host names of origins (already checked by origins), "*"
// left out: allowing any origin to call the API says nothing about where
// buyers may be sent back to.
func hostsOf(origins []string) []string {
	var out []string
	for _, o := range origins {
		u, err := url.Parse(o)
		if o == "*" || err != nil {
			continue
		}
		if h := strings.ToLower(u.Hostname()); h != "" && !slices.Contains(out, h) {
			out = append(out, h)
		}
	}
	return out
}

// cidrs parses a comma-separated list of IPs and CIDRs; a bare IP is a /32 (/128).
func (r *reader) cidrs(name string) []*net.IPNet {
	var out []*net.IPNet
	for _, s := range strings.Split(r.str(name, ""), ",") {
		s = strings.TrimSpace(s)
		if s == "" {
			continue
		}
		if !strings.Contains(s, "/") {
			ip := net.ParseIP(s)
			if ip == nil {
				r.fail(name, "must be a comma-separated list of IPs or CIDRs")
				return nil
			}
			bits := 128
			if ip4 := ip.To4(); ip4 != nil {
				ip, bits = ip4, 32
			}
			out = append(out, &net.IPNet{IP: ip, Mask: net.CIDRMask(bits, bits)})
			continue
		}
		_, n, err := net.ParseCIDR(s)
		if err != nil {
			r.fail(name, "must be a comma-separated list of IPs or CIDRs")
			return nil
		}
		out = append(out, n)
	}
	return out
}

// rateLimit parses "N/duration" (e.g. 100/15m) or "off".
func (r *reader) rateLimit(name, def string) RateLimit {
	v := r.str(name, def)
	if strings.EqualFold(v, "off") {
		return RateLimit{Off: true}
	}
	ns, ds, ok := strings.Cut(v, "/")
	n, err1 := strconv.Atoi(ns)
	d, err2 := time.ParseDuration(ds)
	if !ok || err1 != nil || err2 != nil || n <= 0 || d <= 0 {
		r.fail(name, "must be N/duration (for example 100/15m) or off")
		return RateLimit{Off: true}
	}
	return RateLimit{N: n, Per: d}
}
