package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func TestFiscalSettings(t *testing.T) {
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.False(t, c.FiscalRequired, "off outside production")
	assert.Empty(t, c.ClickAPIURL, "Click Merchant API off outside production")
	assert.Equal(t, 20, c.ClickFiscalMaxTries)

	c, err = config.Load(env(prodEnv()))
	require.NoError(t, err)
	assert.True(t, c.FiscalRequired, "on in production")
	assert.Equal(t, "https://api.click.uz/v2/merchant", c.ClickAPIURL)

	c, err = config.Load(env(map[string]string{"FISCAL_REQUIRED": "true", "CLICK_API_URL": "http://127.0.0.1:9/v2/merchant/",
		"CLICK_FISCAL_MAX_TRIES": "3"}))
	require.NoError(t, err)
	assert.True(t, c.FiscalRequired)
	assert.Equal(t, "http://127.0.0.1:9/v2/merchant", c.ClickAPIURL)
	assert.Equal(t, 3, c.ClickFiscalMaxTries)

	for name, v := range map[string]string{"FISCAL_REQUIRED": "maybe", "CLICK_API_URL": "ftp://x", "CLICK_FISCAL_MAX_TRIES": "0"} {
		_, err := config.Load(env(map[string]string{name: v}))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
	}
}
