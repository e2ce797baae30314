package redis

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/ports"
)

// Layout (every key starts with the guard's prefix):
//
//	{prefix}login_fail:{sha256 hex}  string, the number of failed logins of one
//	                                 (email, client) pair; expires one window
//	                                 after the pair's first failure
//	{prefix}login_try:{<fail key>}   string, the pair's logins in flight: past
//	                                 Check, not yet Fail or Reset; expires
//	                                 attemptTTL after the latest Check
//
// The keys hold a hash of the pair, not the email: emails are personal data
// that has no business in a cache's key space (or its SCAN output, or a
// MONITOR session), and an email can be long enough to bloat every key.
//
// The in-flight key names the fail key as its Redis Cluster hash tag, so the
// two always live in one slot and each script below can touch both
// atomically, while the fail key keeps its plain name. (A prefix holding a
// hash tag of its own works too: its tag is then the first in both keys.)

// attemptTTL bounds how long a reservation that is never settled (the login
// errored or was refused for another reason after Check) holds one of the
// pair's attempts. It must outlast a slow login (a password hash under load),
// or a burst could slip in extra guesses while the first ones are still being
// checked. Every new reservation extends it, so it only runs out once the
// pair has been quiet that long.
const attemptTTL = 30 * time.Second

// checkScript answers Check and reserves the attempt it lets through.
// Counting only settled failures would let a burst of concurrent guesses all
// pass Check before the first Fail lands (a password hash takes a while), so
// an attacker could try hundreds of passwords in one volley. Reserving makes
// failures plus attempts in flight never exceed the limit.
//
// KEYS: fail key, in-flight key. ARGV: limit, window ms, attemptTTL ms.
// Returns 0 (let through, one attempt reserved) or the wait in ms.
var checkScript = goredis.NewScript(`
local limit = tonumber(ARGV[1])
local fails = tonumber(redis.call('GET', KEYS[1]) or '0')
if fails >= limit then
	local ttl = redis.call('PTTL', KEYS[1])
	if ttl < 0 then
		-- A counter without an expiry would lock the pair out for good;
		-- Fail never leaves one, but give it its window rather than trust that.
		redis.call('PEXPIRE', KEYS[1], ARGV[2])
		ttl = tonumber(ARGV[2])
	end
	return math.max(ttl, 1)
end
local inflight = tonumber(redis.call('GET', KEYS[2]) or '0')
if fails + inflight >= limit then
	-- Every guess left in the window is being checked right now: wait for
	-- them (they end in a lockout or a success, or their reservations expire).
	return math.max(redis.call('PTTL', KEYS[2]), 1)
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return 0
`)

// releaseLua settles one reservation. Guarded so a Fail or Reset without a
// Check, or after its reservation expired, never drives the count negative.
const releaseLua = `
local inflight = tonumber(redis.call('GET', KEYS[2]) or '0')
if inflight > 1 then
	redis.call('DECR', KEYS[2])
else
	redis.call('DEL', KEYS[2])
end
`

// failScript settles a reservation as a failure and starts the window on the
// first one. PEXPIRE NX never moves an existing expiry, so the window runs
// from the first failure and a client that keeps failing while locked out
// does not extend its own lockout. A script rather than separate commands, so
// a crash in between cannot leave a counter that never expires.
//
// KEYS: fail key, in-flight key. ARGV: window ms. Returns {failures, PTTL}.
var failScript = goredis.NewScript(releaseLua + `
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
return {n, redis.call('PTTL', KEYS[1])}
`)

// resetScript forgets the failures and settles the caller's reservation;
// other logins still in flight keep theirs.
var resetScript = goredis.NewScript(releaseLua + `
redis.call('DEL', KEYS[1])
return 0
`)

// LoginGuard implements ports.LoginGuard on Redis: limit failures per
// (email, client) in a fixed window starting at the first failure, shared by
// every gateway instance on the same Redis and prefix.
//
// A Check that lets a login through also reserves one of the pair's attempts
// until the login's Fail or Reset (or attemptTTL), so at most limit passwords
// are ever checked per window, concurrent requests on any instances included.
// A login must therefore call Check once and settle it with Fail or Reset.
type LoginGuard struct {
	client goredis.UniversalClient
	prefix string
	limit  int
	window time.Duration
	// attemptTTL is a field so tests can watch a reservation expire.
	attemptTTL time.Duration
}

var _ ports.LoginGuard = (*LoginGuard)(nil)

// NewLoginGuard returns a guard that locks a pair out once it has limit
// failures within window (the app uses 5 in 15 minutes), until the window
// that began with its first failure passes. It panics on a limit below 1 or a
// window under a millisecond: those are wiring bugs, not runtime conditions.
func NewLoginGuard(client goredis.UniversalClient, prefix string, limit int, window time.Duration) *LoginGuard {
	if limit < 1 || window < time.Millisecond {
		panic(fmt.Sprintf("redis.NewLoginGuard: bad policy (%d per %s)", limit, window))
	}
	return &LoginGuard{client: client, prefix: prefix, limit: limit, window: window, attemptTTL: attemptTTL}
}

// keys normalises the email as the user aggregate does (trimmed, lower case),
// so "Ann@X.uz " and "ann@x.uz" share one counter. The NUL separator keeps
// ("a", "bc") and ("ab", "c") apart; neither an email nor an IP contains one.
func (g *LoginGuard) keys(email, client string) []string {
	sum := sha256.Sum256([]byte(strings.ToLower(strings.TrimSpace(email)) + "\x00" + client))
	fail := g.prefix + "login_fail:" + hex.EncodeToString(sum[:])
	return []string{fail, g.prefix + "login_try:{" + fail + "}"}
}

// Check returns how long the pair must wait: the rest of its window once it
// has limit failures, or until an attempt in flight settles when all its
// remaining attempts are being checked. 0 lets the login through and
// reserves an attempt for it.
func (g *LoginGuard) Check(ctx context.Context, email, client string) (time.Duration, error) {
	ms, err := checkScript.Run(ctx, g.client, g.keys(email, client),
		g.limit, g.window.Milliseconds(), g.attemptTTL.Milliseconds()).Int64()
	if err != nil {
		return 0, storeError("check login failures", err)
	}
	return time.Duration(ms) * time.Millisecond, nil
}

// Fail counts a failed login and returns the lockout it caused: the rest of
// the window once the pair has reached the limit, 0 before that.
func (g *LoginGuard) Fail(ctx context.Context, email, client string) (time.Duration, error) {
	res, err := failScript.Run(ctx, g.client, g.keys(email, client), g.window.Milliseconds()).Int64Slice()
	if err != nil {
		return 0, storeError("record login failure", err)
	}
	if len(res) != 2 {
		return 0, fmt.Errorf("record login failure: unexpected reply %v", res)
	}
	if res[0] < int64(g.limit) {
		return 0, nil
	}
	// The script has just set an expiry if there was none, so PTTL is
	// positive; the floor keeps "locked" from ever reading as 0 at the very
	// end of a window.
	return max(time.Duration(res[1])*time.Millisecond, time.Millisecond), nil
}

// Reset forgets the pair's failures after a successful login.
func (g *LoginGuard) Reset(ctx context.Context, email, client string) error {
	if err := resetScript.Run(ctx, g.client, g.keys(email, client)).Err(); err != nil {
		return storeError("reset login failures", err)
	}
	return nil
}
