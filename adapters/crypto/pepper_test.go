package crypto_test

import (
	"encoding/hex"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/crypto"
)

func TestDerivePepper(t *testing.T) {
	secret := []byte("a-jwt-secret-of-at-least-32-bytes!!")
	a, err := crypto.DerivePepper(secret, "ultramarket/otp-pepper/v1")
	require.NoError(t, err)
	assert.Len(t, a, crypto.PepperBytes)
	again, err := crypto.DerivePepper(secret, "ultramarket/otp-pepper/v1")
	require.NoError(t, err)
	assert.Equal(t, a, again, "the same on every instance and restart")

	other, err := crypto.DerivePepper(secret, "ultramarket/otp-pepper/v2")
	require.NoError(t, err)
	assert.NotEqual(t, a, other, "another purpose, another key")
	assert.NotContains(t, hex.EncodeToString(a), hex.EncodeToString(secret[:8]), "not the secret itself")

	_, err = crypto.DerivePepper(secret, "")
	require.Error(t, err)
	_, err = crypto.DerivePepper(nil, "x")
	require.Error(t, err)
}
