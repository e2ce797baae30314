package user_test

import (
	"bytes"
	"fmt"
	"log/slog"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/domain/user"
	"github.com/ultramarket/gateway/test/testsupport"
)

func TestParsePhone(t *testing.T) {
	for _, in := range []string{"+998901234567", " +998901234567\t"} {
		p, err := user.ParsePhone(in)
		require.NoError(t, err, "%q", in)
		assert.False(t, p.IsZero())
		assert.Equal(t, "+998901234567", p.String())
		assert.Equal(t, "998901234567", p.Digits(), "the form Eskiz takes")
		assert.Equal(t, "99890***4567", p.Masked())
	}
	// The rule registration uses, plus "required": nothing else passes.
	for _, in := range []string{
		"", "   ", "998901234567", "901234567", "+99890123456", "+9989012345678",
		"+998 90 123 45 67", "+997901234567", "+79012345678", "+99890123456a",
		"+998９01234567", "+998-901234567", "+",
	} {
		p, err := user.ParsePhone(in)
		require.ErrorIs(t, err, domain.ErrValidation, "%q", in)
		assert.Equal(t, []string{"phone"}, testsupport.FieldsOf(t, err), "%q", in)
		assert.True(t, p.IsZero(), "%q", in)
		_, regErr := user.NormalizePhone(in)
		if in != "" && in != "   " { // registration allows no phone; everything else agrees
			assert.Error(t, regErr, "%q: both checks must refuse it", in)
		}
	}
}

func TestZeroPhone(t *testing.T) {
	var p user.Phone
	assert.True(t, p.IsZero())
	assert.Empty(t, p.String())
	assert.Empty(t, p.Digits())
	assert.Empty(t, p.Masked())
}

func TestPhoneIsMaskedInLogs(t *testing.T) {
	p, err := user.ParsePhone("+998901234567")
	require.NoError(t, err)
	var buf bytes.Buffer
	slog.New(slog.NewJSONHandler(&buf, nil)).Info("code sent", "phone", p)
	assert.Contains(t, buf.String(), `"phone":"99890***4567"`)
	assert.NotContains(t, buf.String(), "901234567")
	// fmt is not a log: String stays the real number for storage and display.
	assert.Equal(t, "+998901234567", fmt.Sprint(p))
}
