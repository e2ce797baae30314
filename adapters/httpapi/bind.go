package httpapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"github.com/labstack/echo/v4"

	"github.com/ultramarket/gateway/domain"
)

// Bind decodes the JSON object in the request body into dst (a pointer to a
// DTO struct), strictly:
//
//   - an empty body reads as {}, so bodiless POSTs like logout need no special case;
//   - invalid, truncated or trailing JSON, or a value that is not an object →
//     *BadRequestError (400 bad_request);
//   - an unknown field → *domain.ValidationError (422) naming it, with
//     message "unknown field": a typo in an optional field must not be
//     silently ignored;
//   - a value of the wrong type or out of range for its field → 422 naming
//     the field by its JSON path ("shipping_address.phone");
//   - a body over the limit → 413 payload_too_large.
//
// Bind only reads; checking values (lengths, ranges, formats) is the
// handler's or the domain's job. Use pointer fields where "absent" and
// "zero" must differ. Decode timestamps and other values with custom
// UnmarshalJSON as strings and parse them in the handler, so an error can
// name its field.
func Bind(c echo.Context, dst any) error {
	req := c.Request()
	var raw []byte
	if req.Body != nil {
		limit, ok := c.Get(bodyLimitKey).(int64)
		if !ok || limit <= 0 {
			limit = DefaultBodyLimit
		}
		// Limited here as well as in the middleware, so Bind stays safe on a
		// route that is exempt from it.
		b, err := io.ReadAll(http.MaxBytesReader(c.Response().Writer, req.Body, limit))
		if err != nil {
			if isTooLarge(err) {
				return echo.ErrStatusRequestEntityTooLarge
			}
			return &BadRequestError{Detail: "problem.detail.body_unreadable"}
		}
		raw = b
	}

	body := bytes.Trim(raw, " \t\r\n") // JSON's whitespace
	if len(body) == 0 {
		body = []byte("{}")
	}
	if body[0] != '{' {
		return &BadRequestError{Detail: "problem.detail.body_not_object"}
	}
	// Syntax first, over the whole body: JSON that does not parse, or one
	// object followed by more data, is a 400 whatever the object holds.
	if !json.Valid(body) {
		var probe any
		var bad *BadRequestError
		if errors.As(decodeError(json.Unmarshal(body, &probe)), &bad) {
			return bad
		}
		return &BadRequestError{Detail: "problem.detail.body_not_single_object"}
	}

	dec := json.NewDecoder(bytes.NewReader(body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(dst); err != nil {
		if strings.HasPrefix(err.Error(), unknownFieldPrefix) {
			// encoding/json names only the key; find its path for the client.
			var generic any
			if json.Unmarshal(body, &generic) == nil {
				if path, ok := unknownFieldPath(reflect.TypeOf(dst), generic, ""); ok {
					return domain.Invalid(path, domain.MsgUnknownField)
				}
			}
		}
		return decodeError(err)
	}
	return nil
}

func isTooLarge(err error) bool {
	var mbe *http.MaxBytesError
	return errors.As(err, &mbe) || errors.Is(err, echo.ErrStatusRequestEntityTooLarge)
}

// unknownFieldPrefix is how encoding/json reports DisallowUnknownFields
// violations; it has no typed error for them.
const unknownFieldPrefix = "json: unknown field "

func decodeError(err error) error {
	var (
		syntax    *json.SyntaxError
		typ       *json.UnmarshalTypeError
		badTarget *json.InvalidUnmarshalError
	)
	switch {
	case errors.As(err, &syntax):
		return &BadRequestError{Detail: "problem.detail.body_not_json"}
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return &BadRequestError{Detail: "problem.detail.body_truncated"}
	case errors.As(err, &typ):
		field := fieldPath(typ.Field)
		if field == "" {
			field = "body"
		}
		return domain.Invalid(field, typeMessage(typ))
	case errors.As(err, &badTarget):
		return err // a handler passed a non-pointer: a bug, let it be a 500
	case strings.HasPrefix(err.Error(), unknownFieldPrefix):
		name, uerr := strconv.Unquote(strings.TrimPrefix(err.Error(), unknownFieldPrefix))
		if uerr != nil {
			name = strings.TrimPrefix(err.Error(), unknownFieldPrefix)
		}
		return domain.Invalid(name, domain.MsgUnknownField)
	default:
		// A custom UnmarshalJSON refused a value; encoding/json does not say
		// which field it was.
		return domain.Invalid("body", domain.MsgInvalidValue)
	}
}

// fieldPath turns encoding/json's dotted path of a field into the one the
// API names fields with: Go 1.27 writes array indices as segments
// ("items.0.quantity"), which becomes "items[0].quantity", as
// unknownFieldPath and the domain's validation errors write them. (Go 1.26
// left the index out: "items.quantity".)
func fieldPath(field string) string {
	parts := strings.Split(field, ".")
	var b strings.Builder
	for i, p := range parts {
		if i > 0 && p != "" && strings.Trim(p, "0123456789") == "" {
			b.WriteString("[" + p + "]")
			continue
		}
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(p)
	}
	return b.String()
}

// typeMessage says what the field should have been, in the client's terms
// (JSON types), not Go's.
func typeMessage(e *json.UnmarshalTypeError) string {
	t := e.Type
	for t != nil && t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if t == nil {
		return domain.MsgWrongType
	}
	isNumber := strings.HasPrefix(e.Value, "number")
	switch t.Kind() {
	case reflect.String:
		return domain.MsgString
	case reflect.Bool:
		return domain.MsgBoolean
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		if isNumber {
			return domain.MsgIntegerInRange
		}
		return domain.MsgInteger
	case reflect.Float32, reflect.Float64:
		if isNumber {
			return domain.MsgNumberInRange
		}
		return domain.MsgNumber
	case reflect.Slice, reflect.Array:
		return domain.MsgArray
	case reflect.Struct, reflect.Map:
		return domain.MsgObject
	}
	return domain.MsgWrongType
}

// unknownFieldPath walks a decoded body alongside the DTO type it was meant
// for and returns the JSON path of the first key the type has no field for
// ("shipping_address.zip", "items[1].colour").
func unknownFieldPath(t reflect.Type, v any, prefix string) (string, bool) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch val := v.(type) {
	case map[string]any:
		if t.Kind() != reflect.Struct {
			return "", false
		}
		fields := jsonFields(t)
		keys := make([]string, 0, len(val))
		for k := range val {
			keys = append(keys, k)
		}
		slices.Sort(keys) // the same answer for the same body
		for _, k := range keys {
			path := k
			if prefix != "" {
				path = prefix + "." + k
			}
			ft, ok := lookupField(fields, k)
			if !ok {
				return path, true
			}
			if p, found := unknownFieldPath(ft, val[k], path); found {
				return p, true
			}
		}
	case []any:
		if t.Kind() != reflect.Slice && t.Kind() != reflect.Array {
			return "", false
		}
		for i, item := range val {
			if p, found := unknownFieldPath(t.Elem(), item, prefix+"["+strconv.Itoa(i)+"]"); found {
				return p, true
			}
		}
	}
	return "", false
}

// jsonFields maps a struct's JSON names to field types, as encoding/json
// sees them (tag name, else the Go name; "-" skipped; embedded structs flattened).
func jsonFields(t reflect.Type) map[string]reflect.Type {
	out := map[string]reflect.Type{}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		name, _, _ := strings.Cut(f.Tag.Get("json"), ",")
		if name == "-" {
			continue
		}
		if f.Anonymous && name == "" {
			ft := f.Type
			for ft.Kind() == reflect.Pointer {
				ft = ft.Elem()
			}
			if ft.Kind() == reflect.Struct {
				for k, v := range jsonFields(ft) {
					out[k] = v
				}
				continue
			}
		}
		if !f.IsExported() {
			continue
		}
		if name == "" {
			name = f.Name
		}
		out[name] = f.Type
	}
	return out
}

// lookupField matches keys case-insensitively, as encoding/json does.
func lookupField(fields map[string]reflect.Type, key string) (reflect.Type, bool) {
	if t, ok := fields[key]; ok {
		return t, true
	}
	for name, t := range fields {
		if strings.EqualFold(name, key) {
			return t, true
		}
	}
	return nil, false
}
