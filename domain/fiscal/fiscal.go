// Package fiscal holds the rules of Uzbek fiscal receipts (payments/FISCAL.md)
// that do not depend on any gateway's wire format: a product's fiscal
// identity, a seller's profile, the VAT of an order line, the snapshot an
// order line keeps, what Payme's CheckPerformTransaction `detail` and Click's
// `submit_items` are built from, and the receipts the providers report.
//
// The builders return plain structs without JSON tags: the wire shapes belong
// to the Payme and Click adapters, which map these structs to their DTOs.
package fiscal

import (
	"fmt"

	"github.com/ultramarket/gateway/domain"
)

// ErrFiscalDataMissing is matched by every *MissingError (API code
// fiscal_data_missing, 422).
var ErrFiscalDataMissing = fmt.Errorf("fiscal: fiscal data missing: %w", domain.ErrValidation)

// MissingError names the order line (its index in the slice given to a
// builder) and the datum a receipt cannot be built without.
type MissingError struct {
	Line  int
	Field string // ikpu_code, package_code, name or seller
}

func (e *MissingError) Error() string {
	return fmt.Sprintf("fiscal: line %d has no %s", e.Line, e.Field)
}

// Is lets callers test for the sentinel or the category without errors.As.
func (e *MissingError) Is(target error) bool {
	return target == ErrFiscalDataMissing || target == domain.ErrValidation
}

// fieldErrors collects the invalid fields of one input. Fields are appended
// here rather than through ValidationError.Add, whose chaining result
// errcheck reports as an unchecked error.
type fieldErrors []domain.FieldError

func (f *fieldErrors) add(field, message string, args ...domain.Args) {
	*f = append(*f, domain.Invalid(field, message, args...).Fields...)
}

// err is nil when no field was added.
func (f fieldErrors) err() error {
	if len(f) == 0 {
		return nil
	}
	return &domain.ValidationError{Fields: f}
}

// digits reports whether s is made of ASCII digits only, with a length in
// min..max. Other Unicode digits are refused: the tax system reads ASCII.
func digits(s string, minLen, maxLen int) bool {
	if len(s) < minLen || len(s) > maxLen {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
