package catalogclient

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/product"
)

// FieldError is one invalid field the upstream named in a 422.
type FieldError = domain.FieldError

// UpstreamProblem is a 4xx answer of the upstream catalog, carried to the
// edge so the client sees what the upstream said (API.md: "Upstream 4xx
// answers pass through to the client as problem details").
//
// Rendering at the edge: problem+json with Status as the HTTP status and as
// `status`, Code as `code`, Title as `title`, Detail as `detail` (when not
// empty), Errors as `errors` [{field, message}], plus the gateway's own
// `request_id` and a `type` built from Code. Every field is safe to show: it
// was parsed from the upstream's JSON, trimmed and length-capped, never
// copied from a raw body. Code is always a snake_case token; when the
// upstream sent none (or a malformed one) it is the API.md code of the
// status (404 not_found, 422 validation_failed, ...).
//
// For use cases it also behaves like the domain error of its status:
// errors.Is matches product.ErrNotFound and domain.ErrNotFound for 404,
// domain.ErrValidation for 422, domain.ErrForbidden for 403 and
// domain.ErrConflict for 409; and a 422 with field errors is found by
// errors.As as a *domain.ValidationError. A 409 insufficient_stock answer to a
// reservation never becomes an UpstreamProblem: it is a
// *product.InsufficientStockError.
type UpstreamProblem struct {
	Status int
	Code   string
	Title  string
	Detail string
	Errors []FieldError
}

func (p *UpstreamProblem) Error() string {
	msg := fmt.Sprintf("catalog: upstream answered %d %s", p.Status, p.Code)
	if p.Detail != "" {
		msg += ": " + p.Detail
	}
	return msg
}

// Is maps the status to the domain's error categories.
func (p *UpstreamProblem) Is(target error) bool {
	switch p.Status {
	case http.StatusNotFound:
		return target == product.ErrNotFound || target == domain.ErrNotFound
	case http.StatusUnprocessableEntity:
		return target == domain.ErrValidation
	case http.StatusForbidden:
		return target == domain.ErrForbidden
	case http.StatusConflict:
		return target == domain.ErrConflict
	}
	return false
}

// As lets a 422 with field errors be handled like a local validation error.
func (p *UpstreamProblem) As(target any) bool {
	t, ok := target.(**domain.ValidationError)
	if !ok || p.Status != http.StatusUnprocessableEntity || len(p.Errors) == 0 {
		return false
	}
	*t = &domain.ValidationError{Fields: append([]FieldError(nil), p.Errors...)}
	return true
}

// Limits on what is copied from an upstream problem.
const (
	maxDetailChars = 500
	maxTitleChars  = 100
	maxCodeLen     = 64
	maxFieldErrors = 50
)

// problemJSON is every shape of error body understood: RFC 9457 problem
// details with this API's extensions, and a bare {code, message}.
type problemJSON struct {
	Title     string `json:"title"`
	Code      string `json:"code"`
	Detail    string `json:"detail"`
	Message   string `json:"message"`
	ProductID string `json:"product_id"`
	Errors    []struct {
		Field   string `json:"field"`
		Message string `json:"message"`
	} `json:"errors"`
}

// parseProblem builds the UpstreamProblem of a 4xx answer; a body that is not
// one of the known shapes gives the generic problem of the status.
func parseProblem(status int, body []byte) (*UpstreamProblem, problemJSON) {
	var pj problemJSON
	if json.Unmarshal(body, &pj) != nil {
		pj = problemJSON{}
	}
	p := &UpstreamProblem{
		Status: status,
		Code:   pj.Code,
		Title:  clean(pj.Title, maxTitleChars),
		Detail: clean(pj.Detail, maxDetailChars),
	}
	if !validCode(p.Code) {
		p.Code = codeFor(status)
	}
	if p.Title == "" {
		p.Title = http.StatusText(status)
	}
	if p.Detail == "" {
		p.Detail = clean(pj.Message, maxDetailChars)
	}
	for i, e := range pj.Errors {
		if i == maxFieldErrors {
			break
		}
		p.Errors = append(p.Errors, FieldError{Field: clean(e.Field, maxTitleChars), Message: clean(e.Message, maxDetailChars)})
	}
	return p, pj
}

// codeFor is the API.md code of a 4xx status.
func codeFor(status int) string {
	switch status {
	case http.StatusBadRequest:
		return "bad_request"
	case http.StatusUnauthorized:
		return "unauthorized"
	case http.StatusForbidden:
		return "forbidden"
	case http.StatusNotFound:
		return "not_found"
	case http.StatusConflict:
		return "conflict"
	case http.StatusRequestEntityTooLarge:
		return "payload_too_large"
	case http.StatusUnprocessableEntity:
		return "validation_failed"
	case http.StatusTooManyRequests:
		return "rate_limited"
	}
	return "upstream_error"
}

// validCode accepts snake_case tokens only, so a code is safe in a URL (type)
// and in logs.
func validCode(s string) bool {
	if s == "" || len(s) > maxCodeLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if b := s[i]; !('a' <= b && b <= 'z' || '0' <= b && b <= '9' || b == '_') {
			return false
		}
	}
	return true
}

// clean trims s, drops control characters and caps it at n runes.
func clean(s string, n int) string {
	s = strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return ' '
		}
		return r
	}, s)
	s = strings.TrimSpace(s)
	if utf8.RuneCountInString(s) > n {
		s = string([]rune(s)[:n]) + "…"
	}
	return s
}
