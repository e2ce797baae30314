package otp

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/ultramarket/gateway/domain"
)

// CodeDigits is the length of a code: 10^6 codes, about 19.9 bits, which
// NIST accepts for an out-of-band secret that dies after a few wrong tries.
const CodeDigits = 6

const (
	codeSpace = 1_000_000 // 10^CodeDigits
	// acceptBelow is the largest multiple of codeSpace that fits in a uint32.
	// Drawing v uniformly from [0, 2^32) and keeping only v < acceptBelow
	// leaves every v % codeSpace equally likely; taking v % codeSpace of any v
	// would make the first 967,296 codes slightly likelier than the rest
	// (modulo bias). One draw in about 4,400 is thrown away.
	acceptBelow = (1 << 32) / codeSpace * codeSpace
)

const redacted = "******"

// Code is one six-digit code. It never prints itself: fmt, %v, %#v and slog
// all show "******", so a code cannot reach a log or an error by accident;
// Reveal is the one way to its digits.
type Code struct {
	digits string
}

// errBadCode is shared, like the other parse errors: callers merge its
// fields, never append to it.
var errBadCode error = domain.Invalid("code", domain.MsgDigits, domain.Args{"Count": CodeDigits})

// NewCode draws a code uniformly from crypto/rand.
func NewCode() (Code, error) { return newCode(rand.Reader) }

// newCode draws from r by rejection sampling (see acceptBelow).
func newCode(r io.Reader) (Code, error) {
	var b [4]byte
	for {
		if _, err := io.ReadFull(r, b[:]); err != nil {
			return Code{}, fmt.Errorf("otp: draw a code: %w", err)
		}
		if v := binary.BigEndian.Uint32(b[:]); v < acceptBelow {
			return Code{digits: fmt.Sprintf("%0*d", CodeDigits, v%codeSpace)}, nil
		}
	}
}

// ParseCode reads a code a user typed: exactly six ASCII digits, surrounding
// spaces ignored. The error names the field "code". A well-formed code may
// still be wrong; only the code store knows.
func ParseCode(s string) (Code, error) {
	s = strings.TrimSpace(s)
	if len(s) != CodeDigits {
		return Code{}, errBadCode
	}
	for i := range len(s) {
		if s[i] < '0' || s[i] > '9' {
			return Code{}, errBadCode
		}
	}
	return Code{digits: s}, nil
}

// IsZero reports whether c is the zero Code (no code).
func (c Code) IsZero() bool { return c.digits == "" }

// Reveal returns the digits, for the text of the SMS and the keyed hash the
// store keeps, and for nothing else.
func (c Code) Reveal() string { return c.digits }

// String hides the code.
func (c Code) String() string { return redacted }

// GoString hides the code from %#v.
func (c Code) GoString() string { return redacted }

// Format hides the code from every fmt verb (%d and %x included).
func (c Code) Format(f fmt.State, _ rune) { _, _ = io.WriteString(f, redacted) }

// LogValue hides the code from slog.
func (c Code) LogValue() slog.Value { return slog.StringValue(redacted) }
