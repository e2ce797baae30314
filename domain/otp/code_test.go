package otp_test

import (
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/otp"
)

// draws is a random source that yields the given uint32 values in order.
func draws(vs ...uint32) *bytes.Reader {
	b := make([]byte, 0, 4*len(vs))
	for _, v := range vs {
		b = binary.BigEndian.AppendUint32(b, v)
	}
	return bytes.NewReader(b)
}

func TestNewCodeRejectsTheBiasedTail(t *testing.T) {
	cases := []struct {
		name  string
		draws []uint32
		want  string
	}{
		{"zero keeps its leading zeros", []uint32{0}, "000000"},
		{"in range", []uint32{123456}, "123456"},
		{"above the code space, reduced", []uint32{7_000_042}, "000042"},
		{"the last accepted value", []uint32{otp.AcceptBelow - 1}, "999999"},
		// v % 10^6 of these would be 000000 and 000005 again: the codes below
		// 967,296 would come up once more often in 4,295 than the others.
		{"the first rejected value", []uint32{otp.AcceptBelow, 7}, "000007"},
		{"the tail is drawn again", []uint32{otp.AcceptBelow + 5, 1<<32 - 1, 654321}, "654321"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			code, err := otp.NewCodeFrom(draws(c.draws...))
			require.NoError(t, err, c.name)
			assert.Equal(t, c.want, code.Reveal(), c.name)
		})
	}
}

func TestNewCodeFailsWithoutRandomness(t *testing.T) {
	_, err := otp.NewCodeFrom(bytes.NewReader([]byte{1, 2}))
	require.Error(t, err)
	// Only rejected values and then nothing: an error, not a biased code.
	_, err = otp.NewCodeFrom(draws(otp.AcceptBelow))
	require.Error(t, err)
}

// The property behind "uniformly random": over many codes from crypto/rand
// every position takes each digit about equally often (a chi-square test
// whose bound a fair source exceeds about once in ten million runs), and
// every code is six ASCII digits.
func TestNewCodeIsUniform(t *testing.T) {
	const n = 100_000
	var counts [otp.CodeDigits][10]int
	for range n {
		code, err := otp.NewCode()
		require.NoError(t, err)
		s := code.Reveal()
		if len(s) != otp.CodeDigits {
			t.Fatalf("%q is not %d digits long", s, otp.CodeDigits)
		}
		for i := range len(s) {
			d := s[i] - '0' // a byte: anything below '0' wraps above 9
			if d > 9 {
				t.Fatalf("%q is not all digits", s)
			}
			counts[i][d]++
		}
	}
	const expected = float64(n) / 10
	for pos, row := range counts {
		chi2 := 0.0
		for _, c := range row {
			diff := float64(c) - expected
			chi2 += diff * diff / expected
		}
		// 9 degrees of freedom: P(chi2 > 50) ≈ 1e-7.
		assert.Less(t, chi2, 50.0, "digit %d: counts %v", pos, row)
	}
}

func TestParseCode(t *testing.T) {
	for in, want := range map[string]string{"123456": "123456", " 000001 ": "000001"} {
		t.Run(fmt.Sprintf("%q", in), func(t *testing.T) {
			c, err := otp.ParseCode(in)
			require.NoError(t, err, "%q", in)
			assert.Equal(t, want, c.Reveal())
		})
	}
	for _, in := range []string{"", "12345", "1234567", "12345a", "١٢٣٤٥٦", "12 345", "+12345", "-12345"} {
		c, err := otp.ParseCode(in)
		require.ErrorIs(t, err, domain.ErrValidation, "%q", in)
		var verr *domain.ValidationError
		require.True(t, errors.As(err, &verr))
		assert.Equal(t, "code", verr.Fields[0].Field)
		assert.True(t, c.IsZero())
	}
}

func TestCodeNeverPrintsItself(t *testing.T) {
	c, err := otp.ParseCode("987654")
	require.NoError(t, err)
	for _, s := range []string{
		fmt.Sprint(c), fmt.Sprintf("%v %+v %#v %s %d %x %q", c, c, c, c, c, c, c),
		fmt.Sprintf("%v", struct{ C otp.Code }{c}), fmt.Errorf("wrapped %v", c).Error(),
	} {
		assert.NotContains(t, s, "987654")
		assert.NotContains(t, s, "393837", "hex of the digits")
	}
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("x", "code", c)
	assert.NotContains(t, buf.String(), "987654")
	assert.Equal(t, "987654", c.Reveal())
}
