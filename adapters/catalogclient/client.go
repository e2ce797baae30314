// Package catalogclient is the HTTP client of the upstream product microservice
// (CATALOG_URL): ports.Catalog over the contract of DESIGN.md ("Upstream
// catalog contract").
//
// Every call:
//   - forwards the caller: X-Request-ID (the request id the context carries,
//     package requestid), X-User-Id and X-User-Role (the user.Actor); each
//     omitted when empty;
//   - has a timeout per attempt (Config.Timeout);
//   - goes through one circuit breaker: after BreakerFailures consecutive
//     failed attempts (5xx, timeout, refused or broken connection, malformed
//     answer; never a 4xx) it opens, and for BreakerOpen every call fails at
//     once with ErrCircuitOpen without touching the network; then one trial
//     call is let through (half-open) and its outcome closes or reopens it.
//     The state is published as catalog_circuit_state (0 closed, 1 half-open,
//     2 open). Open moves to half-open lazily, on the next call or Circuit();
//   - is retried, with exponential backoff and jitter, only when it is
//     idempotent (GET, PUT, DELETE and the read-only POST /products/lookup)
//     and failed with a 5xx, a timeout or a connection error. POST /products
//     and POST /reservations are never retried: the first try may have
//     happened.
//
// Errors:
//   - upstream unreachable, slow, 5xx, malformed or oversized answer, open
//     circuit: an error wrapping domain.ErrUpstreamUnavailable (→ 503
//     upstream_unavailable). Its message names the call and the reason (status
//     code, network error), never the upstream's body.
//   - upstream 4xx: *UpstreamProblem (see there for how the edge renders it
//     and which domain errors it matches).
//   - 409 insufficient_stock to a reservation: *product.InsufficientStockError.
//   - the caller's context ending: the context's error (not counted against
//     the upstream by the breaker).
//
// Ids that are not UUIDs are not sent: Get, Replace and Delete of one answer
// product.ErrNotFound, Lookup skips them, Release ignores them and Reserve
// refuses them, as the built-in catalog does.
//
// A Reserve that fails with ErrUpstreamUnavailable may or may not have been
// applied upstream (the answer was lost); the caller should Release the order,
// which is idempotent, before giving up on it.
package catalogclient

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sony/gobreaker/v2"

	"github.com/ultramarket/gateway/adapters/metrics"
	"github.com/ultramarket/gateway/adapters/requestid"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/ports"
)

// ErrCircuitOpen is returned, without calling the upstream, while the circuit
// is open (or half-open with its trial call in flight). It wraps
// domain.ErrUpstreamUnavailable.
var ErrCircuitOpen = fmt.Errorf("catalog: circuit open: %w", domain.ErrUpstreamUnavailable)

// MaxResponseBytes caps how much of an answer is read; a longer one is treated
// as a broken upstream.
const MaxResponseBytes = 4 << 20

// Defaults of the zero Config fields.
const (
	DefaultTimeout         = 3 * time.Second
	DefaultBreakerFailures = 5
	DefaultBreakerOpen     = 10 * time.Second
	DefaultMaxAttempts     = 3
	DefaultRetryBaseDelay  = 50 * time.Millisecond
)

// Config configures a Client; zero fields take the defaults above.
type Config struct {
	BaseURL         string        // CATALOG_URL, e.g. http://catalog:8080 (a path prefix is kept)
	Timeout         time.Duration // per attempt (CATALOG_TIMEOUT)
	BreakerFailures int           // consecutive failed attempts that open the circuit
	BreakerOpen     time.Duration // how long it stays open before a trial call
	Metrics         *metrics.Metrics
	HTTPClient      *http.Client  // default: a pooled client; its own Timeout, if set, applies too; redirects are never followed
	MaxAttempts     int           // attempts of an idempotent call (1 disables retries)
	RetryBaseDelay  time.Duration // first backoff; doubled each retry, jittered
}

// Client implements ports.Catalog over HTTP. It is safe for concurrent use.
type Client struct {
	base     *url.URL
	baseErr  error
	http     *http.Client
	timeout  time.Duration
	attempts int
	backoff  time.Duration
	breaker  *gobreaker.TwoStepCircuitBreaker[struct{}]
	metrics  *metrics.Metrics
}

var _ ports.Catalog = (*Client)(nil)

// New returns a Client for cfg. A BaseURL that is not an absolute http(s) URL
// makes every call fail (configuration is validated at start-up, in main).
func New(cfg Config) *Client {
	c := &Client{
		http:     cfg.HTTPClient,
		timeout:  orDefault(cfg.Timeout, DefaultTimeout),
		attempts: orDefault(cfg.MaxAttempts, DefaultMaxAttempts),
		backoff:  orDefault(cfg.RetryBaseDelay, DefaultRetryBaseDelay),
		metrics:  cfg.Metrics,
	}
	c.base, c.baseErr = parseBase(cfg.BaseURL)
	if c.http == nil {
		c.http = defaultHTTPClient()
	} else {
		hc := *c.http // do not change the caller's client
		hc.CheckRedirect = noRedirects
		c.http = &hc
	}
	failures := uint32(min(orDefault(cfg.BreakerFailures, DefaultBreakerFailures), math.MaxUint32)) //nolint:gosec // G115: between 1 (orDefault) and MaxUint32 (min)
	c.breaker = gobreaker.NewTwoStepCircuitBreaker[struct{}](gobreaker.Settings{
		Name:        "catalog",
		MaxRequests: 1, // one trial call when half-open
		Timeout:     orDefault(cfg.BreakerOpen, DefaultBreakerOpen),
		ReadyToTrip: func(counts gobreaker.Counts) bool { return counts.ConsecutiveFailures >= failures },
		IsExcluded:  func(err error) bool { return errors.Is(err, errNotCounted) },
		OnStateChange: func(_ string, _, to gobreaker.State) {
			c.metrics.SetCatalogCircuit(circuitState(to))
		},
	})
	c.metrics.SetCatalogCircuit(metrics.CircuitClosed)
	return c
}

func orDefault[T int | time.Duration](v, def T) T {
	if v <= 0 {
		return def
	}
	return v
}

func parseBase(raw string) (*url.URL, error) {
	u, err := url.Parse(strings.TrimRight(raw, "/"))
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, errors.New("catalog: base URL must be an absolute http(s) URL")
	}
	u.RawQuery, u.Fragment = "", ""
	return u, nil
}

// Keep-alive to the upstream, tuned like nginx's upstream block in front
// of a service: up to 128 idle connections kept (keepalive 128) for 60 s
// (keepalive_timeout 60s). Every gateway request may call the catalog, and
// a new connection per call costs a handshake on both sides; with fewer idle
// slots than concurrent callers, the surplus connections are closed after
// each answer and redialled at once.
const (
	upstreamIdleConns   = 128
	upstreamIdleTimeout = 60 * time.Second
)

func defaultHTTPClient() *http.Client {
	tr := http.DefaultTransport.(*http.Transport).Clone()
	tr.MaxIdleConns = upstreamIdleConns
	tr.MaxIdleConnsPerHost = upstreamIdleConns
	tr.IdleConnTimeout = upstreamIdleTimeout
	tr.ResponseHeaderTimeout = 0 // the per-attempt context bounds it
	// No Accept-Encoding: gzip: the catalog sits next to the gateway, where
	// compressing and decompressing every answer costs more CPU than the
	// bytes it saves (nginx's proxy_pass does not ask for it either).
	tr.DisableCompression = true
	return &http.Client{Transport: tr, CheckRedirect: noRedirects}
}

// bodyPool holds the buffers answers are read into: a list page is a few
// KiB, and io.ReadAll would grow a new slice for each (several copies).
var bodyPool = sync.Pool{New: func() any { return new(bytes.Buffer) }}

// putBody returns b to the pool, unless an outsized answer grew it.
func putBody(b *bytes.Buffer) {
	if b == nil || b.Cap() > 1<<20 {
		return
	}
	b.Reset()
	bodyPool.Put(b)
}

// noRedirects hands a 3xx back as the answer: the contract has none, so it is
// a misconfigured upstream rather than something to follow.
func noRedirects(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

func circuitState(s gobreaker.State) metrics.CircuitState {
	switch s {
	case gobreaker.StateOpen:
		return metrics.CircuitOpen
	case gobreaker.StateHalfOpen:
		return metrics.CircuitHalfOpen
	}
	return metrics.CircuitClosed
}

// Circuit reports the breaker's state (moving it from open to half-open when
// BreakerOpen has passed), for the detailed health check.
func (c *Client) Circuit() metrics.CircuitState { return circuitState(c.breaker.State()) }

// Ping checks the upstream with one cheap list call (no retry), for readiness.
// An open circuit answers ErrCircuitOpen without calling.
func (c *Client) Ping(ctx context.Context) error {
	return c.do(ctx, request{
		method: http.MethodGet, path: "/products", query: url.Values{"page_size": {"1"}},
		handle: func(status int, _ []byte) error {
			if status != http.StatusOK {
				return fmt.Errorf("catalog: ping answered %d: %w", status, domain.ErrUpstreamUnavailable)
			}
			return nil
		},
	})
}

// List asks for one page; the visibility hints are sent as include_inactive
// and inactive_of_seller.
func (c *Client) List(ctx context.Context, q ports.ProductQuery, who user.Actor) (ports.ProductPage, error) {
	page, size := q.Page, q.PageSize
	if page < 1 {
		page = 1
	}
	if size < 1 {
		size = 20
	}
	size = min(size, 100)
	v := url.Values{"page": {strconv.Itoa(page)}, "page_size": {strconv.Itoa(size)}}
	setIf(v, "q", strings.TrimSpace(q.Q))
	setIf(v, "category", strings.TrimSpace(q.Category))
	setIf(v, "seller_id", q.SellerID)
	if q.IncludeInactive {
		v.Set("include_inactive", "true")
	}
	setIf(v, "inactive_of_seller", q.InactiveOfSeller)

	var out ports.ProductPage
	err := c.do(ctx, request{
		method: http.MethodGet, path: "/products", query: v, who: who, idempotent: true,
		handle: func(status int, body []byte) error {
			if status != http.StatusOK {
				return unexpected(status, body)
			}
			var lj struct {
				Items []productJSON `json:"items"`
				Total int           `json:"total"`
			}
			if err := json.Unmarshal(body, &lj); err != nil {
				return badAnswer("list: %v", err)
			}
			if lj.Total < 0 {
				return badAnswer("list: total %d", lj.Total)
			}
			items, err := toProducts(lj.Items)
			if err != nil {
				return err
			}
			out = ports.ProductPage{Items: items, Total: lj.Total}
			return nil
		},
	})
	return out, err
}

func setIf(v url.Values, key, value string) {
	if value != "" {
		v.Set(key, value)
	}
}

// Get returns one product, inactive ones included.
func (c *Client) Get(ctx context.Context, id string, who user.Actor) (*product.Product, error) {
	pid, ok := canonicalID(id)
	if !ok {
		return nil, fmt.Errorf("catalog: product %s: %w", id, product.ErrNotFound)
	}
	var out *product.Product
	err := c.do(ctx, request{
		method: http.MethodGet, path: "/products/" + pid, who: who, idempotent: true,
		handle: productAnswer(&out),
	})
	return out, err
}

// Create sends the draft; the upstream validates it (422 → *UpstreamProblem
// that errors.As finds as a *domain.ValidationError).
func (c *Client) Create(ctx context.Context, d product.Draft, who user.Actor) (*product.Product, error) {
	var out *product.Product
	err := c.do(ctx, request{
		method: http.MethodPost, path: "/products", body: draftOf(d), who: who,
		handle: productAnswer(&out),
	})
	return out, err
}

// Replace sends the draft as the product's new editable fields.
func (c *Client) Replace(ctx context.Context, id string, d product.Draft, who user.Actor) (*product.Product, error) {
	pid, ok := canonicalID(id)
	if !ok {
		return nil, fmt.Errorf("catalog: product %s: %w", id, product.ErrNotFound)
	}
	var out *product.Product
	err := c.do(ctx, request{
		method: http.MethodPut, path: "/products/" + pid, body: draftOf(d), who: who, idempotent: true,
		handle: productAnswer(&out),
	})
	return out, err
}

// Delete removes the product (the upstream keeps it for old orders).
func (c *Client) Delete(ctx context.Context, id string, who user.Actor) error {
	pid, ok := canonicalID(id)
	if !ok {
		return fmt.Errorf("catalog: product %s: %w", id, product.ErrNotFound)
	}
	return c.do(ctx, request{
		method: http.MethodDelete, path: "/products/" + pid, who: who, idempotent: true,
		handle: noContent,
	})
}

// Lookup fetches the products of a cart or order in one call; unknown ids are
// simply absent from the answer.
func (c *Client) Lookup(ctx context.Context, ids []string, who user.Actor) ([]*product.Product, error) {
	valid := make([]string, 0, len(ids))
	for _, id := range ids {
		if pid, ok := canonicalID(id); ok {
			valid = append(valid, pid)
		}
	}
	if len(valid) == 0 {
		return []*product.Product{}, nil
	}
	var out []*product.Product
	err := c.do(ctx, request{
		method: http.MethodPost, path: "/products/lookup", body: map[string][]string{"ids": valid}, who: who,
		idempotent: true, // read-only despite the POST
		handle: func(status int, body []byte) error {
			if status != http.StatusOK {
				return unexpected(status, body)
			}
			var lj struct {
				Items []productJSON `json:"items"`
			}
			if err := json.Unmarshal(body, &lj); err != nil {
				return badAnswer("lookup: %v", err)
			}
			var err error
			out, err = toProducts(lj.Items)
			return err
		},
	})
	return out, err
}

type reservationJSON struct {
	OrderID string                `json:"order_id"`
	Items   []reservationItemJSON `json:"items"`
}

type reservationItemJSON struct {
	ProductID string `json:"product_id"`
	Quantity  int64  `json:"quantity"`
}

// Reserve holds stock for the order upstream, all or nothing. Sent once,
// never retried.
func (c *Client) Reserve(ctx context.Context, orderID string, items []ports.ReservationItem, who user.Actor) error {
	oid, ok := canonicalID(orderID)
	if !ok {
		return domain.Invalid("order_id", domain.MsgUUID)
	}
	if len(items) == 0 {
		return domain.Invalid("items", domain.MsgNotEmpty)
	}
	body := reservationJSON{OrderID: oid, Items: make([]reservationItemJSON, len(items))}
	for i, it := range items {
		pid, ok := canonicalID(it.ProductID)
		if !ok {
			return fmt.Errorf("catalog: reserve order %s: product %s: %w", oid, it.ProductID, product.ErrNotFound)
		}
		body.Items[i] = reservationItemJSON{ProductID: pid, Quantity: it.Quantity}
	}
	return c.do(ctx, request{
		method: http.MethodPost, path: "/reservations", body: body, who: who,
		handle: func(status int, raw []byte) error {
			switch {
			case status >= 200 && status < 300:
				return nil
			case status == http.StatusConflict:
				p, pj := parseProblem(status, raw)
				if pj.Code == "insufficient_stock" {
					pid := pj.ProductID
					if !domain.IsID(pid) {
						pid = "" // not one of ours: do not echo it
					}
					return &product.InsufficientStockError{ProductID: pid}
				}
				return p
			}
			return unexpected(status, raw)
		},
	})
}

// Release gives the order's reservation back; 404 (nothing held) is success.
func (c *Client) Release(ctx context.Context, orderID string, who user.Actor) error {
	oid, ok := canonicalID(orderID)
	if !ok {
		return nil
	}
	return c.do(ctx, request{
		method: http.MethodDelete, path: "/reservations/" + oid, who: who, idempotent: true,
		handle: func(status int, body []byte) error {
			if status == http.StatusNotFound {
				return nil
			}
			return noContent(status, body)
		},
	})
}

// canonicalID returns id in the canonical lower-case form when it is one of
// our ids, which also makes it safe in a path.
func canonicalID(id string) (string, bool) { return domain.ParseID(id) }

func noContent(status int, body []byte) error {
	if status >= 200 && status < 300 {
		return nil
	}
	return unexpected(status, body)
}

// unexpected turns an answer outside the contract into an error: a 4xx is the
// upstream's problem for the client; anything else a broken upstream.
func unexpected(status int, body []byte) error {
	if status >= 400 && status < 500 {
		p, _ := parseProblem(status, body)
		return p
	}
	return badAnswer("unexpected status %d", status)
}

type draftJSON struct {
	Name        string `json:"name"`
	Description string `json:"description"`
	Category    string `json:"category"`
	Price       int64  `json:"price"`
	Stock       int64  `json:"stock"`
	Active      bool   `json:"active"`
	SellerID    string `json:"seller_id,omitempty"`
	// The fiscal fields as the client sent them; absent when not given.
	IKPUCode    *string `json:"ikpu_code,omitempty"`
	PackageCode *string `json:"package_code,omitempty"`
	UnitCode    *int64  `json:"unit_code,omitempty"`
	VATPercent  *int    `json:"vat_percent,omitempty"`
}

func draftOf(d product.Draft) draftJSON {
	return draftJSON{Name: d.Name, Description: d.Description, Category: d.Category, Price: d.Price,
		Stock: d.Stock, Active: d.Active, SellerID: d.SellerID,
		IKPUCode: d.Fiscal.IKPUCode, PackageCode: d.Fiscal.PackageCode, UnitCode: d.Fiscal.UnitCode,
		VATPercent: d.Fiscal.VATPercent}
}

// productJSON is the public `product` shape.
type productJSON struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Description string    `json:"description"`
	Category    string    `json:"category"`
	Price       int64     `json:"price"`
	Currency    string    `json:"currency"`
	Stock       int64     `json:"stock"`
	SellerID    string    `json:"seller_id"`
	Active      bool      `json:"active"`
	CreatedAt   time.Time `json:"created_at"`
	UpdatedAt   time.Time `json:"updated_at"`

	// The fiscal identity (DESIGN.md's catalog contract): optional, and an
	// upstream that omits it serves products without codes at 12 % VAT.
	IKPUCode    *string `json:"ikpu_code"`
	PackageCode *string `json:"package_code"`
	UnitCode    *int64  `json:"unit_code"`
	VATPercent  *int    `json:"vat_percent"`
}

// toDomain re-checks what the upstream sent: a product the domain could not
// hold (no id, price < 1, negative stock, another currency) is a broken
// answer, not something to sell.
func (j productJSON) toDomain() (*product.Product, error) {
	price, err := money.FromTiyin(j.Price)
	switch {
	case j.ID == "":
		return nil, badAnswer("product without id")
	case err != nil || j.Price < 1:
		return nil, badAnswer("product %s: price %d", j.ID, j.Price)
	case j.Stock < 0:
		return nil, badAnswer("product %s: stock %d", j.ID, j.Stock)
	case j.Currency != "" && j.Currency != money.Currency:
		return nil, badAnswer("product %s: currency %q", j.ID, j.Currency)
	}
	id, err := fiscal.NewIdentity(fiscal.IdentityDraft{IKPUCode: j.IKPUCode, PackageCode: j.PackageCode,
		UnitCode: j.UnitCode, VATPercent: j.VATPercent})
	if err != nil {
		return nil, badAnswer("product %s: fiscal identity: %v", j.ID, err)
	}
	return product.Restore(j.ID, j.Name, j.Description, j.Category, j.SellerID, price, j.Stock, j.Active,
		j.CreatedAt.UTC(), j.UpdatedAt.UTC()).WithFiscal(id), nil
}

func toProducts(items []productJSON) ([]*product.Product, error) {
	out := make([]*product.Product, 0, len(items))
	for _, j := range items {
		p, err := j.toDomain()
		if err != nil {
			return nil, err
		}
		out = append(out, p)
	}
	return out, nil
}

// productAnswer decodes a single product. Any 2xx will do (the contract
// says 201 for a create, 200 otherwise): the body is what matters.
func productAnswer(out **product.Product) func(int, []byte) error {
	return func(status int, body []byte) error {
		if status < 200 || status >= 300 {
			return unexpected(status, body)
		}
		var j productJSON
		if err := json.Unmarshal(body, &j); err != nil {
			return badAnswer("product: %v", err)
		}
		p, err := j.toDomain()
		if err != nil {
			return err
		}
		*out = p
		return nil
	}
}

// request is one call of the contract.
type request struct {
	method, path string
	query        url.Values
	body         any
	who          user.Actor
	idempotent   bool
	// handle interprets an answer below 500 (body already read). Its error is
	// the call's result; an errBadAnswer counts as an upstream failure.
	handle func(status int, body []byte) error
}

// errBadAnswer marks an answer that breaks the contract (malformed JSON,
// impossible values, a 3xx): the upstream is broken, so it is unavailable.
var errBadAnswer = errors.New("malformed answer")

func badAnswer(format string, args ...any) error {
	return fmt.Errorf("%w: %s", errBadAnswer, fmt.Sprintf(format, args...))
}

// errNotCounted marks an attempt the breaker must not count: the caller gave up.
var errNotCounted = errors.New("caller gone")

// unavailableError is an upstream failure. It wraps
// domain.ErrUpstreamUnavailable only: the cause is in the message for logs but
// not in the chain, so no edge mistakes a network timeout for the caller's.
type unavailableError struct {
	op     string
	reason string
	retry  bool
}

func (e *unavailableError) Error() string {
	return fmt.Sprintf("catalog: %s: %s: %v", e.op, e.reason, domain.ErrUpstreamUnavailable)
}

func (e *unavailableError) Unwrap() error { return domain.ErrUpstreamUnavailable }

// do runs r, retrying an idempotent one after retryable failures.
func (c *Client) do(ctx context.Context, r request) error {
	op := r.method + " " + r.path
	if c.baseErr != nil {
		return fmt.Errorf("%s: %w", op, c.baseErr)
	}
	var body []byte
	if r.body != nil {
		b, err := json.Marshal(r.body)
		if err != nil {
			return fmt.Errorf("catalog: %s: encode body: %w", op, err)
		}
		body = b
	}
	attempts := 1
	if r.idempotent {
		attempts = c.attempts
	}
	var err error
	for i := range attempts {
		if i > 0 && !c.pause(ctx, i) {
			return err // the caller gave up while we waited: report why we were waiting
		}
		err = c.attempt(ctx, op, r, body)
		var ue *unavailableError
		if err == nil || !errors.As(err, &ue) || !ue.retry {
			return err
		}
	}
	return err
}

// pause sleeps before retry number n (1-based): base·2^(n-1), with "equal
// jitter" (half fixed, half random) so that instances that failed together do
// not retry together. It reports false if ctx ended first.
func (c *Client) pause(ctx context.Context, n int) bool {
	d := c.backoff << (n - 1)
	d = d/2 + rand.N(d/2+1) //nolint:gosec // G404: retry jitter spreads load; it guards no secret
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
		return false
	case <-t.C:
		return true
	}
}

// attempt makes one HTTP exchange through the breaker.
func (c *Client) attempt(ctx context.Context, op string, r request, body []byte) error {
	done, err := c.breaker.Allow()
	if err != nil {
		return fmt.Errorf("%s: %w", op, ErrCircuitOpen)
	}
	status, answer, err := c.send(ctx, r, body)
	defer putBody(answer) // handle decodes copies out of it; nothing keeps it
	switch {
	case err == nil && status < 500:
		herr := r.handle(status, answer.Bytes())
		if errors.Is(herr, errBadAnswer) {
			done(herr)
			return &unavailableError{op: op, reason: herr.Error()}
		}
		done(nil) // the upstream answered: 4xx included, it is alive
		return herr
	case ctx.Err() != nil:
		// The caller's context ended (not our per-attempt timeout): nothing
		// is known about the upstream.
		done(errNotCounted)
		return fmt.Errorf("catalog: %s: %w", op, ctx.Err())
	case err == nil:
		done(errors.New("5xx"))
		return &unavailableError{op: op, reason: fmt.Sprintf("upstream answered %d", status), retry: true}
	default:
		done(err)
		return &unavailableError{op: op, reason: err.Error(), retry: !errors.Is(err, errBadAnswer)}
	}
}

// send makes the request with the per-attempt timeout and reads the answer
// into a pooled buffer (nil when there is no answer to read), which the
// caller hands back with putBody.
func (c *Client) send(ctx context.Context, r request, body []byte) (int, *bytes.Buffer, error) {
	actx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()

	u := *c.base
	u.Path = c.base.Path + r.path
	u.RawPath = ""
	if len(r.query) > 0 {
		u.RawQuery = r.query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(actx, r.method, u.String(), rd)
	if err != nil {
		return 0, nil, fmt.Errorf("build request: %w", err)
	}
	req.Header.Set("Accept", "application/json, application/problem+json")
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	setHeader(req.Header, "X-Request-ID", requestid.FromContext(ctx))
	setHeader(req.Header, "X-User-Id", r.who.ID)
	setHeader(req.Header, "X-User-Role", string(r.who.Role))

	resp, err := c.http.Do(req)
	if err != nil {
		if actx.Err() != nil && ctx.Err() == nil {
			return 0, nil, fmt.Errorf("no answer within %s", c.timeout)
		}
		return 0, nil, scrub(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 500 {
		// Not read beyond draining a little for connection reuse: a 5xx body
		// is never shown or logged.
		_, _ = io.CopyN(io.Discard, resp.Body, 64<<10)
		return resp.StatusCode, nil, nil
	}
	buf := bodyPool.Get().(*bytes.Buffer)
	buf.Reset()
	if resp.ContentLength > 0 && resp.ContentLength <= MaxResponseBytes {
		buf.Grow(int(resp.ContentLength) + bytes.MinRead) // one allocation, or none once pooled
	}
	_, err = buf.ReadFrom(io.LimitReader(resp.Body, MaxResponseBytes+1))
	if err != nil {
		putBody(buf)
		if actx.Err() != nil && ctx.Err() == nil {
			return 0, nil, fmt.Errorf("answer not read within %s", c.timeout)
		}
		return 0, nil, fmt.Errorf("read answer: %w", scrub(err))
	}
	if buf.Len() > MaxResponseBytes {
		putBody(buf)
		return 0, nil, badAnswer("answer larger than %d bytes", MaxResponseBytes)
	}
	if resp.StatusCode >= 300 && resp.StatusCode < 400 {
		putBody(buf)
		return 0, nil, badAnswer("unexpected status %d", resp.StatusCode)
	}
	return resp.StatusCode, buf, nil
}

// setHeader forwards a value only when it is printable ASCII: a header
// Go's transport would refuse must not make the call fail (and count against
// the upstream).
func setHeader(h http.Header, key, value string) {
	if value == "" || len(value) > 256 {
		return
	}
	for i := 0; i < len(value); i++ {
		if value[i] < 0x20 || value[i] > 0x7e {
			return
		}
	}
	h.Set(key, value)
}

// scrub drops the URL from a transport error (*url.Error), keeping the
// operation and the network cause: the URL could carry credentials.
func scrub(err error) error {
	var ue *url.Error
	if errors.As(err, &ue) {
		return ue.Err
	}
	return err
}
