package httpapi

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/labstack/echo/v4"

	upstream "github.com/ultramarket/gateway/adapters/catalogclient"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

// problemTypeBase prefixes every problem "type" URI; the code follows with "-" for "_".
const problemTypeBase = "https://ultramarket.uz/problems/"

// ContentTypeProblem is the media type of every error body outside the webhooks.
const ContentTypeProblem = "application/problem+json"

// Problem is an RFC 9457 problem details body, shaped as API.md fixes it.
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	Detail    string         `json:"detail"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	RequestID string         `json:"request_id"`
}

// FieldProblem names one invalid input field of a validation_failed problem.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// BadRequestError is a request the server cannot even parse (malformed JSON,
// a body that is not an object): 400 bad_request with Detail as the detail.
type BadRequestError struct {
	Detail string
}

func (e *BadRequestError) Error() string { return "bad request: " + e.Detail }

// RateLimitedError refuses a request over a rate limit: 429 rate_limited with
// Retry-After set from RetryAfter (rounded up to whole seconds, at least 1).
type RateLimitedError struct {
	RetryAfter time.Duration
}

func (e *RateLimitedError) Error() string {
	return fmt.Sprintf("rate limited, retry after %s", e.RetryAfter)
}

// RetryAfterHint makes RateLimitedError one of the errors whose 429 carries Retry-After.
func (e *RateLimitedError) RetryAfterHint() time.Duration { return e.RetryAfter }

// retryAfterHinter lets errors from other layers ask for a Retry-After header
// without importing this package.
type retryAfterHinter interface {
	RetryAfterHint() time.Duration
}

// retryAfterOf finds how long the client of a 429 should wait: an error in the
// chain that says so itself (RateLimitedError, any retryAfterHinter), or a
// login lockout, whose package has no reason to know about HTTP headers.
func retryAfterOf(err error) (time.Duration, bool) {
	var hint retryAfterHinter
	if errors.As(err, &hint) {
		return hint.RetryAfterHint(), true
	}
	var locked *auth.LockedOutError
	if errors.As(err, &locked) {
		return locked.RetryAfter, true
	}
	return 0, false
}

// problemRule maps every error matching err (errors.Is) to status and code.
type problemRule struct {
	err    error
	status int
	code   string
	detail string
}

// specificProblems are the errors API.md gives a code of their own. They are
// matched (errors.Is) in this order, before the categories below, which most of
// them also wrap (email_taken is a conflict, token_revoked an unauthorized).
// Error types match through their Is method (*product.InsufficientStockError,
// *auth.LockedOutError). One static table, not a registry filled from init
// functions: what a client can see is then readable in one place and cannot
// depend on which packages happen to be linked in.
//
// detail is written for the client; the Go error's text never reaches it.
var specificProblems = [...]problemRule{
	{err: user.ErrEmailTaken, status: http.StatusConflict, code: "email_taken",
		detail: "An account with this email already exists."},
	{err: auth.ErrInvalidCredentials, status: http.StatusUnauthorized, code: "invalid_credentials",
		detail: "The email or password is incorrect."},
	{err: session.ErrTokenExpired, status: http.StatusUnauthorized, code: "token_expired",
		detail: "The access token has expired; refresh it and retry."},
	// ErrReuse and ErrExpired wrap ErrRevoked: a replayed refresh token and an
	// expired session are answered like any ended session.
	{err: session.ErrRevoked, status: http.StatusUnauthorized, code: "token_revoked",
		detail: "The session has ended; log in again."},
	{err: session.ErrTokenInvalid, status: http.StatusUnauthorized, code: "unauthorized",
		detail: "The token is not valid."},
	{err: session.ErrUnknownToken, status: http.StatusUnauthorized, code: "unauthorized",
		detail: "The token is not valid."},
	// Retry-After comes from the *auth.LockedOutError (see retryAfterOf).
	{err: auth.ErrLockedOut, status: http.StatusTooManyRequests, code: "rate_limited",
		detail: "Too many failed logins for this email; retry later."},
	{err: order.ErrNotPayable, status: http.StatusConflict, code: "order_not_payable",
		detail: "Only an order awaiting payment can be paid."},
	{err: product.ErrInsufficientStock, status: http.StatusConflict, code: "insufficient_stock",
		detail: "There is not enough stock for one or more products."},
	{err: order.ErrTooManyUnpaid, status: http.StatusConflict, code: "too_many_unpaid_orders",
		detail: "You have too many orders awaiting payment; pay or cancel one before placing another."},
	// Wraps the conflict category, as ErrIdempotencyInProgress (409 conflict) does.
	{err: orders.ErrIdempotencyKeyReused, status: http.StatusConflict, code: "idempotency_key_reused",
		detail: "This Idempotency-Key was already used with another request body."},
	// A validation sentinel without a field: say what is wrong in the detail.
	{err: product.ErrInactive, status: http.StatusUnprocessableEntity, code: "validation_failed",
		detail: "The product is not for sale (inactive)."},
}

// categoryProblems maps domain error categories. The upstream one wraps
// ErrUnavailable and so comes before it.
var categoryProblems = []problemRule{
	{err: domain.ErrUpstreamUnavailable, status: http.StatusServiceUnavailable, code: "upstream_unavailable"},
	{err: domain.ErrUnavailable, status: http.StatusServiceUnavailable, code: "service_unavailable"},
	{err: domain.ErrNotFound, status: http.StatusNotFound, code: "not_found"},
	{err: domain.ErrConflict, status: http.StatusConflict, code: "conflict"},
	{err: domain.ErrForbidden, status: http.StatusForbidden, code: "forbidden"},
	{err: domain.ErrUnauthorized, status: http.StatusUnauthorized, code: "unauthorized"},
}

var titles = map[string]string{
	"bad_request":          "Bad request",
	"unauthorized":         "Unauthorized",
	"forbidden":            "Forbidden",
	"not_found":            "Not found",
	"method_not_allowed":   "Method not allowed",
	"conflict":             "Conflict",
	"payload_too_large":    "Payload too large",
	"validation_failed":    "Validation failed",
	"rate_limited":         "Too many requests",
	"internal":             "Internal server error",
	"upstream_unavailable": "Upstream unavailable",
	"service_unavailable":  "Service unavailable",
}

var defaultDetails = map[string]string{
	"bad_request":          "The request could not be understood.",
	"unauthorized":         "Authentication is required.",
	"forbidden":            "You are not allowed to do this.",
	"not_found":            "The requested resource does not exist.",
	"method_not_allowed":   "The method is not allowed for this resource.",
	"conflict":             "The request conflicts with the current state of the resource.",
	"payload_too_large":    "The request body is too large.",
	"validation_failed":    "The request is invalid.",
	"rate_limited":         "Too many requests; retry later.",
	"internal":             "An unexpected error occurred.",
	"upstream_unavailable": "The product catalog is temporarily unavailable; retry later.",
	"service_unavailable":  "The service is temporarily unavailable; retry later.",
}

// newProblem fills type, title and a detail from the code.
func newProblem(status int, code, detail string) Problem {
	if detail == "" {
		detail = defaultDetails[code]
	}
	if detail == "" {
		detail = http.StatusText(status) + "."
	}
	title, ok := titles[code]
	if !ok {
		title = strings.ToUpper(code[:1]) + strings.ReplaceAll(code[1:], "_", " ")
	}
	return Problem{
		Type:   problemTypeBase + strings.ReplaceAll(code, "_", "-"),
		Title:  title,
		Status: status,
		Code:   code,
		Detail: detail,
	}
}

// problemFor decides what a client sees for err: the one place that does.
// Nothing of err's text reaches a 5xx body.
func problemFor(err error) Problem {
	// A validation error with a code of its own, and the fields it names.
	var validation *domain.ValidationError
	if errors.Is(err, fiscal.ErrFiscalDataMissing) && errors.As(err, &validation) {
		p := newProblem(http.StatusUnprocessableEntity, "fiscal_data_missing", invalidFieldsDetail(len(validation.Fields)))
		for _, f := range validation.Fields {
			p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Message: f.Message})
		}
		return p
	}
	for _, r := range specificProblems {
		if errors.Is(err, r.err) {
			return newProblem(r.status, r.code, r.detail)
		}
	}
	// The upstream catalog's 4xx answer passes through as it said it (API.md),
	// before the categories and the validation mapping it also matches.
	var up *upstream.UpstreamProblem
	if errors.As(err, &up) {
		return upstreamProblem(up)
	}

	var (
		rateLimited *RateLimitedError
		badRequest  *BadRequestError
		tooLarge    *http.MaxBytesError
		he          *echo.HTTPError
	)
	switch {
	case errors.As(err, &rateLimited):
		return newProblem(http.StatusTooManyRequests, "rate_limited", "")
	case errors.As(err, &badRequest):
		return newProblem(http.StatusBadRequest, "bad_request", badRequest.Detail)
	case errors.As(err, &tooLarge):
		return newProblem(http.StatusRequestEntityTooLarge, "payload_too_large", "")
	case errors.As(err, &he):
		return problemFromEcho(he)
	case errors.As(err, &validation):
		p := newProblem(http.StatusUnprocessableEntity, "validation_failed", invalidFieldsDetail(len(validation.Fields)))
		for _, f := range validation.Fields {
			p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Message: f.Message})
		}
		return p
	case errors.Is(err, domain.ErrValidation):
		return newProblem(http.StatusUnprocessableEntity, "validation_failed", "")
	}
	for _, r := range categoryProblems {
		if errors.Is(err, r.err) {
			return newProblem(r.status, r.code, "")
		}
	}
	return newProblem(http.StatusInternalServerError, "internal", "")
}

// upstreamProblem renders the upstream catalog's problem with its status,
// code, title, detail and field errors. Those were parsed, trimmed and
// length-capped by the catalog client, and the code is a snake_case token;
// a status outside 4xx cannot come from it but would be a 502-like failure,
// so it is answered as the catalog being unavailable.
func upstreamProblem(up *upstream.UpstreamProblem) Problem {
	if up.Status < 400 || up.Status > 499 || up.Code == "" {
		return newProblem(http.StatusServiceUnavailable, "upstream_unavailable", "")
	}
	detail := up.Detail
	if detail == "" {
		detail = invalidFieldsDetail(len(up.Errors)) // "" falls back to the code's default
	}
	p := newProblem(up.Status, up.Code, detail)
	if up.Title != "" {
		p.Title = up.Title
	}
	for _, f := range up.Errors {
		p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Message: f.Message})
	}
	return p
}

func invalidFieldsDetail(n int) string {
	switch n {
	case 0:
		return ""
	case 1:
		return "1 field is invalid"
	}
	return strconv.Itoa(n) + " fields are invalid"
}

// echoCodes names Echo's own errors: the router's 404 and 405, the body
// limit's 413, and whatever a middleware returns.
var echoCodes = map[int]string{
	http.StatusBadRequest:            "bad_request",
	http.StatusUnauthorized:          "unauthorized",
	http.StatusForbidden:             "forbidden",
	http.StatusNotFound:              "not_found",
	http.StatusMethodNotAllowed:      "method_not_allowed",
	http.StatusConflict:              "conflict",
	http.StatusRequestEntityTooLarge: "payload_too_large",
	http.StatusUnprocessableEntity:   "validation_failed",
	http.StatusTooManyRequests:       "rate_limited",
	http.StatusServiceUnavailable:    "service_unavailable",
}

func problemFromEcho(he *echo.HTTPError) Problem {
	// Echo nests its own errors in Internal (e.g. a binder's 400 inside a 400).
	var inner *echo.HTTPError
	if errors.As(he.Internal, &inner) {
		he = inner
	}
	status := he.Code
	if status < 400 || status > 599 {
		status = http.StatusInternalServerError
	}
	code, ok := echoCodes[status]
	switch {
	case ok:
	case status >= 500:
		status, code = http.StatusInternalServerError, "internal"
	default:
		code = strings.ReplaceAll(strings.ToLower(http.StatusText(status)), " ", "_")
		if code == "" {
			code = "bad_request"
		}
	}
	detail := ""
	// A 4xx message was written by Echo or by our own middleware for the
	// client; a 5xx message is never shown.
	if msg, isString := he.Message.(string); isString && status < 500 && msg != http.StatusText(he.Code) {
		detail = msg
	}
	return newProblem(status, code, detail)
}

// errorHandler is e.HTTPErrorHandler for both servers. It logs 5xx errors
// (once: here) with the request id, and writes the problem.
func errorHandler(log *slog.Logger) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		p := problemFor(err)
		req, res := c.Request(), c.Response()
		p.RequestID = res.Header().Get(echo.HeaderXRequestID)

		if p.Status >= 500 && !errors.Is(err, errRecoveredPanic) {
			level := slog.LevelError
			if p.Status == http.StatusServiceUnavailable {
				level = slog.LevelWarn // a dependency is down; readiness says so too
			}
			log.LogAttrs(req.Context(), level, "request failed",
				slog.String("request_id", p.RequestID),
				slog.String("method", req.Method),
				slog.String("route", c.Path()),
				slog.Int("status", p.Status),
				slog.String("error", err.Error()),
			)
		}
		if res.Committed {
			return // the handler already started its answer; nothing left to say
		}

		h := res.Header()
		if p.Status == http.StatusTooManyRequests {
			d, ok := retryAfterOf(err)
			if ok {
				h.Set(echo.HeaderRetryAfter, retryAfterSeconds(d))
			}
			var locked *auth.LockedOutError
			if ok && errors.As(err, &locked) {
				// The lockout, not the auth rate limit, refused this request:
				// its RateLimit-* describe the lockout (API.md: every 429
				// carries them, even with RATE_LIMIT_AUTH off), not a budget
				// that still has requests left. Limit is the per-client or the
				// per-email one, whichever refused.
				limit := locked.Limit
				if limit <= 0 {
					limit = auth.LockoutFailures
				}
				h.Set(HeaderRateLimitLimit, strconv.Itoa(limit))
				h.Set(HeaderRateLimitRemaining, "0")
				h.Set(HeaderRateLimitReset, retryAfterSeconds(d))
			}
		}
		if p.Status == http.StatusUnauthorized && h.Get(echo.HeaderWWWAuthenticate) == "" {
			h.Set(echo.HeaderWWWAuthenticate, `Bearer realm="ultramarket"`) // RFC 6750 §3
		}
		noStore(c)
		h.Set(echo.HeaderContentType, ContentTypeProblem)
		if req.Method == http.MethodHead {
			res.WriteHeader(p.Status)
			return
		}
		body, mErr := json.Marshal(p)
		if mErr != nil { // cannot happen with these field types; keep the status anyway
			res.WriteHeader(p.Status)
			return
		}
		res.WriteHeader(p.Status)
		_, _ = res.Write(append(body, '\n'))
	}
}

// retryAfterSeconds rounds up: telling a client to come back a moment too
// early just earns it another 429.
func retryAfterSeconds(d time.Duration) string {
	s := int64(math.Ceil(d.Seconds()))
	if s < 1 {
		s = 1
	}
	return strconv.FormatInt(s, 10)
}
