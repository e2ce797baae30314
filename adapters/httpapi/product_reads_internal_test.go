package httpapi

import (
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/ultramarket/gateway/test/testsupport"
)

// The cache holds at most maxCachedBytes of bodies (and maxCachedReads
// entries): past that an answer is not kept, until expired entries make room.
func TestReadCache_IsBoundedInBytes(t *testing.T) {
	clock := testsupport.NewClock(time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC))
	rc := newReadCache(time.Second, clock)
	body := make([]byte, 1<<20)
	for i := range maxCachedBytes >> 20 {
		rc.put("k"+strconv.Itoa(i), clock.Now(), body, `"e"`)
	}
	assert.Equal(t, maxCachedBytes, rc.bytes)
	rc.put("over", clock.Now(), body, `"e"`)
	_, ok := rc.get("over")
	assert.False(t, ok, "not kept: the cache is full")

	// Replacing an entry by one of the same size fits.
	rc.put("k0", clock.Now(), body, `"e2"`)
	e, ok := rc.get("k0")
	assert.True(t, ok)
	assert.Equal(t, `"e2"`, e.etag)

	clock.Advance(time.Second) // everything expired: the next put sweeps
	rc.put("over", clock.Now(), body, `"e"`)
	_, ok = rc.get("over")
	assert.True(t, ok)
	assert.Equal(t, 1<<20, rc.bytes)
	assert.Len(t, rc.entries, 1)

	rc.purge()
	assert.Zero(t, rc.bytes)
}
