package fiscal_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/test/testsupport"
)

func ptr[T any](v T) *T { return &v }

func TestNewIdentity_Valid(t *testing.T) {
	cases := []struct {
		name      string
		draft     fiscal.IdentityDraft
		ikpu, pkg string
		unit, vat int
		complete  bool
	}{
		{"nothing given: no codes, 12 %", fiscal.IdentityDraft{}, "", "", 0, 12, false},
		{"every field", fiscal.IdentityDraft{IKPUCode: ptr("10202001001000000"), PackageCode: ptr("1500484"), UnitCode: ptr[int64](1111), VATPercent: ptr(12)},
			"10202001001000000", "1500484", 1111, 12, true},
		{"zero VAT", fiscal.IdentityDraft{IKPUCode: ptr("10202001001000000"), PackageCode: ptr("1"), VATPercent: ptr(0)},
			"10202001001000000", "1", 0, 0, true},
		{"package code of 20 digits, unit 1 and 999999", fiscal.IdentityDraft{PackageCode: ptr("12345678901234567890"), UnitCode: ptr[int64](999999)},
			"", "12345678901234567890", 999999, 12, false},
		{"unit 1", fiscal.IdentityDraft{UnitCode: ptr[int64](1)}, "", "", 1, 12, false},
		{"ikpu without package code is not complete", fiscal.IdentityDraft{IKPUCode: ptr("10202001001000000")}, "10202001001000000", "", 0, 12, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := fiscal.NewIdentity(tc.draft)
			require.NoError(t, err)
			assert.Equal(t, tc.ikpu, id.IKPUCode())
			assert.Equal(t, tc.pkg, id.PackageCode())
			assert.Equal(t, tc.unit, id.UnitCode())
			assert.Equal(t, tc.vat, id.VATPercent())
			assert.Equal(t, tc.complete, id.Complete())
		})
	}
}

func TestIdentity_ZeroValueIsNoCodesAtDefaultVAT(t *testing.T) {
	var id fiscal.Identity
	assert.Equal(t, fiscal.DefaultVATPercent, id.VATPercent())
	assert.False(t, id.Complete())
}

func TestNewIdentity_Invalid(t *testing.T) {
	cases := []struct {
		name  string
		draft fiscal.IdentityDraft
		want  []string
	}{
		{"ikpu 16 digits", fiscal.IdentityDraft{IKPUCode: ptr("1020200100100000")}, []string{"ikpu_code"}},
		{"ikpu 18 digits", fiscal.IdentityDraft{IKPUCode: ptr("102020010010000001")}, []string{"ikpu_code"}},
		{"ikpu with a letter", fiscal.IdentityDraft{IKPUCode: ptr("1020200100100000A")}, []string{"ikpu_code"}},
		{"ikpu with Arabic-Indic digits", fiscal.IdentityDraft{IKPUCode: ptr("١٠٢٠٢٠٠١٠٠١٠٠٠٠٠٠")}, []string{"ikpu_code"}},
		{"ikpu empty string", fiscal.IdentityDraft{IKPUCode: ptr("")}, []string{"ikpu_code"}},
		{"ikpu with spaces", fiscal.IdentityDraft{IKPUCode: ptr(" 10202001001000000")}, []string{"ikpu_code"}},
		{"package code empty", fiscal.IdentityDraft{PackageCode: ptr("")}, []string{"package_code"}},
		{"package code 21 digits", fiscal.IdentityDraft{PackageCode: ptr("123456789012345678901")}, []string{"package_code"}},
		{"package code signed", fiscal.IdentityDraft{PackageCode: ptr("-15")}, []string{"package_code"}},
		{"unit 0", fiscal.IdentityDraft{UnitCode: ptr[int64](0)}, []string{"unit_code"}},
		{"unit negative", fiscal.IdentityDraft{UnitCode: ptr[int64](-1)}, []string{"unit_code"}},
		{"unit 1000000", fiscal.IdentityDraft{UnitCode: ptr[int64](1_000_000)}, []string{"unit_code"}},
		{"vat 15 (the old rate)", fiscal.IdentityDraft{VATPercent: ptr(15)}, []string{"vat_percent"}},
		{"vat negative", fiscal.IdentityDraft{VATPercent: ptr(-12)}, []string{"vat_percent"}},
		{"every field at once", fiscal.IdentityDraft{IKPUCode: ptr("x"), PackageCode: ptr("y"), UnitCode: ptr[int64](0), VATPercent: ptr(20)},
			[]string{"ikpu_code", "package_code", "unit_code", "vat_percent"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := fiscal.NewIdentity(tc.draft)
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, tc.want, testsupport.FieldsOf(t, err))
			assert.Equal(t, fiscal.Identity{}, id)
		})
	}
}
