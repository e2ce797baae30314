// Package eskiz is a fake of the Eskiz.uz SMS gateway (shared/SMS.md §1): an
// httptest server that speaks Eskiz's request and answer shapes from memory,
// with switches for what tests need to provoke (expired and revoked tokens, a
// refused refresh, failures, slow answers) and a record of what was sent.
//
// Routes (under URL(), which ends in /api like Eskiz's base URL); bodies are
// forms, application/x-www-form-urlencoded or multipart/form-data (anything
// else answers 400); answers are JSON:
//
//	POST  /auth/login          email, password → 200 {"message":"token_generated",
//	                           "data":{"token":"<jwt>"},"token_type":"bearer"};
//	                           wrong → 401 {"message":"Invalid credentials","status":"error"}
//	PATCH /auth/refresh        Bearer (live or expired) → 200, same shape, a new token;
//	                           the old one is revoked (as jwt-auth blacklists it)
//	GET   /auth/user           Bearer → 200 {"status":"success","data":{id, name, email, ...}}
//	POST  /message/sms/send    Bearer; mobile_phone (998XXXXXXXXX), message, from →
//	                           200 {"id":"<uuid>","message":"Waiting for SMS provider","status":"waiting"};
//	                           a bad field → 400 {"message":"...","status":"error"}
//
// A Bearer route answers 401 {"message":"Expired Token"} for a token past
// its exp (by the fake's clock, WithClock) or expired with ExpireTokens, and
// 401 {"message":"Token is invalid","status":"token_invalid"} for a missing,
// forged, refreshed or InvalidateTokens-revoked one. Tokens are JWTs (HS256
// under a secret of the fake) carrying iat and exp, like Eskiz's.
package eskiz

import (
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
)

// The fake account's credentials unless WithCredentials says otherwise.
const (
	Email    = "sms@ultramarket.uz"
	Password = "eskiz-fake-api-secret" //nolint:gosec // G101: a fake account that exists only in tests
)

// DefaultTokenTTL is Eskiz's token lifetime (SMS.md §1: 30 days).
const DefaultTokenTTL = 30 * 24 * time.Hour

// Route names, for Calls, FailNext and SetDelay.
const (
	RouteLogin   = "POST /auth/login"
	RouteRefresh = "PATCH /auth/refresh"
	RouteUser    = "GET /auth/user"
	RouteSend    = "POST /message/sms/send"
)

// Message is one SMS the fake accepted.
type Message struct {
	ID    string // the id answered to the send
	Phone string // mobile_phone as received
	Text  string // message
	From  string // from
	Token string // the Bearer token it came with
}

// Option configures a Server.
type Option func(*Server)

// WithClock makes the fake stamp and check token times with now.
func WithClock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// WithTokenTTL sets how long a token lives (default DefaultTokenTTL).
func WithTokenTTL(d time.Duration) Option { return func(s *Server) { s.ttl = d } }

// WithCredentials sets the account the fake accepts.
func WithCredentials(email, password string) Option {
	return func(s *Server) { s.email, s.password = email, password }
}

type tokenState int

const (
	tokenLive tokenState = iota
	tokenExpired
	tokenRevoked
)

// Server is the fake Eskiz. Its methods are safe for concurrent use.
type Server struct {
	mu       sync.Mutex
	srv      *httptest.Server
	now      func() time.Time
	ttl      time.Duration
	email    string
	password string
	secret   []byte

	tokens        map[string]tokenState // every token issued
	issued        []string              // the same, in order
	sent          []Message
	calls         map[string]int
	delays        map[string]time.Duration
	failNext      map[string][]int
	refuseRefresh bool
}

// New starts a fake Eskiz on a local port. Stop it with Close.
func New(opts ...Option) *Server {
	s := &Server{
		now: time.Now, ttl: DefaultTokenTTL, email: Email, password: Password,
		secret: make([]byte, 32), tokens: map[string]tokenState{},
		calls: map[string]int{}, delays: map[string]time.Duration{}, failNext: map[string][]int{},
	}
	_, _ = rand.Read(s.secret)
	for _, o := range opts {
		o(s)
	}
	mux := http.NewServeMux()
	mux.HandleFunc(RouteLogin, s.route(RouteLogin, s.login))
	mux.HandleFunc(RouteRefresh, s.route(RouteRefresh, s.refresh))
	mux.HandleFunc(RouteUser, s.route(RouteUser, s.user))
	mux.HandleFunc(RouteSend, s.route(RouteSend, s.send))
	root := http.NewServeMux()
	root.Handle("/api/", http.StripPrefix("/api", mux))
	s.srv = httptest.NewServer(root)
	return s
}

// URL is the base URL to configure the client with (ESKIZ_URL), ending in /api.
func (s *Server) URL() string { return s.srv.URL + "/api" }

// Close stops the server, cutting requests in flight.
func (s *Server) Close() {
	s.srv.CloseClientConnections()
	s.srv.Close()
}

// Sent returns the messages accepted so far, oldest first.
func (s *Server) Sent() []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]Message(nil), s.sent...)
}

// Calls is how many requests reached route (a Route constant), failed ones
// included.
func (s *Server) Calls(route string) int { s.mu.Lock(); defer s.mu.Unlock(); return s.calls[route] }

// Tokens returns every token issued so far, oldest first.
func (s *Server) Tokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return append([]string(nil), s.issued...)
}

// ExpireTokens makes every token issued so far count as expired, though its
// exp claim says otherwise: the gateway finds out only from a 401. A refresh
// still accepts them.
func (s *Server) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t, st := range s.tokens {
		if st == tokenLive {
			s.tokens[t] = tokenExpired
		}
	}
}

// InvalidateTokens revokes every token issued so far: they answer 401 with
// status token_invalid, which no refresh fixes.
func (s *Server) InvalidateTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	for t := range s.tokens {
		s.tokens[t] = tokenRevoked
	}
}

// RefuseRefresh makes PATCH /auth/refresh answer 401 Expired Token (true), as
// Eskiz does once a token is past its refresh window, or work (false).
func (s *Server) RefuseRefresh(refuse bool) { s.mu.Lock(); s.refuseRefresh = refuse; s.mu.Unlock() }

// FailNext makes the next n requests to route answer status (a 5xx, a 429,
// ...) with a JSON error body, doing nothing else.
func (s *Server) FailNext(route string, status, n int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for range n {
		s.failNext[route] = append(s.failNext[route], status)
	}
}

// SetDelay makes route answer d late (0: at once). The request has taken
// effect by then (a send is recorded, a token issued): a client that gives up
// waiting does not undo it, which is why a timed-out send must not be
// repeated. The wait ends early when the client goes away.
func (s *Server) SetDelay(route string, d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.delays[route] = d
}

type answer struct {
	status int
	body   any
}

func errorAnswer(status int, message, st string) answer {
	body := map[string]string{"message": message}
	if st != "" {
		body["status"] = st
	}
	return answer{status, body}
}

// route counts the call, applies FailNext, runs h, then waits SetDelay's
// delay before writing h's answer.
func (s *Server) route(name string, h func(r *http.Request) answer) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.calls[name]++
		delay := s.delays[name]
		var fail int
		if q := s.failNext[name]; len(q) > 0 {
			fail, s.failNext[name] = q[0], q[1:]
		}
		s.mu.Unlock()

		a := errorAnswer(fail, "Server Error", "error")
		if fail == 0 {
			a = h(r)
		}
		if delay > 0 {
			t := time.NewTimer(delay)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(a.status)
		_ = json.NewEncoder(w).Encode(a.body)
	}
}

// maxFormBytes bounds what a form may hold.
const maxFormBytes = 1 << 20

// parseForm accepts the two form encodings Eskiz takes, up to maxFormBytes,
// into r.PostForm.
func parseForm(r *http.Request) bool {
	mt, params, err := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if err != nil {
		return false
	}
	body := io.LimitReader(r.Body, maxFormBytes)
	switch mt {
	case "application/x-www-form-urlencoded":
		raw, err := io.ReadAll(body)
		if err != nil {
			return false
		}
		r.PostForm, err = url.ParseQuery(string(raw))
		return err == nil
	case "multipart/form-data":
		form, err := multipart.NewReader(body, params["boundary"]).ReadForm(maxFormBytes)
		if err != nil {
			return false
		}
		defer func() { _ = form.RemoveAll() }()
		r.PostForm = form.Value
		return true
	}
	return false
}

func (s *Server) login(r *http.Request) answer {
	if !parseForm(r) {
		return errorAnswer(http.StatusBadRequest, "form body expected", "error")
	}
	email, password := r.PostForm.Get("email"), r.PostForm.Get("password")
	if email == "" || password == "" {
		return errorAnswer(http.StatusBadRequest, "email and password are required", "error")
	}
	ok := hmac.Equal([]byte(email), []byte(s.email)) && hmac.Equal([]byte(password), []byte(s.password))
	if !ok {
		return errorAnswer(http.StatusUnauthorized, "Invalid credentials", "error")
	}
	return s.tokenAnswer()
}

func (s *Server) refresh(r *http.Request) answer {
	tok, state, a := s.bearer(r)
	if a != nil && state != tokenExpired {
		return *a
	}
	s.mu.Lock()
	refuse := s.refuseRefresh
	if !refuse {
		s.tokens[tok] = tokenRevoked
	}
	s.mu.Unlock()
	if refuse {
		return errorAnswer(http.StatusUnauthorized, "Expired Token", "")
	}
	return s.tokenAnswer()
}

func (s *Server) user(r *http.Request) answer {
	if _, _, a := s.bearer(r); a != nil {
		return *a
	}
	return answer{http.StatusOK, map[string]any{"status": "success", "data": map[string]any{
		"id": 1, "name": "UltraMarket", "email": s.email, "role": "user", "status": "active", "balance": 100000,
	}}}
}

var mobilePhone = regexp.MustCompile(`^998[0-9]{9}$`)

func (s *Server) send(r *http.Request) answer {
	tok, _, a := s.bearer(r)
	if a != nil {
		return *a
	}
	if !parseForm(r) {
		return errorAnswer(http.StatusBadRequest, "form body expected", "error")
	}
	m := Message{
		ID: uuid.NewString(), Phone: r.PostForm.Get("mobile_phone"),
		Text: r.PostForm.Get("message"), From: r.PostForm.Get("from"), Token: tok,
	}
	switch {
	case !mobilePhone.MatchString(m.Phone):
		return errorAnswer(http.StatusBadRequest, "mobile_phone must be 998XXXXXXXXX", "error")
	case m.Text == "":
		return errorAnswer(http.StatusBadRequest, "message is required", "error")
	case m.From == "":
		return errorAnswer(http.StatusBadRequest, "from is required", "error")
	}
	s.mu.Lock()
	s.sent = append(s.sent, m)
	s.mu.Unlock()
	return answer{http.StatusOK, map[string]string{"id": m.ID, "message": "Waiting for SMS provider", "status": "waiting"}}
}

// bearer checks the request's token. It returns the token and its state,
// and the 401 to answer when it is not live.
func (s *Server) bearer(r *http.Request) (string, tokenState, *answer) {
	invalid := errorAnswer(http.StatusUnauthorized, "Token is invalid", "token_invalid")
	tok, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
	if !ok || !s.signedByUs(tok) {
		return "", tokenRevoked, &invalid
	}
	s.mu.Lock()
	state, known := s.tokens[tok]
	s.mu.Unlock()
	if !known || state == tokenRevoked {
		return tok, tokenRevoked, &invalid
	}
	if state == tokenExpired || !s.now().Before(s.expiry(tok)) {
		expired := errorAnswer(http.StatusUnauthorized, "Expired Token", "")
		return tok, tokenExpired, &expired
	}
	return tok, tokenLive, nil
}

var b64 = base64.RawURLEncoding

func (s *Server) tokenAnswer() answer {
	now := s.now()
	header := b64.EncodeToString([]byte(`{"typ":"JWT","alg":"HS256"}`))
	claims, _ := json.Marshal(map[string]any{
		"iss": "https://notify.eskiz.uz/api/auth/login", "sub": 1, "jti": uuid.NewString(),
		"iat": now.Unix(), "nbf": now.Unix(), "exp": now.Add(s.ttl).Unix(),
	})
	unsigned := header + "." + b64.EncodeToString(claims)
	tok := unsigned + "." + b64.EncodeToString(s.sign(unsigned))
	s.mu.Lock()
	s.tokens[tok] = tokenLive
	s.issued = append(s.issued, tok)
	s.mu.Unlock()
	return answer{http.StatusOK, map[string]any{
		"message": "token_generated", "data": map[string]string{"token": tok}, "token_type": "bearer",
	}}
}

func (s *Server) sign(unsigned string) []byte {
	m := hmac.New(sha256.New, s.secret)
	m.Write([]byte(unsigned))
	return m.Sum(nil)
}

func (s *Server) signedByUs(tok string) bool {
	i := strings.LastIndexByte(tok, '.')
	if i < 0 {
		return false
	}
	sig, err := b64.DecodeString(tok[i+1:])
	return err == nil && hmac.Equal(sig, s.sign(tok[:i]))
}

// expiry reads the exp claim of a token the fake signed.
func (s *Server) expiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	raw, err := b64.DecodeString(parts[1])
	if err != nil {
		panic(fmt.Sprintf("fake eskiz: own token unreadable: %v", err))
	}
	var c struct {
		Exp int64 `json:"exp"`
	}
	if err := json.Unmarshal(raw, &c); err != nil {
		panic(fmt.Sprintf("fake eskiz: own token unreadable: %v", err))
	}
	return time.Unix(c.Exp, 0)
}
