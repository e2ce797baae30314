package config_test

import (
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func TestOrderMaxUnpaid(t *testing.T) {
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, 5, c.OrderMaxUnpaid, "the default")

	c, err = config.Load(env(map[string]string{"ORDER_MAX_UNPAID": " 12 "}))
	require.NoError(t, err)
	assert.Equal(t, 12, c.OrderMaxUnpaid)

	for _, bad := range []string{"0", "-1", "five", "", "2.5"} {
		_, err := config.Load(env(map[string]string{"ORDER_MAX_UNPAID": bad}))
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "ORDER_MAX_UNPAID", "%q", bad)
	}
}

func TestPaymentReturnHosts(t *testing.T) {
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Equal(t, []string{"localhost"}, c.PaymentReturnHosts, "by default the hosts of CORS_ORIGINS")

	c, err = config.Load(env(map[string]string{
		"CORS_ORIGINS": "https://ultramarket.uz,https://www.ultramarket.uz:8443,https://ultramarket.uz/",
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"ultramarket.uz", "www.ultramarket.uz"}, c.PaymentReturnHosts, "ports dropped, duplicates once")

	c, err = config.Load(env(map[string]string{"CORS_ORIGINS": "*"}))
	require.NoError(t, err)
	assert.Empty(t, c.PaymentReturnHosts, "any origin is no host to redirect to")

	c, err = config.Load(env(map[string]string{
		"CORS_ORIGINS": "https://ultramarket.uz", "PAYMENT_RETURN_HOSTS": " Shop.UltraMarket.uz. , pay-1.example.uz,127.0.0.1,[::1], shop.ultramarket.uz",
	}))
	require.NoError(t, err)
	assert.Equal(t, []string{"shop.ultramarket.uz", "pay-1.example.uz", "127.0.0.1", "::1"}, c.PaymentReturnHosts,
		"set: replaces the default; lower case, no trailing dot")

	c, err = config.Load(env(map[string]string{"PAYMENT_RETURN_HOSTS": ""}))
	require.NoError(t, err)
	assert.Empty(t, c.PaymentReturnHosts, "set empty: no return_url is accepted")

	for _, bad := range []string{
		"https://shop.ultramarket.uz", "shop.ultramarket.uz:443", "*.ultramarket.uz", "shop.ultramarket.uz/pay",
		"-shop.uz", "shop..uz", "shop_1.uz", "user@shop.uz",
	} {
		_, err := config.Load(env(map[string]string{"PAYMENT_RETURN_HOSTS": "ultramarket.uz," + bad}))
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "PAYMENT_RETURN_HOSTS", "%q", bad)
	}
}

func TestCatalogCacheTTL(t *testing.T) {
	c, err := config.Load(env(nil))
	require.NoError(t, err)
	assert.Zero(t, c.CatalogCacheTTL, "off by default")

	for v, want := range map[string]time.Duration{"1s": time.Second, " 250ms ": 250 * time.Millisecond, "0": 0, "off": 0, "1m": time.Minute} {
		c, err = config.Load(env(map[string]string{"CATALOG_CACHE_TTL": v}))
		require.NoError(t, err, "%q", v)
		assert.Equal(t, want, c.CatalogCacheTTL, "%q", v)
	}
	for _, bad := range []string{"-1s", "soon", "2m", "1"} {
		_, err := config.Load(env(map[string]string{"CATALOG_CACHE_TTL": bad}))
		require.Error(t, err, "%q", bad)
		assert.Contains(t, err.Error(), "CATALOG_CACHE_TTL", "%q", bad)
	}
}
