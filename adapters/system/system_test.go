package system_test

import (
	"testing"
	"time"

	"github.com/google/uuid"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/system"
	"github.com/ultramarket/gateway/ports"
)

var (
	_ ports.Clock       = system.Clock{}
	_ ports.IDGenerator = system.UUIDs{}
)

func TestClockIsUTC(t *testing.T) {
	now := system.Clock{}.Now()
	assert.Equal(t, time.UTC, now.Location())
	assert.WithinDuration(t, time.Now(), now, time.Second)
}

func TestUUIDsAreUniqueV4(t *testing.T) {
	seen := map[string]bool{}
	for i := 0; i < 1000; i++ {
		id := system.UUIDs{}.NewID()
		u, err := uuid.Parse(id)
		require.NoError(t, err)
		assert.Equal(t, uuid.Version(4), u.Version())
		assert.False(t, seen[id], "duplicate id")
		seen[id] = true
	}
}
