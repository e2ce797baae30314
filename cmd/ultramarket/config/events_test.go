package config_test

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/cmd/ultramarket/config"
)

func TestEventsOffByDefault(t *testing.T) {
	for _, e := range []map[string]string{nil, prodEnv()} {
		c, err := config.Load(env(e))
		require.NoError(t, err)
		assert.Empty(t, c.EventsURL, "events are off until EVENTS_URL is set")
		assert.Equal(t, "ULTRAMARKET", c.EventsStream)
	}
}

func TestEventsURLAndStream(t *testing.T) {
	c, err := config.Load(env(map[string]string{"EVENTS_URL": " nats://ops:pw@nats-1:4222,nats://nats-2:4222 ",
		"EVENTS_STREAM": "MARKET_EVENTS"}))
	require.NoError(t, err)
	assert.Equal(t, "nats://ops:pw@nats-1:4222,nats://nats-2:4222", c.EventsURL)
	assert.Equal(t, "MARKET_EVENTS", c.EventsStream)
}

func TestEventsBadValuesNameTheVariableNotTheSecret(t *testing.T) {
	for name, value := range map[string]string{
		"EVENTS_URL":    "http://ops:hunter2@nats:4222",
		"EVENTS_STREAM": "ultramarket.events",
	} {
		_, err := config.Load(env(map[string]string{name: value}))
		require.Error(t, err, name)
		assert.Contains(t, err.Error(), name)
		assert.NotContains(t, err.Error(), "hunter2")
	}
	for _, bad := range []string{"nats://", "::nope", "nats://a:4222,"} {
		_, err := config.Load(env(map[string]string{"EVENTS_URL": bad}))
		assert.ErrorContains(t, err, "EVENTS_URL", bad)
	}
	_, err := config.Load(env(map[string]string{"EVENTS_STREAM": ""}))
	assert.ErrorContains(t, err, "EVENTS_STREAM")
}
