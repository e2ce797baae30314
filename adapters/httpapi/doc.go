// Package http is the gateway's HTTP edge: the Echo servers, their middleware,
// strict JSON binding and the one place that turns errors into
// application/problem+json (RFC 9457).
//
// The package is named after what it adapts, WTF Dial style; import it under
// another name to keep net/http usable:
//
//	import "github.com/ultramarket/gateway/adapters/httpapi"
//
// # Two servers
//
// NewPublic builds the listener clients use (HTTP_ADDR): /health, /health/ready
// and, once features register them, /api/... . NewOps builds the operator
// listener (OPS_ADDR): /health/detailed and /metrics. They are separate Echo
// instances so that nothing mounted on the public one can ever expose metrics
// or runtime details.
//
// # Adding routes
//
// A feature adds its routes from its own file through a Register function
// taking the public *echo.Echo, and never touches server.go:
//
//	// products.go
//	func RegisterProducts(e *echo.Echo, h *ProductHandlers, mw ...echo.MiddlewareFunc) {
//		g := e.Group("/api/products", mw...) // e.g. rate limiting, authentication
//		g.GET("", h.list)
//		g.GET("/:id", h.get)
//	}
//
// and cmd/ultramarket calls httpapi.RegisterProducts(public, ...) after
// NewPublic. Everything NewPublic installs with e.Use (request id, security
// headers, access log, metrics, recover, CORS, body limit) already wraps every
// route, including ones registered later.
//
// # Handlers
//
//   - Read bodies with Bind, never c.Bind: Bind refuses unknown fields, answers
//     malformed JSON with 400 and wrong types with 422 naming the field.
//
//   - Return errors, do not write error responses. Domain errors are mapped by
//     category (domain.ErrNotFound → 404 not_found, ...). The errors API.md
//     gives a code of their own (email_taken, token_revoked, order_not_payable,
//     insufficient_stock, ...) are one static table, specificProblems in
//     problem.go, matched (errors.Is) in order before the categories. A new
//     specific code is one line there, with a detail sentence written for
//     clients: a problem never shows the Go error's text.
//
//   - A rate limit answers with &RateLimitedError{RetryAfter: d}; the 429 then
//     carries Retry-After. Any other error in the chain with a
//     RetryAfterHint() time.Duration method gets the same header, and so does
//     a login lockout (*auth.LockedOutError, from its RetryAfter).
//
//   - Authenticated routes take RequireAuth (bearer token, one session check),
//     then RequireRole where only some roles may enter; handlers read the
//     caller with ClaimsFrom. Ids in paths are UUIDs: check them with
//     domain.IsID and answer 404 for anything else, before a repository sees them.
//
//   - Use c.RealIP() for the client address: it believes X-Forwarded-For only
//     from Config.TrustedProxies.
//
//   - Log with the request's context (slog.InfoContext(c.Request().Context(), ...))
//     through a logger wrapped by NewLogHandler, and the line carries request_id.
//     The context carries the request id (package requestid), which outbound
//     clients forward upstream (X-Request-ID).
//
//   - Payment webhooks (/api/payments/payme, /api/payments/click/*) answer in
//     their gateways' formats and are exempt from the body-limit middleware;
//     they limit bodies themselves.
package httpapi
