// Package eskiz sends SMS through Eskiz.uz (shared/SMS.md §1): ports.SMSSender
// over Eskiz's HTTP API.
//
// Token. Eskiz authenticates with a bearer token (a JWT living 30 days) got
// by logging in with the account's email and API password. The client logs
// in on the first send, keeps the token for every later one, and renews it:
//   - before a send, when the token's exp claim says it has (nearly) run out;
//   - after a send answered 401: a 401 whose status is "token_invalid" (a
//     revoked or forged token) is not fixed by a refresh, so the client logs
//     in again; any other 401 (an expired token) is refreshed with PATCH
//     /auth/refresh, and if Eskiz refuses the refresh (any answer without a
//     token) the client logs in. If Eskiz does not answer at all, the send
//     fails without a login that would only time out in turn.
//
// One renewal is in flight at a time for all goroutines: the others wait for
// its result rather than each refreshing (each refresh revokes the token the
// others hold). It runs on its own context, bounded by Timeout per call, so
// one caller giving up does not fail the renewal the others wait for. A
// renewal that fails is not remembered: the next send tries again.
//
// Sending. A send answered 401 was not taken, so it is sent once more with
// the renewed token. A send that timed out, lost its connection or got a 5xx
// is never repeated: Eskiz may have taken it, and a second try could text the
// user twice (SMS.md §3).
//
// Errors all wrap sms.ErrNotSent (and so domain.ErrUnavailable). They name
// the call and the reason (timeout, HTTP status, Eskiz's status word, "invalid
// credentials"), never the password, a token, the text or the whole number.
package eskiz

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/ultramarket/gateway/domain/sms"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// Defaults of the zero Config fields.
const (
	DefaultURL  = "https://notify.eskiz.uz/api"
	DefaultFrom = "4546" // Eskiz's default (test) sender name
	// DefaultTimeout bounds each call: Eskiz answers in well under a second
	// when healthy, and a login, a send and a renewed send make three calls.
	DefaultTimeout = 5 * time.Second
)

const (
	// renewBefore renews a token this long before its exp, so a send does not
	// set out with a token that runs out on the way.
	renewBefore = time.Minute
	// maxAnswerBytes caps how much of an answer is read: Eskiz's are a few
	// hundred bytes.
	maxAnswerBytes = 64 << 10
)

// Config configures a Client.
type Config struct {
	URL      string        // ESKIZ_URL; default DefaultURL (a path prefix is kept)
	Email    string        // ESKIZ_EMAIL, the account's login
	Password string        // ESKIZ_PASSWORD, the API secret from Eskiz's cabinet
	From     string        // ESKIZ_FROM, the sender name; default DefaultFrom
	Timeout  time.Duration // per HTTP call; default DefaultTimeout
	// HTTPClient defaults to a pooled client; its own Timeout, if set, applies
	// too; redirects are never followed.
	HTTPClient *http.Client
	// Now tells when a token runs out; default time.Now.
	Now func() time.Time
}

// String leaves the password out, so a Config logged or printed by mistake
// does not leak it.
func (c Config) String() string {
	return fmt.Sprintf("eskiz.Config{URL:%q Email:%q Password:[redacted] From:%q Timeout:%s}",
		c.URL, c.Email, c.From, c.Timeout)
}

// GoString leaves the password out of %#v too.
func (c Config) GoString() string { return c.String() }

// Client implements ports.SMSSender with Eskiz. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	email    string
	password string
	from     string
	timeout  time.Duration
	http     *http.Client
	now      func() time.Time

	mu      sync.Mutex
	tok     token   // the current token; zero before the first login
	renewal *flight // the renewal in flight, if any
}

var _ ports.SMSSender = (*Client)(nil)

type token struct {
	value string
	exp   time.Time // zero when the token does not say
}

// flight is one renewal that every goroutine needing a new token waits for.
type flight struct {
	done chan struct{}
	tok  token
	err  error
}

// New checks cfg and fills in the defaults. The error never contains the
// password.
func New(cfg Config) (*Client, error) {
	raw := cfg.URL
	if raw == "" {
		raw = DefaultURL
	}
	base, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (base.Scheme != "https" && base.Scheme != "http") || base.Host == "" || base.User != nil {
		return nil, errors.New("eskiz: URL must be an absolute http(s) URL without credentials")
	}
	base.RawQuery, base.Fragment = "", ""
	if cfg.Email == "" || cfg.Password == "" {
		return nil, errors.New("eskiz: email and password are required")
	}
	c := &Client{
		base: base, email: cfg.Email, password: cfg.Password,
		from: cfg.From, timeout: cfg.Timeout, http: cfg.HTTPClient, now: cfg.Now,
	}
	if c.from == "" {
		c.from = DefaultFrom
	}
	if c.timeout <= 0 {
		c.timeout = DefaultTimeout
	}
	if c.now == nil {
		c.now = time.Now
	}
	if c.http == nil {
		tr := http.DefaultTransport.(*http.Transport).Clone()
		c.http = &http.Client{Transport: tr, CheckRedirect: noRedirects}
	} else {
		hc := *c.http // do not change the caller's client
		hc.CheckRedirect = noRedirects
		c.http = &hc
	}
	return c, nil
}

// noRedirects hands a 3xx back as the answer: Eskiz's API has none, and
// following one would carry the token or the password elsewhere.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Send hands text for to to Eskiz (POST /message/sms/send). nil means Eskiz
// took it ("waiting"); delivery is not confirmed.
func (c *Client) Send(ctx context.Context, to user.Phone, text string) error {
	switch {
	case to.IsZero():
		return errors.New("eskiz: send: no phone")
	case text == "":
		return errors.New("eskiz: send: empty text")
	}
	tok, err := c.token(ctx)
	if err != nil {
		return err
	}
	form := url.Values{"mobile_phone": {to.Digits()}, "message": {text}, "from": {c.from}}
	a, err := c.call(ctx, http.MethodPost, "/message/sms/send", form, tok.value)
	if err != nil {
		return c.fail(ctx, "send", err)
	}
	if a.status == http.StatusUnauthorized {
		// Not taken: renew the token and send this once more.
		how := refresh
		if a.tokenInvalid() {
			how = login
		}
		if tok, err = c.renew(ctx, tok, how); err != nil {
			return err
		}
		if a, err = c.call(ctx, http.MethodPost, "/message/sms/send", form, tok.value); err != nil {
			return c.fail(ctx, "send", err)
		}
	}
	if !a.ok() {
		return c.fail(ctx, "send", a.reason())
	}
	return nil
}

// token returns the current token, or a renewed one when there is none yet
// or it has (nearly) run out.
func (c *Client) token(ctx context.Context) (token, error) {
	c.mu.Lock()
	t := c.tok
	c.mu.Unlock()
	switch {
	case t.value == "":
		return c.renew(ctx, t, login)
	case !t.exp.IsZero() && !c.now().Before(t.exp.Add(-renewBefore)):
		return c.renew(ctx, t, refresh)
	}
	return t, nil
}

type renewal int

const (
	refresh renewal = iota // refresh, and log in if Eskiz refuses
	login
)

// renew replaces stale, the token the caller found wanting, unless another
// goroutine has replaced it meanwhile; one renewal runs at a time, and every
// caller that needs one waits for it.
func (c *Client) renew(ctx context.Context, stale token, how renewal) (token, error) {
	c.mu.Lock()
	if c.tok.value != "" && c.tok.value != stale.value {
		t := c.tok
		c.mu.Unlock()
		return t, nil
	}
	f := c.renewal
	if f == nil {
		f = &flight{done: make(chan struct{})}
		c.renewal = f
		go c.fly(context.WithoutCancel(ctx), f, stale, how)
	}
	c.mu.Unlock()

	select {
	case <-f.done:
		return f.tok, f.err
	case <-ctx.Done():
		return token{}, c.fail(ctx, "renew token", ctx.Err())
	}
}

// fly runs one renewal and hands its result to everyone waiting.
func (c *Client) fly(ctx context.Context, f *flight, stale token, how renewal) {
	var t token
	var err error
	if how == refresh && stale.value != "" {
		t, err = c.fetchToken(ctx, "refresh token", http.MethodPatch, "/auth/refresh", nil, stale.value)
		if errors.Is(err, errRefused) {
			t, err = c.login(ctx)
		}
	} else {
		t, err = c.login(ctx)
	}
	c.mu.Lock()
	if err == nil {
		c.tok = t
	}
	c.renewal = nil
	f.tok, f.err = t, err
	c.mu.Unlock()
	close(f.done)
}

func (c *Client) login(ctx context.Context) (token, error) {
	form := url.Values{"email": {c.email}, "password": {c.password}}
	return c.fetchToken(ctx, "log in", http.MethodPost, "/auth/login", form, "")
}

// errRefused marks a token call Eskiz answered without a token, as opposed
// to one that got no answer: a refused refresh is worth a login, an
// unreachable Eskiz is not worth a second call.
var errRefused = errors.New("refused")

// fetchToken makes a login or refresh call and reads the token from its
// answer: {"message":"token_generated","data":{"token":"..."},...}.
func (c *Client) fetchToken(ctx context.Context, op, method, path string, form url.Values, bearer string) (token, error) {
	a, err := c.call(ctx, method, path, form, bearer)
	if err != nil {
		return token{}, c.fail(ctx, op, err)
	}
	if !a.ok() {
		reason := a.reason()
		if path == "/auth/login" && (a.status == http.StatusUnauthorized || a.message == "Invalid credentials") {
			reason = errors.New("invalid credentials (check the Eskiz email and password)")
		}
		return token{}, c.fail(ctx, op, fmt.Errorf("%w: %w", errRefused, reason))
	}
	var body struct {
		Data struct {
			Token string `json:"token"`
		} `json:"data"`
	}
	if json.Unmarshal(a.body, &body) != nil || body.Data.Token == "" {
		return token{}, c.fail(ctx, op, fmt.Errorf("%w: HTTP %d without a token", errRefused, a.status))
	}
	return token{value: body.Data.Token, exp: expiry(body.Data.Token)}, nil
}

// expiry reads the exp claim of a JWT without checking its signature (only
// Eskiz can, and only Eskiz needs to): it only tells when to renew. Zero when
// the token is not a JWT with an exp.
func expiry(tok string) time.Time {
	parts := strings.Split(tok, ".")
	if len(parts) != 3 {
		return time.Time{}
	}
	raw, err := base64.RawURLEncoding.DecodeString(strings.TrimRight(parts[1], "="))
	if err != nil {
		return time.Time{}
	}
	var claims struct {
		Exp json.Number `json:"exp"`
	}
	if json.Unmarshal(raw, &claims) != nil {
		return time.Time{}
	}
	exp, err := claims.Exp.Int64()
	if err != nil || exp <= 0 {
		return time.Time{}
	}
	return time.Unix(exp, 0)
}

// answer is what Eskiz said to one call.
type answer struct {
	status  int
	body    []byte
	message string // Eskiz's "message", when the body is a JSON object with one
	word    string // Eskiz's "status", when it is a short word
}

func (a answer) ok() bool           { return a.status >= 200 && a.status < 300 }
func (a answer) tokenInvalid() bool { return a.word == "token_invalid" }

// statusWord is what of Eskiz's "status" an error may repeat: a short
// word like "token_invalid", never free text that might echo the request.
var statusWord = regexp.MustCompile(`^[A-Za-z_]{1,32}$`)

// reason describes a refusal by status code and Eskiz's status word; the
// message is left out (it may echo what was sent).
func (a answer) reason() error {
	if a.word != "" {
		return fmt.Errorf("HTTP %d, status %q", a.status, a.word)
	}
	return fmt.Errorf("HTTP %d", a.status)
}

// call makes one HTTP call with a form body (none when form is nil) and
// reads the answer, within Timeout.
func (c *Client) call(ctx context.Context, method, path string, form url.Values, bearer string) (answer, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	u := *c.base
	u.Path += path
	req, err := http.NewRequestWithContext(ctx, method, u.String(), body)
	if err != nil {
		return answer{}, err
	}
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	req.Header.Set("Accept", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer resp.Body.Close()
	raw, err := io.ReadAll(io.LimitReader(resp.Body, maxAnswerBytes+1))
	if err != nil {
		return answer{}, err
	}
	if len(raw) > maxAnswerBytes {
		return answer{}, fmt.Errorf("HTTP %d with an answer over %d bytes", resp.StatusCode, maxAnswerBytes)
	}
	a := answer{status: resp.StatusCode, body: raw}
	var fields struct {
		Message any `json:"message"`
		Status  any `json:"status"`
	}
	if json.Unmarshal(raw, &fields) == nil {
		a.message, _ = fields.Message.(string)
		if w, _ := fields.Status.(string); statusWord.MatchString(w) {
			a.word = w
		}
	}
	return a, nil
}

// fail wraps the reason a call failed in sms.ErrNotSent. A transport error's
// url.Error wrapper is dropped (it repeats the URL), and a deadline is named
// as the timeout it was; when the caller's own context ended, its error is
// kept in the chain.
func (c *Client) fail(ctx context.Context, op string, err error) error {
	if errors.Is(err, sms.ErrNotSent) {
		return err // already described by a call below
	}
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	if cerr := ctx.Err(); cerr != nil {
		return fmt.Errorf("eskiz %s: %w: %w", op, sms.ErrNotSent, cerr)
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return fmt.Errorf("eskiz %s: %w: no answer within %s", op, sms.ErrNotSent, c.timeout)
	}
	return fmt.Errorf("eskiz %s: %w: %w", op, sms.ErrNotSent, err)
}
