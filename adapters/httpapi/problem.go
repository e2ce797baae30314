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
	"github.com/ultramarket/gateway/adapters/i18n"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/otp"
	"github.com/ultramarket/gateway/domain/payment"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

// problemTypeBase prefixes every problem "type" URI; the code follows with "-" for "_".
const problemTypeBase = "https://ultramarket.uz/problems/"

// ContentTypeProblem is the media type of every error body outside the webhooks.
const ContentTypeProblem = "application/problem+json"

// The headers of the language a problem is written in (API.md, "Languages").
const (
	HeaderAcceptLanguage  = "Accept-Language"
	HeaderContentLanguage = "Content-Language"
)

// Problem is an RFC 9457 problem details body, shaped as API.md fixes it.
// Until localized, Title, Detail and each field's Message hold message ids
// (or, when they come from outside, ready texts that are shown as they are).
type Problem struct {
	Type      string         `json:"type"`
	Title     string         `json:"title"`
	Status    int            `json:"status"`
	Code      string         `json:"code"`
	Detail    string         `json:"detail"`
	Errors    []FieldProblem `json:"errors,omitempty"`
	RequestID string         `json:"request_id"`

	detailArgs domain.Args
}

// FieldProblem names one invalid input field of a validation_failed problem.
type FieldProblem struct {
	Field   string `json:"field"`
	Message string `json:"message"`

	args domain.Args
}

// localized is p with its texts in lang; type, code and field never change.
func (p Problem) localized(texts *i18n.Bundle, lang string) Problem {
	p.Title = texts.Text(lang, p.Title, nil)
	p.Detail = texts.Text(lang, p.Detail, p.detailArgs)
	if p.Errors != nil {
		errs := make([]FieldProblem, len(p.Errors))
		for i, f := range p.Errors {
			errs[i] = FieldProblem{Field: f.Field, Message: texts.Text(lang, f.Message, f.args)}
		}
		p.Errors = errs
	}
	return p
}

// BadRequestError is a request the server cannot even parse (malformed JSON,
// a body that is not an object): 400 bad_request with Detail as the detail,
// a message id (problem.detail.*) or a ready text shown as it is.
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
	// field and message, when set, are the one entry of errors[]: a
	// validation_failed answer names the field it is about, like every other.
	field, message string
}

// specificProblems are the errors API.md gives a code of their own. They are
// matched (errors.Is) in this order, before the categories below, which most of
// them also wrap (email_taken is a conflict, token_revoked an unauthorized).
// Error types match through their Is method (*product.InsufficientStockError,
// *auth.LockedOutError). One static table, not a registry filled from init
// functions: what a client can see is then readable in one place and cannot
// depend on which packages happen to be linked in.
//
// detail is the id of a text written for the client (adapters/i18n/locales);
// the Go error's text never reaches it.
var specificProblems = [...]problemRule{
	{err: user.ErrEmailTaken, status: http.StatusConflict, code: "email_taken",
		detail: "problem.detail.email_taken"},
	{err: auth.ErrInvalidCredentials, status: http.StatusUnauthorized, code: "invalid_credentials",
		detail: "problem.detail.invalid_credentials"},
	{err: otp.ErrInvalidCode, status: http.StatusUnauthorized, code: "invalid_credentials",
		detail: "problem.detail.otp_invalid"},
	{err: user.ErrPhoneTaken, status: http.StatusConflict, code: "conflict",
		detail: "problem.detail.phone_taken"},
	// Retry-After comes from the *otp.RateLimitedError (see retryAfterOf).
	{err: otp.ErrRateLimited, status: http.StatusTooManyRequests, code: "rate_limited",
		detail: "problem.detail.otp_rate_limited"},
	{err: session.ErrTokenExpired, status: http.StatusUnauthorized, code: "token_expired",
		detail: "problem.detail.token_expired"},
	// ErrReuse and ErrExpired wrap ErrRevoked: a replayed refresh token and an
	// expired session are answered like any ended session.
	{err: session.ErrRevoked, status: http.StatusUnauthorized, code: "token_revoked",
		detail: "problem.detail.token_revoked"},
	{err: session.ErrTokenInvalid, status: http.StatusUnauthorized, code: "unauthorized",
		detail: "problem.detail.token_invalid"},
	{err: session.ErrUnknownToken, status: http.StatusUnauthorized, code: "unauthorized",
		detail: "problem.detail.token_invalid"},
	// Retry-After comes from the *auth.LockedOutError (see retryAfterOf).
	{err: auth.ErrLockedOut, status: http.StatusTooManyRequests, code: "rate_limited",
		detail: "problem.detail.locked_out"},
	{err: order.ErrNotPayable, status: http.StatusConflict, code: "order_not_payable",
		detail: "problem.detail.order_not_payable"},
	{err: product.ErrInsufficientStock, status: http.StatusConflict, code: "insufficient_stock",
		detail: "problem.detail.insufficient_stock"},
	{err: order.ErrTooManyUnpaid, status: http.StatusConflict, code: "too_many_unpaid_orders",
		detail: "problem.detail.too_many_unpaid_orders"},
	// Wraps the conflict category, as ErrIdempotencyInProgress (409 conflict) does.
	{err: orders.ErrIdempotencyKeyReused, status: http.StatusConflict, code: "idempotency_key_reused",
		detail: "problem.detail.idempotency_key_reused"},
	{err: order.ErrNotRefundable, status: http.StatusConflict, code: "order_not_refundable",
		detail: "problem.detail.order_not_refundable"},
	// refund_refused's detail is the gateway's own note (see problemFor).
	{err: payment.ErrRefundRefused, status: http.StatusConflict, code: "refund_refused",
		detail: "problem.detail.refund_refused"},
	// Before the categories: upstream_unavailable, but about the gateway, not the catalog.
	{err: payment.ErrGatewayUnavailable, status: http.StatusServiceUnavailable, code: "upstream_unavailable",
		detail: "problem.detail.gateway_unavailable"},
	// A validation sentinel without a field: say what is wrong in the detail.
	// Only a cart line is refused this way; its product is the path's.
	{err: product.ErrInactive, status: http.StatusUnprocessableEntity, code: "validation_failed",
		detail: "problem.detail.product_inactive", field: "product_id", message: domain.MsgUnknownProduct},
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

// titles are the ids of each code's title. A code without one (a new code,
// or an upstream's own) gets its name as the title, in every language.
var titles = map[string]string{
	"bad_request":            "problem.title.bad_request",
	"unauthorized":           "problem.title.unauthorized",
	"invalid_credentials":    "problem.title.invalid_credentials",
	"token_expired":          "problem.title.token_expired",
	"token_revoked":          "problem.title.token_revoked",
	"forbidden":              "problem.title.forbidden",
	"not_found":              "problem.title.not_found",
	"method_not_allowed":     "problem.title.method_not_allowed",
	"conflict":               "problem.title.conflict",
	"email_taken":            "problem.title.email_taken",
	"idempotency_key_reused": "problem.title.idempotency_key_reused",
	"order_not_payable":      "problem.title.order_not_payable",
	"insufficient_stock":     "problem.title.insufficient_stock",
	"too_many_unpaid_orders": "problem.title.too_many_unpaid_orders",
	"order_not_refundable":   "problem.title.order_not_refundable",
	"refund_refused":         "problem.title.refund_refused",
	"fiscal_data_missing":    "problem.title.fiscal_data_missing",
	"payload_too_large":      "problem.title.payload_too_large",
	"validation_failed":      "problem.title.validation_failed",
	"rate_limited":           "problem.title.rate_limited",
	"internal":               "problem.title.internal",
	"upstream_unavailable":   "problem.title.upstream_unavailable",
	"service_unavailable":    "problem.title.service_unavailable",
}

// defaultDetails are the ids of the detail of a code whose error says no more.
var defaultDetails = map[string]string{
	"bad_request":          "problem.detail.bad_request",
	"unauthorized":         "problem.detail.unauthorized",
	"forbidden":            "problem.detail.forbidden",
	"not_found":            "problem.detail.not_found",
	"method_not_allowed":   "problem.detail.method_not_allowed",
	"conflict":             "problem.detail.conflict",
	"payload_too_large":    "problem.detail.payload_too_large",
	"validation_failed":    "problem.detail.validation_failed",
	"rate_limited":         "problem.detail.rate_limited",
	"internal":             "problem.detail.internal",
	"upstream_unavailable": "problem.detail.upstream_unavailable",
	"service_unavailable":  "problem.detail.service_unavailable",
}

// fieldsInvalid is the detail of a validation failure; Count picks the plural.
const fieldsInvalid = "problem.detail.fields_invalid"

// newProblem fills type, title and a detail from the code; detail is an id
// (with detailArgs) or a ready text, "" for the code's default.
func newProblem(status int, code, detail string, detailArgs ...domain.Args) Problem {
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
	p := Problem{
		Type:   problemTypeBase + strings.ReplaceAll(code, "_", "-"),
		Title:  title,
		Status: status,
		Code:   code,
		Detail: detail,
	}
	if len(detailArgs) > 0 {
		p.detailArgs = detailArgs[0]
	}
	return p
}

// problemFor decides what a client sees for err: the one place that does.
// Nothing of err's text reaches a 5xx body.
func problemFor(err error) Problem {
	// A refused refund shows the admin what the gateway said, as API.md asks.
	var refused *payment.RefundRefusedError
	if errors.As(err, &refused) && strings.TrimSpace(refused.Note) != "" {
		return newProblem(http.StatusConflict, "refund_refused", strings.TrimSpace(refused.Note))
	}
	// A validation error with a code of its own, and the fields it names.
	var validation *domain.ValidationError
	if errors.Is(err, fiscal.ErrFiscalDataMissing) && errors.As(err, &validation) {
		detail, args := invalidFieldsDetail(len(validation.Fields))
		p := newProblem(http.StatusUnprocessableEntity, "fiscal_data_missing", detail, args)
		for _, f := range validation.Fields {
			p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Message: f.Message, args: f.Args})
		}
		return p
	}
	for _, r := range specificProblems {
		if errors.Is(err, r.err) {
			p := newProblem(r.status, r.code, r.detail)
			if r.field != "" {
				p.Errors = []FieldProblem{{Field: r.field, Message: r.message}}
			}
			return p
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
		detail, args := invalidFieldsDetail(len(validation.Fields))
		p := newProblem(http.StatusUnprocessableEntity, "validation_failed", detail, args)
		for _, f := range validation.Fields {
			p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Message: f.Message, args: f.Args})
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
	detail, args := up.Detail, domain.Args(nil)
	if detail == "" {
		detail, args = invalidFieldsDetail(len(up.Errors)) // "" falls back to the code's default
	}
	p := newProblem(up.Status, up.Code, detail, args)
	if up.Title != "" {
		p.Title = up.Title
	}
	for _, f := range up.Errors {
		p.Errors = append(p.Errors, FieldProblem{Field: f.Field, Message: f.Message})
	}
	return p
}

func invalidFieldsDetail(n int) (string, domain.Args) {
	if n == 0 {
		return "", nil
	}
	return fieldsInvalid, domain.Args{i18n.PluralArg: n}
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
// (once: here) with the request id, and writes the problem in the language
// the request's Accept-Language picks, which Content-Language names.
func errorHandler(log *slog.Logger, texts *i18n.Bundle) echo.HTTPErrorHandler {
	return func(err error, c echo.Context) {
		req, res := c.Request(), c.Response()
		lang := i18n.Negotiate(req.Header.Get(HeaderAcceptLanguage))
		p := problemFor(err).localized(texts, lang)
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
		h.Set(HeaderContentLanguage, lang)
		// A shared cache must not hand one language's problem to another.
		h.Add(echo.HeaderVary, HeaderAcceptLanguage)
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
