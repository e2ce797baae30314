package fiscal_test

import (
	"math"
	"math/big"
	"math/rand/v2"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/domain/money"
)

// vatOracle is round-half-up(t·p/(100+p)) in arbitrary precision: the
// definition, against which the int64 formulation is checked.
func vatOracle(tb testing.TB, t int64, p int) int64 {
	tb.Helper()
	d := big.NewInt(int64(100 + p))
	num := new(big.Int).Mul(big.NewInt(t), big.NewInt(int64(p)))
	num.Mul(num, big.NewInt(2))
	num.Add(num, d)
	den := new(big.Int).Mul(d, big.NewInt(2))
	q := new(big.Int).Quo(num, den) // both non-negative: Quo is floor
	require.True(tb, q.IsInt64())
	return q.Int64()
}

func TestVATAmount(t *testing.T) {
	const maxLine = 100 * 1_000_000_000_000 // 100 × the largest price (10^12 tiyin)
	cases := []struct {
		name    string
		total   int64
		percent int
		want    int64
	}{
		// FISCAL.md §3.1's worked example.
		{"t-shirts 28 000 000", 28_000_000, 12, 3_000_000},
		{"kettle 25 000 000 (…571.43 rounds down)", 25_000_000, 12, 2_678_571},
		{"delivery 2 000 000 (…285.71 rounds up)", 2_000_000, 12, 214_286},
		// 0 % is always 0.
		{"zero rate", 25_000_000, 0, 0},
		{"zero rate, largest line", maxLine, 0, 0},
		{"zero total", 0, 12, 0},
		// Half-up boundaries: 14 × 12/112 = 1.5 exactly, 42 → 4.5.
		{"1 tiyin", 1, 12, 0},
		{"13 → 1.39", 13, 12, 1},
		{"14 → 1.5 rounds up", 14, 12, 2},
		{"15 → 1.61", 15, 12, 2},
		{"42 → 4.5 rounds up", 42, 12, 5},
		{"41 → 4.39", 41, 12, 4},
		{"112 → 12 exactly", 112, 12, 12},
		{"4 tiyin → 0.43", 4, 12, 0},
		{"5 tiyin → 0.54", 5, 12, 1},
		// 100 % (d = 200) has .5 cases too: 1 × 100/200 = 0.5.
		{"100 %, 1 tiyin → 0.5", 1, 100, 1},
		// The extremes: the largest line an order can have, and int64's limit,
		// where (t·p·2 + d) would have overflowed long before.
		{"largest order line", maxLine, 12, 10_714_285_714_286},
		{"max int64", math.MaxInt64, 12, 988_218_432_520_154_551},
		{"max int64 at 100 %", math.MaxInt64, 100, 4_611_686_018_427_387_904},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			require.Equal(t, tc.want, vatOracle(t, tc.total, tc.percent), "the table itself")
			got, err := fiscal.VATAmount(money.MustTiyin(tc.total), tc.percent)
			require.NoError(t, err)
			assert.Equal(t, tc.want, got.Tiyin())
		})
	}
}

// The int64 formulation agrees with the definition across the whole range,
// not only at the rows above.
func TestVATAmount_AgreesWithBigIntArithmetic(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 12)) //nolint:gosec // reproducible test data, not a secret
	for range 20000 {
		var total int64
		switch rng.IntN(3) {
		case 0:
			total = rng.Int64N(100_000)
		case 1:
			total = rng.Int64N(100 * 1_000_000_000_000)
		default:
			total = rng.Int64()
		}
		p := []int{0, 12, rng.IntN(101)}[rng.IntN(3)]
		got, err := fiscal.VATAmount(money.MustTiyin(total), p)
		require.NoError(t, err)
		require.Equal(t, vatOracle(t, total, p), got.Tiyin(), "total %d at %d %%", total, p)
	}
}

func TestVATAmount_RateOutOfRange(t *testing.T) {
	for _, p := range []int{-1, -100, 101, math.MinInt} {
		_, err := fiscal.VATAmount(money.MustTiyin(100), p)
		assert.ErrorIs(t, err, fiscal.ErrVATPercent, "%d", p)
		assert.ErrorIs(t, err, domain.ErrValidation)
	}
}

func TestLineVATPercent(t *testing.T) {
	at12, err := fiscal.NewIdentity(fiscal.IdentityDraft{VATPercent: ptr(12)})
	require.NoError(t, err)
	at0, err := fiscal.NewIdentity(fiscal.IdentityDraft{VATPercent: ptr(0)})
	require.NoError(t, err)
	payer := fiscal.RestoreSellerProfile("123456789", "", true)
	nonPayer := fiscal.RestoreSellerProfile("", "12345678901234", false)

	cases := []struct {
		name    string
		product fiscal.Identity
		seller  *fiscal.SellerProfile
		want    int
	}{
		{"VAT payer: the product's 12", at12, &payer, 12},
		{"VAT payer: the product's 0", at0, &payer, 0},
		{"no profile: the product's 12", at12, nil, 12},
		{"no profile: the product's 0", at0, nil, 0},
		{"not a VAT payer: 0 whatever the product says", at12, &nonPayer, 0},
		{"not a VAT payer, product at 0", at0, &nonPayer, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			assert.Equal(t, tc.want, fiscal.LineVATPercent(tc.product, tc.seller))
		})
	}
}
