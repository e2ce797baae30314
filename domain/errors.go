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
	"sort"
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

// Args are the values a message's text names, by the placeholder's name
// ({{.Count}} is Args{"Count": n}). Count, when present, is also the number
// the text's plural form agrees with.
type Args map[string]any

// FieldError says what is wrong with one input field. Message is a message id
// (the constants in messages.go), which the edge turns into text in the
// client's language with Args; a Message that is no catalogue's id is shown
// as it is (an upstream service's own words, or text written before its id
// existed).
type FieldError struct {
	Field   string
	Message string
	Args    Args
}

// ValidationError lists every invalid field of one input. It matches ErrValidation.
type ValidationError struct {
	Fields []FieldError
}

// Invalid builds a ValidationError for one field: message is a message id,
// args (at most one map is expected; several are merged) fill its text.
func Invalid(field, message string, args ...Args) *ValidationError {
	return &ValidationError{Fields: []FieldError{{Field: field, Message: message, Args: mergeArgs(args)}}}
}

// Add appends a field error and returns the receiver for chaining.
func (e *ValidationError) Add(field, message string, args ...Args) *ValidationError {
	e.Fields = append(e.Fields, FieldError{Field: field, Message: message, Args: mergeArgs(args)})
	return e
}

// AddField appends f as it is, its args included: how a use case passes on a
// field error it got from the domain under another field name.
func (e *ValidationError) AddField(f FieldError) *ValidationError {
	e.Fields = append(e.Fields, f)
	return e
}

func mergeArgs(args []Args) Args {
	switch len(args) {
	case 0:
		return nil
	case 1:
		return args[0]
	}
	out := Args{}
	for _, a := range args {
		for k, v := range a {
			out[k] = v
		}
	}
	return out
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
		parts = append(parts, fmt.Sprintf("%s: %s%s", f.Field, f.Message, f.Args))
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

// String renders args for logs and Go error texts, in a stable order; the
// client's text comes from the catalogue instead.
func (a Args) String() string {
	if len(a) == 0 {
		return ""
	}
	keys := make([]string, 0, len(a))
	for k := range a {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	parts := make([]string, 0, len(keys))
	for _, k := range keys {
		parts = append(parts, fmt.Sprintf("%s=%v", k, a[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
