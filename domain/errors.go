// Package domain holds the error categories every aggregate's errors belong to.
//
// Each aggregate package declares its own sentinel errors and wraps one of these
// categories, so the edge can map a whole category to a status (any not-found is a
// 404) while still recognising a specific error where the contract names it
// (email_taken, insufficient_stock, ...).
package domain

import (
	"errors"
	"fmt"
	"strings"
)

// Categories. Compare with errors.Is.
var (
	ErrNotFound     = errors.New("not found")
	ErrConflict     = errors.New("conflict")
	ErrForbidden    = errors.New("forbidden")
	ErrValidation   = errors.New("validation failed")
	ErrUnauthorized = errors.New("unauthorized")
	// ErrUnavailable means a dependency (Redis, Postgres) could not be reached:
	// the request may succeed later and changed nothing.
	ErrUnavailable = errors.New("service unavailable")
	// ErrUpstreamUnavailable means the product catalog could not be reached.
	ErrUpstreamUnavailable = fmt.Errorf("upstream %w", ErrUnavailable)
)

// FieldError says what is wrong with one input field.
type FieldError struct {
	Field   string
	Message string
}

// ValidationError lists every invalid field of one input. It matches ErrValidation.
type ValidationError struct {
	Fields []FieldError
}

// Invalid builds a ValidationError for one field.
func Invalid(field, message string) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: message}}}
}

// Add appends a field error and returns the receiver for chaining.
func (e *ValidationError) Add(field, message string) *ValidationError {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message})
	return e
}

// OrNil returns nil when no field was added, so callers can build errors
// incrementally and return the result directly.
func (e *ValidationError) OrNil() error {
	if e == nil || len(e.Fields) == 0 {
		return nil
	}
	return e
}

func (e *ValidationError) Error() string {
	parts := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		parts = append(parts, fmt.Sprintf("%s: %s", f.Field, f.Message))
	}
	return "validation failed: " + strings.Join(parts, "; ")
}

// Is makes errors.Is(err, ErrValidation) true for every ValidationError.
func (e *ValidationError) Is(target error) bool { return target == ErrValidation }

// Merge adds the fields of err, when it is a *ValidationError, to e and
// returns nil; any other error is returned as it is. Domain parse errors are
// shared values, so their fields are copied into e, never appended to.
func (e *ValidationError) Merge(err error) error {
	if err == nil {
		return nil
	}
	var v *ValidationError
	if !errors.As(err, &v) {
		return err
	}
	e.Fields = append(e.Fields, v.Fields...)
	return nil
}
