package fiscal_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/fiscal"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestNewSellerProfile_Valid(t *testing.T) {
	p, err := fiscal.NewSellerProfile(fiscal.SellerProfileDraft{TIN: ptr("123456789"), VATPayer: true})
	require.NoError(t, err)
	assert.Equal(t, "123456789", p.TIN())
	assert.Empty(t, p.PINFL())
	assert.True(t, p.VATPayer())
	assert.Equal(t, fiscal.Principal{TIN: "123456789"}, p.Principal())

	p, err = fiscal.NewSellerProfile(fiscal.SellerProfileDraft{PINFL: ptr("12345678901234")})
	require.NoError(t, err)
	assert.Empty(t, p.TIN())
	assert.Equal(t, "12345678901234", p.PINFL())
	assert.False(t, p.VATPayer())
	assert.Equal(t, fiscal.Principal{PINFL: "12345678901234"}, p.Principal())
	assert.False(t, p.Principal().IsZero())
}

func TestNewSellerProfile_Invalid(t *testing.T) {
	cases := []struct {
		name  string
		draft fiscal.SellerProfileDraft
		want  []string
	}{
		{"neither", fiscal.SellerProfileDraft{VATPayer: true}, []string{"tin", "pinfl"}},
		{"both", fiscal.SellerProfileDraft{TIN: ptr("123456789"), PINFL: ptr("12345678901234")}, []string{"tin", "pinfl"}},
		{"tin 8 digits", fiscal.SellerProfileDraft{TIN: ptr("12345678")}, []string{"tin"}},
		{"tin 10 digits", fiscal.SellerProfileDraft{TIN: ptr("1234567890")}, []string{"tin"}},
		{"tin with a letter", fiscal.SellerProfileDraft{TIN: ptr("12345678O")}, []string{"tin"}},
		{"tin empty", fiscal.SellerProfileDraft{TIN: ptr("")}, []string{"tin"}},
		{"tin of 14 digits (a pinfl in the wrong field)", fiscal.SellerProfileDraft{TIN: ptr("12345678901234")}, []string{"tin"}},
		{"pinfl 13 digits", fiscal.SellerProfileDraft{PINFL: ptr("1234567890123")}, []string{"pinfl"}},
		{"pinfl 15 digits", fiscal.SellerProfileDraft{PINFL: ptr("123456789012345")}, []string{"pinfl"}},
		{"pinfl of 9 digits (a tin in the wrong field)", fiscal.SellerProfileDraft{PINFL: ptr("123456789")}, []string{"pinfl"}},
		{"pinfl with a space", fiscal.SellerProfileDraft{PINFL: ptr("1234567890123 ")}, []string{"pinfl"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := fiscal.NewSellerProfile(tc.draft)
			assert.ErrorIs(t, err, domain.ErrValidation)
			assert.Equal(t, tc.want, testsupport.FieldsOf(t, err))
			assert.Equal(t, fiscal.SellerProfile{}, p)
		})
	}
}

func TestRestoreSellerProfile(t *testing.T) {
	p := fiscal.RestoreSellerProfile("", "12345678901234", true)
	assert.Equal(t, "12345678901234", p.PINFL())
	assert.True(t, p.VATPayer())
	assert.True(t, fiscal.Principal{}.IsZero())
}
