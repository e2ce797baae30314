package config_test

import (
	"testing"

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
