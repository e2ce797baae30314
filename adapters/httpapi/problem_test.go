package httpapi_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	upstream "github.com/ultramarket/gateway/adapters/catalogclient"
	"github.com/ultramarket/gateway/adapters/httpapi"
	"github.com/ultramarket/gateway/application/auth"
	"github.com/ultramarket/gateway/application/orders"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/order"
	"github.com/ultramarket/gateway/domain/product"
	"github.com/ultramarket/gateway/domain/session"
	"github.com/ultramarket/gateway/domain/user"
)

// lockout is an error of another layer that asks for its own Retry-After and
// belongs to the login-lockout category.
type lockout struct{ wait time.Duration }

func (l lockout) Error() string                 { return "too many failed logins" }
func (l lockout) RetryAfterHint() time.Duration { return l.wait }
func (l lockout) Is(target error) bool          { return target == auth.ErrLockedOut }

// returning serves err from a handler and returns the answer.
func returning(t *testing.T, f fixture, err error) *httptest.ResponseRecorder {
	t.Helper()
	path := fmt.Sprintf("/err/%p", &err)
	f.e.GET(path, func(echo.Context) error { return err })
	return get(f.e, path)
}

func TestErrorMapping(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"not found", fmt.Errorf("get order 7: %w", domain.ErrNotFound), 404, "not_found"},
		{"conflict", fmt.Errorf("order: illegal status transition: %w", domain.ErrConflict), 409, "conflict"},
		{"forbidden", domain.ErrForbidden, 403, "forbidden"},
		{"unauthorized", fmt.Errorf("x: %w", domain.ErrUnauthorized), 401, "unauthorized"},
		{"validation sentinel", fmt.Errorf("product: inactive: %w", domain.ErrValidation), 422, "validation_failed"},
		{"upstream before unavailable", fmt.Errorf("catalog: %w", domain.ErrUpstreamUnavailable), 503, "upstream_unavailable"},
		{"unavailable", fmt.Errorf("redis: %w", domain.ErrUnavailable), 503, "service_unavailable"},
		{"bad request", &httpapi.BadRequestError{Detail: "nope"}, 400, "bad_request"},
		{"rate limited", &httpapi.RateLimitedError{RetryAfter: time.Second}, 429, "rate_limited"},
		{"echo 400", echo.NewHTTPError(http.StatusBadRequest, "bad param"), 400, "bad_request"},
		{"echo 401", echo.ErrUnauthorized, 401, "unauthorized"},
		{"echo 403", echo.ErrForbidden, 403, "forbidden"},
		{"echo 413", echo.ErrStatusRequestEntityTooLarge, 413, "payload_too_large"},
		{"echo 429", echo.ErrTooManyRequests, 429, "rate_limited"},
		{"echo 502 is internal", echo.ErrBadGateway, 500, "internal"},
		{"anything else", errors.New("boom"), 500, "internal"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := returning(t, f, tc.err)
			assert.Equal(t, tc.status, rec.Code)
			p := decodeProblem(t, rec)
			assert.Equal(t, tc.code, p.Code)
			assert.NotEmpty(t, p.Title)
			assert.NotEmpty(t, p.Detail)
			assert.Empty(t, p.Errors, "errors only on validation with fields")
			assertSecurityHeaders(t, rec.Header())
		})
	}
}

func TestErrorMapping_SpecificProblems(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name   string
		err    error
		status int
		code   string
	}{
		{"email taken", fmt.Errorf("create user a@b.uz: %w", user.ErrEmailTaken), 409, "email_taken"},
		{"invalid credentials", auth.ErrInvalidCredentials, 401, "invalid_credentials"},
		{"access token expired", fmt.Errorf("parse: %w", session.ErrTokenExpired), 401, "token_expired"},
		{"session revoked", fmt.Errorf("check session s1: %w", session.ErrRevoked), 401, "token_revoked"},
		{"refresh token reused", fmt.Errorf("rotate: %w", session.ErrReuse), 401, "token_revoked"},
		{"session expired", fmt.Errorf("rotate: %w", session.ErrExpired), 401, "token_revoked"},
		{"access token invalid", session.ErrTokenInvalid, 401, "unauthorized"},
		{"refresh token unknown", fmt.Errorf("session s1: %w", session.ErrUnknownToken), 401, "unauthorized"},
		{"locked out (type)", fmt.Errorf("login: %w", &auth.LockedOutError{RetryAfter: time.Minute}), 429, "rate_limited"},
		{"order not payable", fmt.Errorf("order o1: %w", order.ErrNotPayable), 409, "order_not_payable"},
		{"insufficient stock (sentinel)", fmt.Errorf("reserve: %w", product.ErrInsufficientStock), 409, "insufficient_stock"},
		{"insufficient stock (type)", errors.Join(errors.New("reserve"), &product.InsufficientStockError{ProductID: "p1"}), 409, "insufficient_stock"},
		{"idempotency key reused", fmt.Errorf("order o1: %w", orders.ErrIdempotencyKeyReused), 409, "idempotency_key_reused"},
		{"too many unpaid orders", order.CheckRoomForUnpaid(5, 5), 409, "too_many_unpaid_orders"},
		{"product inactive", fmt.Errorf("product p1: %w", product.ErrInactive), 422, "validation_failed"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := returning(t, f, tc.err)
			assert.Equal(t, tc.status, rec.Code)
			p := decodeProblem(t, rec)
			assert.Equal(t, tc.code, p.Code)
			assert.Equal(t, "https://ultramarket.uz/problems/"+strings.ReplaceAll(tc.code, "_", "-"), p.Type)
			assert.NotEmpty(t, p.Title)
			assert.NotEmpty(t, p.Detail)
			// The detail is written for clients: none of the Go error's text.
			assert.NotContains(t, rec.Body.String(), tc.err.Error())
			for _, leak := range []string{"session:", "user:", "order:", "product:", "auth:", "p1", "s1", "o1"} {
				assert.NotContains(t, p.Detail, leak)
			}
			if tc.status == http.StatusUnauthorized {
				assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
			}
		})
	}
}

// A cart line refused for an inactive product is a validation_failed like
// any other: errors[] names the field, in the request's language.
func TestErrorMapping_InactiveProductNamesItsField(t *testing.T) {
	p := decodeProblem(t, returning(t, newFixture(t, nil), fmt.Errorf("product p1: %w", product.ErrInactive)))
	assert.Equal(t, "validation_failed", p.Code)
	require.Len(t, p.Errors, 1)
	assert.Equal(t, "product_id", p.Errors[0].Field)
	assert.Equal(t, "unknown or inactive product", p.Errors[0].Message)
}

func TestErrorMapping_SpecificProblemUsesItsDetail(t *testing.T) {
	p := decodeProblem(t, returning(t, newFixture(t, nil), user.ErrEmailTaken))
	assert.Equal(t, "https://ultramarket.uz/problems/email-taken", p.Type)
	assert.Equal(t, "Email taken", p.Title)
	assert.Equal(t, "An account with this email already exists.", p.Detail)
}

func TestErrorMapping_SpecificBeforeCategory(t *testing.T) {
	// Each of these also wraps a category that alone would answer otherwise.
	f := newFixture(t, nil)
	assert.Equal(t, "email_taken", decodeProblem(t, returning(t, f, user.ErrEmailTaken)).Code, "not conflict")
	assert.Equal(t, "token_revoked", decodeProblem(t, returning(t, f, session.ErrRevoked)).Code, "not unauthorized")
	assert.Equal(t, "conflict", decodeProblem(t, returning(t, f, user.ErrSelfChange)).Code, "other conflicts keep the category")
	assert.Equal(t, "forbidden", decodeProblem(t, returning(t, f, user.ErrBlocked)).Code)
}

func TestErrorMapping_IdempotencyInProgressIsAPlainConflict(t *testing.T) {
	p := decodeProblem(t, returning(t, newFixture(t, nil), fmt.Errorf("key k: %w", orders.ErrIdempotencyInProgress)))
	assert.Equal(t, "conflict", p.Code)
}

func TestErrorMapping_UpstreamProblemPassesThrough(t *testing.T) {
	f := newFixture(t, nil)
	cases := []struct {
		name string
		up   *upstream.UpstreamProblem
		want problemBody
	}{
		{"as the upstream said it",
			&upstream.UpstreamProblem{Status: 409, Code: "sku_taken", Title: "SKU taken", Detail: "Another product has this SKU."},
			problemBody{Type: "https://ultramarket.uz/problems/sku-taken", Title: "SKU taken", Status: 409, Code: "sku_taken", Detail: "Another product has this SKU."}},
		{"a 404 is the upstream's, not the category's",
			&upstream.UpstreamProblem{Status: 404, Code: "not_found", Title: "Not Found"},
			problemBody{Type: "https://ultramarket.uz/problems/not-found", Title: "Not Found", Status: 404, Code: "not_found", Detail: "The requested resource does not exist."}},
		{"field errors",
			&upstream.UpstreamProblem{Status: 422, Code: "validation_failed", Title: "Validation failed",
				Errors: []upstream.FieldError{{Field: "name", Message: "too long"}, {Field: "sku", Message: "taken"}}},
			problemBody{Type: "https://ultramarket.uz/problems/validation-failed", Title: "Validation failed", Status: 422,
				Code: "validation_failed", Detail: "2 fields are invalid"}},
		{"a status the client cannot be given",
			&upstream.UpstreamProblem{Status: 302, Code: "found", Title: "Found"},
			problemBody{Type: "https://ultramarket.uz/problems/upstream-unavailable", Title: "Upstream unavailable", Status: 503,
				Code: "upstream_unavailable", Detail: "The product catalog is temporarily unavailable; retry later."}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := returning(t, f, fmt.Errorf("get product p1: %w", tc.up))
			require.Equal(t, tc.want.Status, rec.Code)
			p := decodeProblem(t, rec)
			errs := p.Errors
			p.Errors, p.RequestID = nil, ""
			assert.Equal(t, tc.want, p)
			require.Len(t, errs, len(tc.up.Errors))
			for i, e := range tc.up.Errors {
				assert.Equal(t, e.Field, errs[i].Field)
				assert.Equal(t, e.Message, errs[i].Message)
			}
		})
	}
}

func TestErrorMapping_ValidationListsFields(t *testing.T) {
	verr := domain.Invalid("email", "must be a valid email address").Add("password", "too short")

	rec := returning(t, newFixture(t, nil), fmt.Errorf("register: %w", verr))

	assert.Equal(t, http.StatusUnprocessableEntity, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "validation_failed", p.Code)
	assert.Equal(t, "https://ultramarket.uz/problems/validation-failed", p.Type)
	assert.Equal(t, "Validation failed", p.Title)
	assert.Equal(t, "2 fields are invalid", p.Detail)
	require.Len(t, p.Errors, 2)
	assert.Equal(t, "email", p.Errors[0].Field)
	assert.Equal(t, "must be a valid email address", p.Errors[0].Message)
	assert.Equal(t, "password", p.Errors[1].Field)
}

func TestErrorMapping_RetryAfter(t *testing.T) {
	f := newFixture(t, nil)

	rec := returning(t, f, &httpapi.RateLimitedError{RetryAfter: 2100 * time.Millisecond})
	assert.Equal(t, "3", rec.Header().Get("Retry-After"), "rounded up")

	rec = returning(t, f, fmt.Errorf("login: %w", &auth.LockedOutError{RetryAfter: 14*time.Minute + 300*time.Millisecond}))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "841", rec.Header().Get("Retry-After"), "from the lockout's RetryAfter")
	assert.Equal(t, "5", rec.Header().Get("RateLimit-Limit"), "a lockout 429 carries RateLimit-* of the lockout")
	assert.Equal(t, "0", rec.Header().Get("RateLimit-Remaining"))
	assert.Equal(t, "841", rec.Header().Get("RateLimit-Reset"))

	rec = returning(t, f, fmt.Errorf("login: %w", lockout{wait: 15 * time.Minute}))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "900", rec.Header().Get("Retry-After"), "any error with RetryAfterHint")

	rec = returning(t, f, auth.ErrLockedOut)
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Empty(t, rec.Header().Get("Retry-After"), "no wait is known: no header rather than a guess")

	rec = returning(t, f, &httpapi.RateLimitedError{})
	assert.Equal(t, "1", rec.Header().Get("Retry-After"), "never 0")
}

func TestErrorMapping_500NeverLeaks(t *testing.T) {
	f := newFixture(t, nil)
	leak := fmt.Errorf("select user: %w", errors.New(`pq: password authentication failed for user "app" password=secret host=db.internal`))

	rec := returning(t, f, leak)

	assert.Equal(t, http.StatusInternalServerError, rec.Code)
	p := decodeProblem(t, rec)
	assert.Equal(t, "internal", p.Code)
	assert.Equal(t, "Internal server error", p.Title)
	for _, s := range []string{"secret", "pq:", "db.internal", "select user"} {
		assert.NotContains(t, rec.Body.String(), s)
	}
	assert.Contains(t, f.logs.String(), `"msg":"request failed"`, "logged for operators")
	assert.Contains(t, f.logs.String(), p.RequestID)
}

func TestErrorMapping_UnauthorizedAsksForBearer(t *testing.T) {
	rec := returning(t, newFixture(t, nil), domain.ErrUnauthorized)
	assert.Contains(t, rec.Header().Get("WWW-Authenticate"), "Bearer")
}

func TestErrorMapping_OpsListenerToo(t *testing.T) {
	f := newFixture(t, nil)

	rec := get(f.ops, "/nope")

	assert.Equal(t, http.StatusNotFound, rec.Code)
	assert.Equal(t, "not_found", decodeProblem(t, rec).Code)
	assertSecurityHeaders(t, rec.Header())
}
