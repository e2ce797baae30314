package redis_test

import (
	"context"
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/test/testenv"
)

func newLimiter(t testing.TB) *redis.RateLimiter {
	t.Helper()
	c, prefix := testenv.Redis(t)
	return redis.NewRateLimiter(c, prefix)
}

// allowN takes n requests and fails the test unless every one is allowed.
func allowN(t *testing.T, l *redis.RateLimiter, key string, n, limit int, per time.Duration) redis.Decision {
	t.Helper()
	var d redis.Decision
	for i := range n {
		var err error
		d, err = l.Allow(context.Background(), key, limit, per)
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d of %d", i+1, limit)
	}
	return d
}

func TestRateLimitBurstThenRefuse(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t)
	const limit, per = 10, 15 * time.Minute

	prev := limit
	for i := range limit {
		d, err := l.Allow(ctx, "auth:203.0.113.7", limit, per)
		require.NoError(t, err)
		require.True(t, d.Allowed, "request %d", i+1)
		assert.Equal(t, limit, d.Limit)
		assert.Less(t, d.Remaining, prev, "remaining goes down")
		prev = d.Remaining
		assert.Zero(t, d.RetryAfter)
		assert.Positive(t, d.ResetAfter)
		assert.LessOrEqual(t, d.ResetAfter, per)
	}
	assert.Zero(t, prev, "the burst is spent")

	d, err := l.Allow(ctx, "auth:203.0.113.7", limit, per)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Zero(t, d.Remaining)
	// One request comes back every per/limit (90 s here).
	assert.Positive(t, d.RetryAfter)
	assert.LessOrEqual(t, d.RetryAfter, per/limit)
	assert.Greater(t, d.RetryAfter, per/limit-5*time.Second)
	assert.Greater(t, d.ResetAfter, per-5*time.Second)
	assert.LessOrEqual(t, d.ResetAfter, per)

	// A refused request costs nothing: still refused, no later than before.
	again, err := l.Allow(ctx, "auth:203.0.113.7", limit, per)
	require.NoError(t, err)
	assert.False(t, again.Allowed)
	assert.LessOrEqual(t, again.RetryAfter, d.RetryAfter)
}

// Remaining counts down exactly, also where the emission interval per/limit
// has no exact binary form (60s/1000, the default API policy, and 1h/1000,
// which drifts less while the test runs).
func TestRateLimitRemainingIsExact(t *testing.T) {
	l := newLimiter(t)
	for _, p := range []struct {
		limit int
		per   time.Duration
	}{{1000, time.Minute}, {1000, time.Hour}, {100, 15 * time.Minute}, {3, time.Minute}, {7, 7 * time.Hour}} {
		t.Run(fmt.Sprintf("%d per %s", p.limit, p.per), func(t *testing.T) {
			key := "api:exact-" + strconv.Itoa(p.limit) + "-" + p.per.String()
			for i := 1; i <= 3; i++ {
				d, err := l.Allow(context.Background(), key, p.limit, p.per)
				require.NoError(t, err)
				require.True(t, d.Allowed)
				assert.Equal(t, p.limit-i, d.Remaining, "%d per %s, request %d", p.limit, p.per, i)
			}
		})
	}
}

// The policy from the brief: 100 per 15 minutes is a burst of 100.
func TestRateLimitDefaultAuthPolicyBurst(t *testing.T) {
	l := newLimiter(t)
	allowN(t, l, "auth:198.51.100.1", 100, 100, 15*time.Minute)
	d, err := l.Allow(context.Background(), "auth:198.51.100.1", 100, 15*time.Minute)
	require.NoError(t, err)
	assert.False(t, d.Allowed)
	assert.Greater(t, d.RetryAfter, 8*time.Second) // 15m/100 = 9 s per request
}

func TestRateLimitKeysAreIndependent(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t)
	allowN(t, l, "api:203.0.113.7", 3, 3, time.Minute)

	d, err := l.Allow(ctx, "api:203.0.113.7", 3, time.Minute)
	require.NoError(t, err)
	require.False(t, d.Allowed)
	for _, key := range []string{"api:203.0.113.8", "auth:203.0.113.7"} {
		d, err := l.Allow(ctx, key, 3, time.Minute)
		require.NoError(t, err)
		assert.True(t, d.Allowed, key)
		assert.Equal(t, 2, d.Remaining, key)
	}
}

// Two instances on one Redis and prefix share one budget, also when they race
// for it: exactly limit requests get through.
func TestRateLimitSharedAcrossInstances(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	a, b := redis.NewRateLimiter(c, prefix), redis.NewRateLimiter(c, prefix)
	allowN(t, a, "api:k1", 2, 4, time.Hour)
	allowN(t, b, "api:k1", 2, 4, time.Hour)
	d, err := a.Allow(ctx, "api:k1", 4, time.Hour)
	require.NoError(t, err)
	assert.False(t, d.Allowed, "b spent the rest of a's budget")

	const limit = 20
	var (
		wg      sync.WaitGroup
		allowed atomic.Int32
	)
	for i := range 3 * limit {
		l := a
		if i%2 == 1 {
			l = b
		}
		wg.Go(func() {
			d, err := l.Allow(ctx, "api:race", limit, time.Hour)
			assert.NoError(t, err)
			if d.Allowed {
				allowed.Add(1)
			}
		})
	}
	wg.Wait()
	assert.EqualValues(t, limit, allowed.Load())
}

// The budget comes back at the rate, one request every per/limit.
func TestRateLimitRefills(t *testing.T) {
	ctx := context.Background()
	l := newLimiter(t)
	const limit, per = 2, 400 * time.Millisecond
	allowN(t, l, "api:refill", limit, limit, per)
	d, err := l.Allow(ctx, "api:refill", limit, per)
	require.NoError(t, err)
	require.False(t, d.Allowed)
	time.Sleep(d.RetryAfter + 20*time.Millisecond)
	d, err = l.Allow(ctx, "api:refill", limit, per)
	require.NoError(t, err)
	assert.True(t, d.Allowed)
}

// Keys live under the prefix (redis_rate's own "rate:" follows it), expire
// when the budget is full again, and nothing is written outside the prefix.
func TestRateLimitKeyLayout(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	l := redis.NewRateLimiter(c, prefix)
	_, err := l.Allow(ctx, "api:203.0.113.7", 10, time.Minute)
	require.NoError(t, err)

	ttl, err := c.TTL(ctx, prefix+"rate:api:203.0.113.7").Result()
	require.NoError(t, err)
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, 7*time.Second, "one request of 10/min refills in 6 s")
	for _, k := range []string{"rate:api:203.0.113.7", "rate:" + prefix + "api:203.0.113.7"} {
		// One key per EXISTS: on a Cluster the two may live in different slots.
		n, err := c.Exists(ctx, k).Result()
		require.NoError(t, err)
		assert.Zero(t, n, "no key outside the prefix")
	}
}

func TestRateLimitBadPolicy(t *testing.T) {
	l := newLimiter(t)
	for _, p := range []struct {
		n   int
		per time.Duration
	}{{0, time.Minute}, {-1, time.Minute}, {10, 0}} {
		t.Run(fmt.Sprintf("%d per %s", p.n, p.per), func(t *testing.T) {
			_, err := l.Allow(context.Background(), "api:x", p.n, p.per)
			require.Error(t, err)
			assert.NotErrorIs(t, err, domain.ErrUnavailable, "a bad policy is a bug, not an outage")
		})
	}
}

func TestRateLimitUnavailable(t *testing.T) {
	_, prefix := testenv.Redis(t)
	c, err := redis.Open(testenv.RedisURL())
	require.NoError(t, err)
	l := redis.NewRateLimiter(c, prefix)
	require.NoError(t, c.Close())
	_, err = l.Allow(context.Background(), "api:x", 10, time.Minute)
	assert.ErrorIs(t, err, domain.ErrUnavailable)

	down, err := redis.Open("redis://127.0.0.1:1/0") // nothing listens on port 1
	require.NoError(t, err)
	t.Cleanup(func() { _ = down.Close() })
	_, err = redis.NewRateLimiter(down, prefix).Allow(context.Background(), "api:x", 10, time.Minute)
	assert.ErrorIs(t, err, domain.ErrUnavailable)
}

// BenchmarkRateLimitAllow measures one Allow (one EVALSHA round trip) on the
// test Redis, from parallel goroutines over many client keys as the edge
// calls it. The policy is generous so every call is allowed and writes.
func BenchmarkRateLimitAllow(b *testing.B) {
	l := newLimiter(b)
	ctx := context.Background()
	var next atomic.Int64
	b.ReportAllocs()
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		key := "api:bench-" + strconv.FormatInt(next.Add(1), 10)
		for pb.Next() {
			if _, err := l.Allow(ctx, key, 1_000_000_000, time.Minute); err != nil {
				b.Error(err)
				return
			}
		}
	})
}
