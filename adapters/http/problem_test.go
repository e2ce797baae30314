package http_test

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/labstack/echo/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	httpapi "github.com/ultramarket/gateway/adapters/http"
	"github.com/ultramarket/gateway/domain"
)

// errTestTaken is registered once for the whole package's tests.
var errTestTaken = fmt.Errorf("user: email taken: %w", domain.ErrConflict)

func init() {
	httpapi.RegisterProblem(errTestTaken, http.StatusConflict, "email_taken", "An account with this email already exists.")
}

type lockout struct{ wait time.Duration }

func (l lockout) Error() string                 { return "too many failed logins" }
func (l lockout) RetryAfterHint() time.Duration { return l.wait }
func (l lockout) Is(target error) bool          { return target == errLockedOut }

var errLockedOut = errors.New("locked out")

func init() {
	httpapi.RegisterProblem(errLockedOut, http.StatusTooManyRequests, "rate_limited", "")
}

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
		{"specific before category", fmt.Errorf("register a@b.uz: %w", errTestTaken), 409, "email_taken"},
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

func TestErrorMapping_SpecificProblemUsesItsDetail(t *testing.T) {
	p := decodeProblem(t, returning(t, newFixture(t, nil), errTestTaken))
	assert.Equal(t, "https://ultramarket.uz/problems/email-taken", p.Type)
	assert.Equal(t, "An account with this email already exists.", p.Detail)
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

	rec = returning(t, f, fmt.Errorf("login: %w", lockout{wait: 15 * time.Minute}))
	assert.Equal(t, http.StatusTooManyRequests, rec.Code)
	assert.Equal(t, "900", rec.Header().Get("Retry-After"), "any error with RetryAfterHint")

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

func TestRegisterProblem_RefusesBadMappings(t *testing.T) {
	assert.Panics(t, func() { httpapi.RegisterProblem(nil, 409, "x", "") })
	assert.Panics(t, func() { httpapi.RegisterProblem(errors.New("x"), 200, "x", "") })
	assert.Panics(t, func() { httpapi.RegisterProblem(errors.New("x"), 409, "", "") })
}
