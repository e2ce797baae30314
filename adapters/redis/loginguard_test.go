package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/test/testenv"
)

// The policy the app uses.
const (
	loginLimit  = 5
	loginWindow = 15 * time.Minute
)

const (
	guardEmail  = "ann@ultramarket.uz"
	guardClient = "203.0.113.7"
)

func newGuard(t testing.TB) *redis.LoginGuard {
	t.Helper()
	c, prefix := testenv.Redis(t)
	return redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)
}

// failTimes records n failures and returns the lockout of the last one.
func failTimes(t *testing.T, g *redis.LoginGuard, email, client string, n int) time.Duration {
	t.Helper()
	var d time.Duration
	for range n {
		var err error
		d, err = g.Fail(context.Background(), email, client)
		require.NoError(t, err)
	}
	return d
}

// assertLockedFor checks a lockout is the rest of a window that has just
// begun: at most the window, and not much less.
func assertLockedFor(t *testing.T, d time.Duration) {
	t.Helper()
	assert.LessOrEqual(t, d, loginWindow)
	assert.Greater(t, d, loginWindow-time.Minute)
}

func TestLoginGuardLocksOutAtTheLimit(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)

	for i := 1; i < loginLimit; i++ {
		d, err := g.Fail(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		assert.Zero(t, d, "failure %d must not lock out", i)
		d, err = g.Check(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		assert.Zero(t, d, "after failure %d", i)
	}

	d, err := g.Fail(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assertLockedFor(t, d)

	d, err = g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assertLockedFor(t, d)

	// Failing on while locked out does not move the end of the window.
	more := failTimes(t, g, guardEmail, guardClient, 3)
	assert.LessOrEqual(t, more, d)
}

func TestLoginGuardCountsPerEmailAndClient(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	require.NotZero(t, failTimes(t, g, guardEmail, guardClient, loginLimit))

	for name, pair := range map[string][2]string{
		"other client": {guardEmail, "198.51.100.9"},
		"other email":  {"bob@ultramarket.uz", guardClient},
		// The separator keeps the parts apart.
		"shifted boundary": {guardEmail + "2", "03.0.113.7"},
	} {
		d, err := g.Check(ctx, pair[0], pair[1])
		require.NoError(t, err, name)
		assert.Zero(t, d, name)
		d, err = g.Fail(ctx, pair[0], pair[1])
		require.NoError(t, err, name)
		assert.Zero(t, d, "%s: one failure of its own", name)
	}
}

func TestLoginGuardResetClears(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	require.NotZero(t, failTimes(t, g, guardEmail, guardClient, loginLimit))

	require.NoError(t, g.Reset(ctx, guardEmail, guardClient))
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assert.Zero(t, d)
	// A fresh window: it takes the full limit again.
	assert.Zero(t, failTimes(t, g, guardEmail, guardClient, loginLimit-1))

	// Resetting a pair with no failures is fine.
	require.NoError(t, g.Reset(ctx, "nobody@ultramarket.uz", guardClient))
}

func TestLoginGuardNormalisesEmail(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	variants := []string{guardEmail, "Ann@UltraMarket.UZ", "  ann@ultramarket.uz", "ANN@ULTRAMARKET.UZ\t"}
	var d time.Duration
	for i := range loginLimit {
		var err error
		d, err = g.Fail(ctx, variants[i%len(variants)], guardClient)
		require.NoError(t, err)
	}
	assertLockedFor(t, d)
	for _, v := range variants {
		d, err := g.Check(ctx, v, guardClient)
		require.NoError(t, err)
		assertLockedFor(t, d)
	}
}

// Two gateway instances (two guards on one Redis and prefix) see one count,
// also when the failures race.
func TestLoginGuardSharedAcrossInstances(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	a := redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)
	b := redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)

	assert.Zero(t, failTimes(t, a, guardEmail, guardClient, 2))
	assert.Zero(t, failTimes(t, b, guardEmail, guardClient, 2))
	assertLockedFor(t, failTimes(t, a, guardEmail, guardClient, 1))
	d, err := b.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assertLockedFor(t, d)

	// Concurrent failures: exactly the ones from the limit on lock out.
	const other = "198.51.100.9"
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		lockout int
	)
	for i := range 2 * loginLimit {
		g := a
		if i%2 == 1 {
			g = b
		}
		wg.Go(func() {
			d, err := g.Fail(ctx, guardEmail, other)
			assert.NoError(t, err)
			if d > 0 {
				mu.Lock()
				lockout++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	assert.Equal(t, loginLimit+1, lockout, "failures %d..%d lock out", loginLimit, 2*loginLimit)
}

// A burst of concurrent logins for one pair, across two instances: at most
// limit of them get past Check (and so have a password checked); the others
// are told to wait. Once the checked ones fail, the pair is locked out.
func TestLoginGuardBurstChecksAtMostTheLimit(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	a := redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)
	b := redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)

	const burst = 4 * loginLimit
	start := make(chan struct{})
	var (
		wg      sync.WaitGroup
		mu      sync.Mutex
		checked int
	)
	for i := range burst {
		g := a
		if i%2 == 1 {
			g = b
		}
		wg.Go(func() {
			<-start
			wait, err := g.Check(ctx, guardEmail, guardClient)
			if !assert.NoError(t, err) {
				return
			}
			if wait > 0 {
				assert.LessOrEqual(t, wait, 30*time.Second, "waits for the attempts in flight, not a window")
				return
			}
			mu.Lock()
			checked++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // the password hash
			_, err = g.Fail(ctx, guardEmail, guardClient)
			assert.NoError(t, err)
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, loginLimit, checked)

	d, err := a.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assertLockedFor(t, d)
}

// A reservation holds its attempt until it is settled: with limit logins in
// flight the next one waits; a success (Reset) or failure frees the slot.
func TestLoginGuardReservesAttemptsInFlight(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	assert.Zero(t, failTimes(t, g, guardEmail, guardClient, 2))
	for i := range loginLimit - 2 {
		d, err := g.Check(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		require.Zero(t, d, "attempt %d", i+1)
	}
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assert.Positive(t, d, "2 failures and 3 in flight use up the 5")
	assert.LessOrEqual(t, d, 30*time.Second)

	// One of them succeeds: failures forgotten, two still in flight.
	require.NoError(t, g.Reset(ctx, guardEmail, guardClient))
	for i := range loginLimit - 2 {
		d, err := g.Check(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		require.Zero(t, d, "attempt %d after the reset", i+1)
	}
	d, err = g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assert.Positive(t, d)

	// Each failure settles its own reservation: the fifth locks out for the window.
	for range loginLimit - 1 {
		d, err := g.Fail(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		require.Zero(t, d)
	}
	assertLockedFor(t, failTimes(t, g, guardEmail, guardClient, 1))
}

// An attempt that is never settled (the login errored after Check) gives its
// slot back once the pair has been quiet for the reservation's lifetime.
func TestLoginGuardUnsettledAttemptsExpire(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	redis.SetLoginAttemptTTL(g, 300*time.Millisecond)
	for range loginLimit {
		d, err := g.Check(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		require.Zero(t, d)
	}
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	require.Positive(t, d)
	require.LessOrEqual(t, d, 300*time.Millisecond)

	require.Eventually(t, func() bool {
		d, err := g.Check(ctx, guardEmail, guardClient)
		return err == nil && d == 0
	}, 2*time.Second, 20*time.Millisecond)
}

// Settling what was never reserved (a Fail or Reset without a Check, or after
// the reservation expired) gives no credit: the in-flight count never goes
// below zero.
func TestLoginGuardSettlingWithoutCheckGivesNoCredit(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	for range 3 {
		require.NoError(t, g.Reset(ctx, guardEmail, guardClient))
	}
	for range loginLimit {
		d, err := g.Check(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		require.Zero(t, d)
	}
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assert.Positive(t, d, "still only limit attempts at once")
}

// The key holds a hash of the normalised pair, never the email, and lives
// under the prefix with the window as its expiry.
func TestLoginGuardKeyLayout(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	g := redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)
	failTimes(t, g, " Ann@UltraMarket.uz ", guardClient, 1)

	sum := sha256.Sum256([]byte(guardEmail + "\x00" + guardClient))
	key := prefix + "login_fail:" + hex.EncodeToString(sum[:])
	n, err := c.Get(ctx, key).Int()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ttl, err := c.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assertLockedFor(t, ttl)

	// A Check reserves an attempt under a key in the same Cluster slot.
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	require.Zero(t, d)
	try := prefix + "login_try:{" + key + "}"
	n, err = c.Get(ctx, try).Int()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ttl, err = c.PTTL(ctx, try).Result()
	require.NoError(t, err)
	assert.Positive(t, ttl)
	assert.LessOrEqual(t, ttl, 30*time.Second)
	assert.Equal(t, key, hashTag(try), "Cluster hashes the in-flight key as the fail key")
	assert.Equal(t, key, hashTag(key))

	it := c.Scan(ctx, 0, prefix+"*", 100).Iterator()
	for it.Next(ctx) {
		assert.NotContains(t, strings.ToLower(it.Val()), "ann", "no key names the person")
	}
	require.NoError(t, it.Err())
}

func TestLoginGuardWindowExpires(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	g := redis.NewLoginGuard(c, prefix, 2, 300*time.Millisecond)
	_, err := g.Fail(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	d, err := g.Fail(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	require.Positive(t, d)
	require.LessOrEqual(t, d, 300*time.Millisecond)

	require.Eventually(t, func() bool {
		d, err := g.Check(ctx, guardEmail, guardClient)
		return err == nil && d == 0
	}, 2*time.Second, 20*time.Millisecond)
	d, err = g.Fail(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assert.Zero(t, d, "a new window starts at the next failure")
}

// Fails closed: a guard that cannot reach Redis reports ErrUnavailable, so
// the login is refused rather than let through unguarded.
func TestLoginGuardUnavailable(t *testing.T) {
	ctx := context.Background()
	_, prefix := testenv.Redis(t)
	c, err := redis.Open(testenv.RedisURL())
	require.NoError(t, err)
	g := redis.NewLoginGuard(c, prefix, loginLimit, loginWindow)
	require.NoError(t, c.Close())

	_, checkErr := g.Check(ctx, guardEmail, guardClient)
	_, failErr := g.Fail(ctx, guardEmail, guardClient)
	for name, err := range map[string]error{
		"check": checkErr,
		"fail":  failErr,
		"reset": g.Reset(ctx, guardEmail, guardClient),
	} {
		assert.ErrorIs(t, err, domain.ErrUnavailable, name)
		// The error names the operation, not the person.
		assert.NotContains(t, err.Error(), "ann", name)
	}
}

func TestLoginGuardRejectsBadPolicy(t *testing.T) {
	c, prefix := testenv.Redis(t)
	assert.Panics(t, func() { redis.NewLoginGuard(c, prefix, 0, loginWindow) })
	assert.Panics(t, func() { redis.NewLoginGuard(c, prefix, loginLimit, 0) })
}

// hashTag is what Redis Cluster hashes to pick a key's slot: the part between
// the first "{" and the next "}" when that is not empty, else the whole key.
func hashTag(key string) string {
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			return key[i+1 : i+1+j]
		}
	}
	return key
}
