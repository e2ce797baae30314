package money_test

import (
	"fmt"
	"math"
	"strconv"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain/money"
)

func TestFromTiyin(t *testing.T) {
	m, err := money.FromTiyin(5000000)
	require.NoError(t, err)
	assert.Equal(t, int64(5000000), m.Tiyin())
	_, err = money.FromTiyin(-1)
	assert.ErrorIs(t, err, money.ErrNegative)
}

func TestArithmeticRefusesOverflow(t *testing.T) {
	big := money.MustTiyin(math.MaxInt64 - 1)
	_, err := big.Add(money.MustTiyin(2))
	assert.ErrorIs(t, err, money.ErrOverflow)
	sum, err := big.Add(money.MustTiyin(1))
	require.NoError(t, err)
	assert.Equal(t, int64(math.MaxInt64), sum.Tiyin())

	_, err = money.MustTiyin(math.MaxInt64/2 + 1).Times(2)
	assert.ErrorIs(t, err, money.ErrOverflow)
	_, err = money.MustTiyin(1).Times(-1)
	assert.ErrorIs(t, err, money.ErrNegative)
	p, err := money.MustTiyin(1250).Times(3)
	require.NoError(t, err)
	assert.Equal(t, int64(3750), p.Tiyin())
}

func TestSomString(t *testing.T) {
	for tiyin, want := range map[int64]string{0: "0.00", 5: "0.05", 100: "1.00", 5000000: "50000.00", 123456: "1234.56"} {
		t.Run(strconv.FormatInt(tiyin, 10), func(t *testing.T) {
			assert.Equal(t, want, money.MustTiyin(tiyin).SomString(), "tiyin %d", tiyin)
		})
	}
}

func TestParseSom(t *testing.T) {
	ok := []struct {
		in   string
		want int64
	}{
		{"50000", 5000000}, {"50000.00", 5000000}, {"50000.0", 5000000}, {"50000.5", 5000050},
		{"0.01", 1}, {"0", 0}, {"1.230", 123}, {"00012.34", 1234}, {"92233720368547758.07", math.MaxInt64},
	}
	for _, c := range ok {
		t.Run(c.in, func(t *testing.T) {
			m, err := money.ParseSom(c.in)
			require.NoError(t, err, c.in)
			assert.Equal(t, c.want, m.Tiyin(), c.in)
		})
	}
	bad := []string{"", ".", "1.", ".5", "-1", "+1", "1e3", "1.001", "1,00", " 1", "1 ", "abc", "1.2.3", "NaN", "0x10"}
	for _, in := range bad {
		t.Run(fmt.Sprintf("bad %q", in), func(t *testing.T) {
			_, err := money.ParseSom(in)
			assert.ErrorIs(t, err, money.ErrFormat, "%q", in)
		})
	}
	_, err := money.ParseSom("92233720368547758.08")
	assert.ErrorIs(t, err, money.ErrOverflow)
	_, err = money.ParseSom("99999999999999999999")
	assert.ErrorIs(t, err, money.ErrOverflow)
}

func FuzzParseSom(f *testing.F) {
	for _, s := range []string{"50000", "50000.00", "0.01", "-1", "1e3", "1.001"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		m, err := money.ParseSom(s)
		if err != nil {
			return
		}
		// A parsed amount formats back to a value that parses to the same tiyin.
		back, err := money.ParseSom(m.SomString())
		require.NoError(t, err)
		assert.Equal(t, m.Tiyin(), back.Tiyin())
	})
}
