package redis_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
	"github.com/ultramarket/gateway/test/testenv"
)

// The policy the app uses.
const (
	loginLimit  = 5
	loginWindow = 15 * time.Minute
	emailLimit  = 20
	emailWindow = time.Hour
)

var appPolicy = redis.LoginPolicy{
	ClientFailures: loginLimit, ClientWindow: loginWindow,
	EmailFailures: emailLimit, EmailWindow: emailWindow,
}

const (
	guardEmail  = "ann@ultramarket.uz"
	guardClient = "203.0.113.7"
)

func newGuard(t testing.TB) *redis.LoginGuard {
	t.Helper()
	c, prefix := testenv.Redis(t)
	return redis.NewLoginGuard(c, prefix, appPolicy)
}

// failTimes records n failures and returns the lockout of the last one.
func failTimes(t *testing.T, g *redis.LoginGuard, email, client string, n int) ports.Lockout {
	t.Helper()
	var d ports.Lockout
	for range n {
		var err error
		d, err = g.Fail(context.Background(), email, client)
		require.NoError(t, err)
	}
	return d
}

// assertLockedFor checks a lockout of the pair is the rest of a window that
// has just begun: at most the window, and not much less.
func assertLockedFor(t *testing.T, d ports.Lockout) {
	t.Helper()
	assert.LessOrEqual(t, d.RetryAfter, loginWindow)
	assert.Greater(t, d.RetryAfter, loginWindow-time.Minute)
	assert.Equal(t, loginLimit, d.Limit)
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
	assert.LessOrEqual(t, more.RetryAfter, d.RetryAfter)
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
		t.Run(name, func(t *testing.T) {
			d, err := g.Check(ctx, pair[0], pair[1])
			require.NoError(t, err, name)
			assert.Zero(t, d, name)
			d, err = g.Fail(ctx, pair[0], pair[1])
			require.NoError(t, err, name)
			assert.Zero(t, d, "%s: one failure of its own", name)
		})
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
	var d ports.Lockout
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
	a := redis.NewLoginGuard(c, prefix, appPolicy)
	b := redis.NewLoginGuard(c, prefix, appPolicy)

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
			if d.Locked() {
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
	a := redis.NewLoginGuard(c, prefix, appPolicy)
	b := redis.NewLoginGuard(c, prefix, appPolicy)

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
			if wait.Locked() {
				assert.LessOrEqual(t, wait.RetryAfter, 30*time.Second, "waits for the attempts in flight, not a window")
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
	assert.Positive(t, d.RetryAfter, "2 failures and 3 in flight use up the 5")
	assert.LessOrEqual(t, d.RetryAfter, 30*time.Second)
	assert.Equal(t, loginLimit, d.Limit)

	// One of them succeeds: failures forgotten, two still in flight.
	require.NoError(t, g.Reset(ctx, guardEmail, guardClient))
	for i := range loginLimit - 2 {
		d, err := g.Check(ctx, guardEmail, guardClient)
		require.NoError(t, err)
		require.Zero(t, d, "attempt %d after the reset", i+1)
	}
	d, err = g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assert.Positive(t, d.RetryAfter)

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
	require.Positive(t, d.RetryAfter)
	require.LessOrEqual(t, d.RetryAfter, 300*time.Millisecond)

	require.Eventually(t, func() bool {
		d, err := g.Check(ctx, guardEmail, guardClient)
		return err == nil && !d.Locked()
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
	assert.Positive(t, d.RetryAfter, "still only limit attempts at once")
}

// The keys hold hashes of the normalised email and pair, never the email,
// live under the prefix with their windows as expiries, and share the
// email's Cluster slot.
func TestLoginGuardKeyLayout(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	g := redis.NewLoginGuard(c, prefix, appPolicy)
	failTimes(t, g, " Ann@UltraMarket.uz ", guardClient, 1)

	e := sha256.Sum256([]byte(guardEmail))
	p := sha256.Sum256([]byte(guardEmail + "\x00" + guardClient))
	tag := hex.EncodeToString(e[:])
	key := prefix + "login_fail:{" + tag + "}:" + hex.EncodeToString(p[:])
	n, err := c.Get(ctx, key).Int()
	require.NoError(t, err)
	assert.Equal(t, 1, n)
	ttl, err := c.PTTL(ctx, key).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl, loginWindow)
	assert.Greater(t, ttl, loginWindow-time.Minute)

	emailKey := prefix + "login_email_fail:{" + tag + "}"
	card, err := c.ZCard(ctx, emailKey).Result()
	require.NoError(t, err)
	assert.EqualValues(t, 1, card)
	ttl, err = c.PTTL(ctx, emailKey).Result()
	require.NoError(t, err)
	assert.LessOrEqual(t, ttl, emailWindow)
	assert.Greater(t, ttl, emailWindow-time.Minute)

	// A Check reserves an attempt of the pair and of the email.
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	require.Zero(t, d)
	try := prefix + "login_try:{" + tag + "}:" + hex.EncodeToString(p[:])
	emailTry := prefix + "login_email_try:{" + tag + "}"
	for _, k := range []string{try, emailTry} {
		n, err = c.Get(ctx, k).Int()
		require.NoError(t, err, k)
		assert.Equal(t, 1, n, k)
		ttl, err = c.PTTL(ctx, k).Result()
		require.NoError(t, err)
		assert.Positive(t, ttl)
		assert.LessOrEqual(t, ttl, 30*time.Second)
	}
	for _, k := range []string{key, try, emailKey, emailTry} {
		assert.Equal(t, tag, hashTag(k), "Cluster hashes %s by the email", k)
	}

	for _, k := range testenv.RedisKeys(t, c, prefix) {
		assert.NotContains(t, strings.ToLower(k), "ann", "no key names the person")
	}
}

func TestLoginGuardWindowExpires(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	g := redis.NewLoginGuard(c, prefix, redis.LoginPolicy{
		ClientFailures: 2, ClientWindow: 300 * time.Millisecond, EmailFailures: emailLimit, EmailWindow: emailWindow,
	})
	_, err := g.Fail(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	d, err := g.Fail(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	require.Positive(t, d.RetryAfter)
	require.LessOrEqual(t, d.RetryAfter, 300*time.Millisecond)

	require.Eventually(t, func() bool {
		d, err := g.Check(ctx, guardEmail, guardClient)
		return err == nil && !d.Locked()
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
	g := redis.NewLoginGuard(c, prefix, appPolicy)
	require.NoError(t, c.Close())

	_, checkErr := g.Check(ctx, guardEmail, guardClient)
	_, failErr := g.Fail(ctx, guardEmail, guardClient)
	for name, err := range map[string]error{
		"check": checkErr,
		"fail":  failErr,
		"reset": g.Reset(ctx, guardEmail, guardClient),
	} {
		t.Run(name, func(t *testing.T) {
			assert.ErrorIs(t, err, domain.ErrUnavailable, name)
			// The error names the operation, not the person.
			assert.NotContains(t, err.Error(), "ann", name)
		})
	}
}

func TestLoginGuardRejectsBadPolicy(t *testing.T) {
	c, prefix := testenv.Redis(t)
	for _, bad := range []func(*redis.LoginPolicy){
		func(p *redis.LoginPolicy) { p.ClientFailures = 0 },
		func(p *redis.LoginPolicy) { p.ClientWindow = 0 },
		func(p *redis.LoginPolicy) { p.EmailFailures = 0 },
		func(p *redis.LoginPolicy) { p.EmailWindow = time.Microsecond },
	} {
		p := appPolicy
		bad(&p)
		assert.Panics(t, func() { redis.NewLoginGuard(c, prefix, p) }, "%+v", p)
	}
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

// Per email, failures from every client count together: at the email's
// limit every client is locked out, one that never failed included, until
// the oldest failure in the window ages out. Other emails are untouched, and
// a success from one client forgives only that client's failures.
func TestLoginGuardEmailCeilingAcrossClients(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	for i := range emailLimit {
		client := fmt.Sprintf("198.51.100.%d", i%10) // two failures each: no client reaches its own limit
		d, err := g.Check(ctx, guardEmail, client)
		require.NoError(t, err)
		require.Zero(t, d, "failure %d", i+1)
		d, err = g.Fail(ctx, guardEmail, client)
		require.NoError(t, err)
		if i < emailLimit-1 {
			require.Zero(t, d, "failure %d", i+1)
		} else {
			assertEmailLockedFor(t, d)
		}
	}
	for _, client := range []string{"198.51.100.0", "203.0.113.99", "2001:db8::/64"} {
		d, err := g.Check(ctx, guardEmail, client)
		require.NoError(t, err)
		assertEmailLockedFor(t, d)
	}
	require.NoError(t, g.Reset(ctx, guardEmail, "198.51.100.0"))
	d, err := g.Check(ctx, guardEmail, "198.51.100.0")
	require.NoError(t, err)
	assertEmailLockedFor(t, d)

	d, err = g.Check(ctx, "bob@ultramarket.uz", "198.51.100.0")
	require.NoError(t, err)
	assert.Zero(t, d, "another email")
}

// The per-client rule still applies below the email's limit.
func TestLoginGuardClientLimitBelowTheEmailCeiling(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	assertLockedFor(t, failTimes(t, g, guardEmail, guardClient, loginLimit))
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assertLockedFor(t, d)
	d, err = g.Check(ctx, guardEmail, "198.51.100.1")
	require.NoError(t, err)
	assert.Zero(t, d, "5 of the email's 20 are used")
}

// Both limits reached: the later end is the lockout, as both must pass.
func TestLoginGuardBothLimitsTheLaterEndWins(t *testing.T) {
	ctx := context.Background()
	g := newGuard(t)
	for i := range emailLimit - loginLimit {
		failTimes(t, g, guardEmail, fmt.Sprintf("198.51.100.%d", i), 1)
	}
	d := failTimes(t, g, guardEmail, guardClient, loginLimit) // the pair's 5th is the email's 20th
	assertEmailLockedFor(t, d)
	d, err := g.Check(ctx, guardEmail, guardClient)
	require.NoError(t, err)
	assertEmailLockedFor(t, d)
}

// The email's window slides: each failure counts for one window from when it
// happened, so a locked-out email gets one attempt back when its oldest
// failure ages out, not a whole new budget.
func TestLoginGuardEmailWindowSlides(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	const window = time.Second
	g := redis.NewLoginGuard(c, prefix, redis.LoginPolicy{
		ClientFailures: loginLimit, ClientWindow: loginWindow, EmailFailures: 2, EmailWindow: window,
	})
	_, err := g.Fail(ctx, guardEmail, "198.51.100.1")
	require.NoError(t, err)
	firstDone := time.Now() // after the first failure was recorded
	time.Sleep(window / 2)
	secondStart := time.Now() // before the second is
	d, err := g.Fail(ctx, guardEmail, "198.51.100.2")
	require.NoError(t, err)
	require.True(t, d.Locked())
	assert.Equal(t, 2, d.Limit)
	// At least secondStart-firstDone passed between the two; a millisecond of
	// slack for Redis's millisecond clock.
	assert.LessOrEqual(t, d.RetryAfter, window-secondStart.Sub(firstDone)+time.Millisecond,
		"until the first failure is a window old, not a window from now")

	// The first failure ages out: one attempt back, while the second still counts.
	require.Eventually(t, func() bool {
		d, err := g.Check(ctx, guardEmail, "198.51.100.3")
		return err == nil && !d.Locked()
	}, 3*window, 20*time.Millisecond)
	d, err = g.Check(ctx, guardEmail, "198.51.100.4")
	require.NoError(t, err)
	assert.True(t, d.Locked(), "one free slot, and the attempt let through holds it")
	d, err = g.Fail(ctx, guardEmail, "198.51.100.3")
	require.NoError(t, err)
	assert.True(t, d.Locked(), "back at the limit")
	assert.Less(t, d.RetryAfter, window, "until the second failure ages out")
}

// A burst of guesses for one email from many clients at once, across two
// instances: at most the email's limit of them get past Check.
func TestLoginGuardEmailBurstChecksAtMostTheLimit(t *testing.T) {
	ctx := context.Background()
	c, prefix := testenv.Redis(t)
	a := redis.NewLoginGuard(c, prefix, appPolicy)
	b := redis.NewLoginGuard(c, prefix, appPolicy)

	const burst = 3 * emailLimit
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
		client := fmt.Sprintf("198.51.%d.%d", i/200, i%200) // a client of its own each
		wg.Go(func() {
			<-start
			wait, err := g.Check(ctx, guardEmail, client)
			if !assert.NoError(t, err) || wait.Locked() {
				return
			}
			mu.Lock()
			checked++
			mu.Unlock()
			time.Sleep(20 * time.Millisecond) // the password hash
			_, err = g.Fail(ctx, guardEmail, client)
			assert.NoError(t, err)
		})
	}
	close(start)
	wg.Wait()
	assert.Equal(t, emailLimit, checked)

	d, err := a.Check(ctx, guardEmail, "203.0.113.200")
	require.NoError(t, err)
	assertEmailLockedFor(t, d)
}

// assertEmailLockedFor checks a lockout by the email's limit, its window just
// begun.
func assertEmailLockedFor(t *testing.T, d ports.Lockout) {
	t.Helper()
	assert.Equal(t, emailLimit, d.Limit)
	assert.LessOrEqual(t, d.RetryAfter, emailWindow)
	assert.Greater(t, d.RetryAfter, emailWindow-time.Minute)
}
