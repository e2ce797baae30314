package e2e

// Shared helpers of the identity end-to-end tests (auth, sessions, admin,
// authorization matrix, several instances, rate limits). They talk HTTP to a
// whole gateway booted by testapp and check what API.md fixes: status codes,
// problem codes, field names, headers.

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	jwtlib "github.com/golang-jwt/jwt/v5"
	"github.com/jmoiron/sqlx"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
	"github.com/ultramarket/gateway/test/testapp"
	"github.com/ultramarket/gateway/test/testenv"
)

// The roles of API.md, lowest first.
const (
	roleCustomer   = "customer"
	roleSeller     = "seller"
	roleAdmin      = "admin"
	roleSuperAdmin = "super_admin"
)

var allRoles = []string{roleCustomer, roleSeller, roleAdmin, roleSuperAdmin}

// Keys of the bodies API.md fixes, exactly.
var (
	userKeys    = []string{"id", "email", "full_name", "phone", "phone_verified", "role", "status", "seller_profile", "created_at"}
	tokensKeys  = []string{"access_token", "refresh_token", "token_type", "expires_in"}
	sessionKeys = []string{"id", "created_at", "last_used_at", "expires_at", "user_agent", "ip", "current"}
	listKeys    = []string{"items", "page", "page_size", "total"}
)

// defaultPassword passes the policy (8..72 bytes, not common, not the email).
const defaultPassword = "Plum-Orchard-Lantern-71"

var (
	httpClient = &http.Client{Timeout: 20 * time.Second}
	emailSeq   atomic.Int64
	uuidRe     = regexp.MustCompile(`^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$`)
)

// gateway is one running instance plus direct SQL on its database.
type gateway struct {
	*testapp.RunningApp
	DB *sqlx.DB
}

// identityConfig is a fresh test configuration with both rate limits off, so
// tests that make many calls are not throttled; tests of the limits turn them
// back on. The login lockout is always on regardless (API.md).
func identityConfig(t *testing.T) config.Config {
	t.Helper()
	cfg := testapp.Config(t)
	cfg.RateLimitAuth = config.RateLimit{Off: true}
	cfg.RateLimitAPI = config.RateLimit{Off: true}
	return cfg
}

// startGateway boots one instance on cfg with a Redis prefix of its own
// (prefix "") or a shared one (to act as a further instance).
func startGateway(t *testing.T, cfg config.Config, prefix string) *gateway {
	t.Helper()
	a := testapp.StartApp(t, cfg, prefix)
	return &gateway{RunningApp: a, DB: testenv.OpenURL(t, cfg.DatabaseURL)}
}

// newGateway is startGateway on identityConfig, optionally adjusted by mod.
func newGateway(t *testing.T, mod func(*config.Config)) *gateway {
	t.Helper()
	cfg := identityConfig(t)
	if mod != nil {
		mod(&cfg)
	}
	return startGateway(t, cfg, "")
}

// uniqueEmail returns a fresh lower-case address with tag in it.
func uniqueEmail(tag string) string {
	return fmt.Sprintf("%s-%d@example.uz", tag, emailSeq.Add(1))
}

// ---------------------------------------------------------------------------
// Requests

// rawJSON is sent as the body verbatim (malformed JSON, unknown fields...).
type rawJSON string

// response is what the test saw.
type response struct {
	Status int
	Header http.Header
	Body   []byte
}

func (r response) String() string {
	return fmt.Sprintf("HTTP %d %s", r.Status, truncateForMsg(string(r.Body), 600))
}

func truncateForMsg(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "..."
}

// req describes one call. Token adds "Authorization: Bearer <Token>";
// Authorization in Header overrides it.
type req struct {
	Method string
	Path   string
	Token  string
	Body   any // nil: no body; rawJSON or []byte: verbatim; else JSON-encoded
	Header map[string]string
}

// send performs r against base and checks what every response must carry:
// X-Request-ID and the security headers (problem bodies are checked further
// by expectProblem).
func send(t *testing.T, base string, r req) response {
	t.Helper()
	out, err := rawSend(base, r)
	require.NoError(t, err, "%s %s", r.Method, r.Path)
	assertSecurityHeaders(t, out.Header) // X-Request-ID included
	return out
}

// rawSend performs r and checks nothing; it is safe off the test goroutine.
func rawSend(base string, r req) (response, error) {
	var body io.Reader
	switch b := r.Body.(type) {
	case nil:
	case rawJSON:
		body = strings.NewReader(string(b))
	case []byte:
		body = bytes.NewReader(b)
	default:
		enc, err := json.Marshal(b)
		if err != nil {
			return response{}, err
		}
		body = bytes.NewReader(enc)
	}
	hr, err := http.NewRequestWithContext(context.Background(), r.Method, base+r.Path, body)
	if err != nil {
		return response{}, err
	}
	if body != nil {
		hr.Header.Set("Content-Type", "application/json")
	}
	hr.Header.Set("Accept", "application/json")
	if r.Token != "" {
		hr.Header.Set("Authorization", "Bearer "+r.Token)
	}
	for k, v := range r.Header {
		hr.Header.Set(k, v)
	}
	resp, err := httpClient.Do(hr)
	if err != nil {
		return response{}, err
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		return response{}, err
	}
	return response{Status: resp.StatusCode, Header: resp.Header, Body: data}, nil
}

// do is send on this instance.
func (g *gateway) do(t *testing.T, r req) response {
	t.Helper()
	return send(t, g.BaseURL, r)
}

func (g *gateway) get(t *testing.T, path, token string) response {
	t.Helper()
	return g.do(t, req{Method: http.MethodGet, Path: path, Token: token})
}

func (g *gateway) post(t *testing.T, path, token string, body any) response {
	t.Helper()
	return g.do(t, req{Method: http.MethodPost, Path: path, Token: token, Body: body})
}

// ---------------------------------------------------------------------------
// Bodies

type userDTO struct {
	ID        string  `json:"id"`
	Email     string  `json:"email"`
	FullName  string  `json:"full_name"`
	Phone     *string `json:"phone"`
	Role      string  `json:"role"`
	Status    string  `json:"status"`
	CreatedAt string  `json:"created_at"`
}

type tokensDTO struct {
	AccessToken  string `json:"access_token"`
	RefreshToken string `json:"refresh_token"`
	TokenType    string `json:"token_type"`
	ExpiresIn    int64  `json:"expires_in"`
}

type authResult struct {
	User   userDTO   `json:"user"`
	Tokens tokensDTO `json:"tokens"`
}

type sessionDTO struct {
	ID         string `json:"id"`
	CreatedAt  string `json:"created_at"`
	LastUsedAt string `json:"last_used_at"`
	ExpiresAt  string `json:"expires_at"`
	UserAgent  string `json:"user_agent"`
	IP         string `json:"ip"`
	Current    bool   `json:"current"`
}

type userList struct {
	Items    []userDTO `json:"items"`
	Page     int       `json:"page"`
	PageSize int       `json:"page_size"`
	Total    int       `json:"total"`
}

type fieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

type problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	Detail    string         `json:"detail"`
	Errors    []fieldProblem `json:"errors"`
	RequestID string         `json:"request_id"`
}

func (p problem) fields() []string {
	out := make([]string, 0, len(p.Errors))
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

// decode unmarshals a JSON body into T.
func decode[T any](t *testing.T, r response) T {
	t.Helper()
	var v T
	require.NoError(t, json.Unmarshal(r.Body, &v), "decode %T from %s", v, r)
	return v
}

func asMap(t *testing.T, r response) map[string]any {
	t.Helper()
	return decode[map[string]any](t, r)
}

// expectJSON checks status and a JSON media type.
func expectJSON(t *testing.T, r response, status int) {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err, "content type of %s", r)
	assert.Equal(t, "application/json", mt)
}

// expectNoContent checks a 204 with an empty body.
func expectNoContent(t *testing.T, r response) {
	t.Helper()
	require.Equal(t, http.StatusNoContent, r.Status, "%s", r)
	assert.Empty(t, r.Body)
}

// expectProblem checks an RFC 9457 problem: status, media type, code, the
// body's status, and request_id equal to the X-Request-ID header.
func expectProblem(t *testing.T, r response, status int, code string) problem {
	t.Helper()
	require.Equal(t, status, r.Status, "%s", r)
	mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	require.NoError(t, err, "content type of %s", r)
	assert.Equal(t, "application/problem+json", mt, "%s", r)
	p := decode[problem](t, r)
	assert.Equal(t, code, p.Code, "%s", r)
	assert.Equal(t, status, p.Status, "problem status of %s", r)
	assert.NotEmpty(t, p.Type, "problem type")
	assert.NotEmpty(t, p.Title, "problem title")
	assert.NotEmpty(t, p.RequestID, "problem request_id")
	assert.Equal(t, r.Header.Get("X-Request-ID"), p.RequestID, "request_id must equal the X-Request-ID header")
	return p
}

// expectValidation checks a 422 validation_failed naming (at least) fields.
func expectValidation(t *testing.T, r response, fields ...string) problem {
	t.Helper()
	p := expectProblem(t, r, http.StatusUnprocessableEntity, "validation_failed")
	for _, f := range fields {
		assert.Contains(t, p.fields(), f, "the problem must name field %q: %s", f, r)
	}
	return p
}

// assertKeys checks that m has exactly keys.
func assertKeys(t *testing.T, m map[string]any, keys []string, what string) {
	t.Helper()
	got := make([]string, 0, len(m))
	for k := range m {
		got = append(got, k)
	}
	sort.Strings(got)
	want := append([]string(nil), keys...)
	sort.Strings(want)
	assert.Equal(t, want, got, "keys of %s", what)
}

// assertUTCTime checks an RFC 3339 timestamp in UTC.
func assertUTCTime(t *testing.T, s, what string) time.Time {
	t.Helper()
	ts, err := time.Parse(time.RFC3339Nano, s)
	if !assert.NoError(t, err, "%s must be RFC 3339: %q", what, s) {
		return time.Time{}
	}
	assert.True(t, strings.HasSuffix(s, "Z"), "%s must be in UTC: %q", what, s)
	return ts
}

// assertUserShape checks a `user` object of API.md.
func assertUserShape(t *testing.T, raw any) {
	t.Helper()
	m, ok := raw.(map[string]any)
	require.True(t, ok, "user must be an object: %#v", raw)
	assertKeys(t, m, userKeys, "user")
	id, _ := m["id"].(string)
	assert.Regexp(t, uuidRe, id, "user.id")
	assert.Contains(t, allRoles, m["role"], "user.role")
	assert.Contains(t, []any{"active", "blocked"}, m["status"], "user.status")
	created, _ := m["created_at"].(string)
	assertUTCTime(t, created, "user.created_at")
}

// assertTokensShape checks a `tokens` object of API.md.
func assertTokensShape(t *testing.T, raw any, ttl time.Duration) {
	t.Helper()
	m, ok := raw.(map[string]any)
	require.True(t, ok, "tokens must be an object: %#v", raw)
	assertKeys(t, m, tokensKeys, "tokens")
	assert.Equal(t, "Bearer", m["token_type"])
	assert.NotEmpty(t, m["access_token"])
	assert.NotEmpty(t, m["refresh_token"])
	assert.Equal(t, float64(int64(ttl/time.Second)), m["expires_in"], "expires_in is the access token ttl in seconds")
}

// assertRateLimitHeaders checks the RateLimit-* trio is there and numeric.
func assertRateLimitHeaders(t *testing.T, h http.Header) {
	t.Helper()
	for _, k := range []string{"RateLimit-Limit", "RateLimit-Remaining", "RateLimit-Reset"} {
		v := h.Get(k)
		if assert.NotEmpty(t, v, "header %s", k) {
			n, err := strconv.Atoi(v)
			assert.NoError(t, err, "%s must be an integer: %q", k, v)
			assert.GreaterOrEqual(t, n, 0, k)
		}
	}
}

// retryAfter parses Retry-After (delay-seconds) and checks 0 < it <= max.
func retryAfter(t *testing.T, h http.Header, max time.Duration) int {
	t.Helper()
	v := h.Get("Retry-After")
	require.NotEmpty(t, v, "a 429 carries Retry-After")
	n, err := strconv.Atoi(v)
	require.NoError(t, err, "Retry-After must be delay-seconds: %q", v)
	assert.Greater(t, n, 0, "Retry-After")
	assert.LessOrEqual(t, n, int(max/time.Second), "Retry-After")
	return n
}

// ---------------------------------------------------------------------------
// Identity actions

func registerBody(email, password string) map[string]any {
	return map[string]any{"email": email, "password": password, "full_name": "Test User"}
}

// register creates an account and returns its user and tokens.
func (g *gateway) register(t *testing.T, email, password string) authResult {
	t.Helper()
	r := g.post(t, "/api/auth/register", "", registerBody(email, password))
	expectJSON(t, r, http.StatusCreated)
	return decode[authResult](t, r)
}

// loginWith logs in with extra headers (User-Agent, X-Forwarded-For...).
func (g *gateway) loginWith(t *testing.T, email, password string, header map[string]string) response {
	t.Helper()
	return g.do(t, req{Method: http.MethodPost, Path: "/api/auth/login",
		Body: map[string]any{"email": email, "password": password}, Header: header})
}

// login logs in and requires success.
func (g *gateway) login(t *testing.T, email, password string) authResult {
	t.Helper()
	r := g.loginWith(t, email, password, nil)
	expectJSON(t, r, http.StatusOK)
	return decode[authResult](t, r)
}

// setRole changes a role straight in the database (no session is touched).
func (g *gateway) setRole(t *testing.T, email, role string) {
	t.Helper()
	res, err := g.DB.Exec(`UPDATE users SET role = $1 WHERE email = $2`, role, email)
	require.NoError(t, err)
	n, err := res.RowsAffected()
	require.NoError(t, err)
	require.EqualValues(t, 1, n, "no user %s", email)
}

// setStatus changes a status straight in the database (no session is touched).
func (g *gateway) setStatus(t *testing.T, email, status string) {
	t.Helper()
	_, err := g.DB.Exec(`UPDATE users SET status = $1 WHERE email = $2`, status, email)
	require.NoError(t, err)
}

// account is a registered user logged in with a token carrying their role.
type account struct {
	Email    string
	Password string
	ID       string
	Role     string
	Access   string
	Refresh  string
}

// newAccount registers a user, gives them role in the database, and logs in
// so the token is issued for that role.
func (g *gateway) newAccount(t *testing.T, role string) account {
	t.Helper()
	email := uniqueEmail(strings.ReplaceAll(role, "_", "-"))
	reg := g.register(t, email, defaultPassword)
	if role != roleCustomer {
		g.setRole(t, email, role)
	}
	res := g.login(t, email, defaultPassword)
	require.Equal(t, role, res.User.Role)
	return account{Email: email, Password: defaultPassword, ID: reg.User.ID, Role: role,
		Access: res.Tokens.AccessToken, Refresh: res.Tokens.RefreshToken}
}

// me is GET /api/auth/me with token.
func (g *gateway) me(t *testing.T, token string) response {
	t.Helper()
	return g.get(t, "/api/auth/me", token)
}

// expectTokenWorks checks the access token is accepted.
func (g *gateway) expectTokenWorks(t *testing.T, token string) {
	t.Helper()
	expectJSON(t, g.me(t, token), http.StatusOK)
}

// expectTokenRevoked checks the access token is refused as of an ended session.
func (g *gateway) expectTokenRevoked(t *testing.T, token string) {
	t.Helper()
	expectProblem(t, g.me(t, token), http.StatusUnauthorized, "token_revoked")
}

// refresh is POST /api/auth/refresh.
func (g *gateway) refresh(t *testing.T, refreshToken string) response {
	t.Helper()
	return g.post(t, "/api/auth/refresh", "", map[string]any{"refresh_token": refreshToken})
}

// sessions lists the sessions of the token's user.
func (g *gateway) sessions(t *testing.T, token string) []sessionDTO {
	t.Helper()
	r := g.get(t, "/api/auth/sessions", token)
	expectJSON(t, r, http.StatusOK)
	return decode[struct {
		Items []sessionDTO `json:"items"`
	}](t, r).Items
}

// currentSessionID is the id of the session of token.
func (g *gateway) currentSessionID(t *testing.T, token string) string {
	t.Helper()
	for _, s := range g.sessions(t, token) {
		if s.Current {
			return s.ID
		}
	}
	t.Fatalf("no current session in the list")
	return ""
}

// ---------------------------------------------------------------------------
// Tokens crafted by hand

// jwtClaims decodes the payload of a JWT without verifying it.
func jwtClaims(t *testing.T, token string) map[string]any {
	t.Helper()
	parts := strings.Split(token, ".")
	require.Len(t, parts, 3, "a JWT has three parts")
	payload, err := base64.RawURLEncoding.DecodeString(parts[1])
	require.NoError(t, err)
	var claims map[string]any
	require.NoError(t, json.Unmarshal(payload, &claims))
	return claims
}

// signToken signs claims with method and key.
func signToken(t *testing.T, method jwtlib.SigningMethod, key []byte, claims map[string]any) string {
	t.Helper()
	s, err := jwtlib.NewWithClaims(method, jwtlib.MapClaims(claims)).SignedString(key)
	require.NoError(t, err)
	return s
}

// unsignedToken is claims under {"alg":"none","typ":"JWT"} with an empty signature.
func unsignedToken(t *testing.T, claims map[string]any) string {
	t.Helper()
	payload, err := json.Marshal(claims)
	require.NoError(t, err)
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"alg":"none","typ":"JWT"}`))
	return header + "." + base64.RawURLEncoding.EncodeToString(payload) + "."
}

func cloneClaims(c map[string]any) map[string]any {
	out := make(map[string]any, len(c))
	for k, v := range c {
		out[k] = v
	}
	return out
}
