// Package money is the one representation of an amount of money: an integer
// number of tiyin (1 UZS = 100 tiyin). Floats never touch it.
package money

import (
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
)

// Currency is the only currency the marketplace sells in.
const Currency = "UZS"

// TiyinPerSom is the number of tiyin in one so'm.
const TiyinPerSom = 100

var (
	ErrNegative = errors.New("money: amount is negative")
	ErrOverflow = errors.New("money: amount overflows int64 tiyin")
	ErrFormat   = errors.New("money: not a decimal amount of so'm")
)

// Money is an amount in tiyin. The zero value is zero so'm.
type Money struct {
	tiyin int64
}

// FromTiyin returns the amount of t tiyin; negative amounts are refused.
func FromTiyin(t int64) (Money, error) {
	if t < 0 {
		return Money{}, ErrNegative
	}
	return Money{tiyin: t}, nil
}

// MustTiyin is FromTiyin for constants in code and tests; it panics on a negative value.
func MustTiyin(t int64) Money {
	m, err := FromTiyin(t)
	if err != nil {
		panic(err)
	}
	return m
}

// Tiyin returns the amount as an integer number of tiyin.
func (m Money) Tiyin() int64 { return m.tiyin }

// IsZero reports whether the amount is zero.
func (m Money) IsZero() bool { return m.tiyin == 0 }

// Equal reports whether two amounts are the same.
func (m Money) Equal(o Money) bool { return m.tiyin == o.tiyin }

// Add returns m+o, refusing to overflow.
func (m Money) Add(o Money) (Money, error) {
	if m.tiyin > math.MaxInt64-o.tiyin {
		return Money{}, ErrOverflow
	}
	return Money{tiyin: m.tiyin + o.tiyin}, nil
}

// Times returns m*n for a non-negative count n, refusing to overflow.
func (m Money) Times(n int64) (Money, error) {
	if n < 0 {
		return Money{}, ErrNegative
	}
	if n != 0 && m.tiyin > math.MaxInt64/n {
		return Money{}, ErrOverflow
	}
	return Money{tiyin: m.tiyin * n}, nil
}

// SomString formats the amount in so'm with exactly two decimals ("50000.00"),
// the form Click's pay link expects.
func (m Money) SomString() string {
	return fmt.Sprintf("%d.%02d", m.tiyin/TiyinPerSom, m.tiyin%TiyinPerSom)
}

func (m Money) String() string { return m.SomString() + " " + Currency }

// ParseSom parses a decimal amount of so'm ("50000", "50000.5", "50000.00")
// exactly, without floats. More than two decimals are accepted only when the
// extra digits are zeros, since anything else is not a whole number of tiyin.
// Signs, exponents, spaces and empty parts are refused.
func ParseSom(s string) (Money, error) {
	whole, frac, hasDot := strings.Cut(s, ".")
	if whole == "" || (hasDot && frac == "") || !digitsOnly(whole) || !digitsOnly(frac) {
		return Money{}, ErrFormat
	}
	frac = strings.TrimRight(frac, "0")
	if len(frac) > 2 {
		return Money{}, ErrFormat
	}
	for len(frac) < 2 {
		frac += "0"
	}
	w, err := strconv.ParseInt(whole, 10, 64)
	if err != nil {
		return Money{}, ErrOverflow
	}
	f, _ := strconv.ParseInt(frac, 10, 64) // two digits, cannot fail
	if w > (math.MaxInt64-f)/TiyinPerSom {
		return Money{}, ErrOverflow
	}
	return Money{tiyin: w*TiyinPerSom + f}, nil
}

func digitsOnly(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}
