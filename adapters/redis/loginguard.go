package redis

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/ports"
)

// Layout (every key starts with the guard's prefix; E is the hex SHA-256 of
// the normalised email, P that of the email and the client):
//
//	{prefix}login_fail:{E}:P      string, the number of failed logins of one
//	                              (email, client) pair; expires one client
//	                              window after the pair's first failure
//	{prefix}login_try:{E}:P       string, the pair's logins in flight: past
//	                              Check, not yet Fail or Reset; expires
//	                              attemptTTL after the latest Check
//	{prefix}login_email_fail:{E}  sorted set, the email's failed logins from
//	                              every client within the email window (score:
//	                              Redis server time in ms); expires one email
//	                              window after its newest failure
//	{prefix}login_email_try:{E}   string, the email's logins in flight, as for
//	                              the pair
//
// The keys hold hashes, not the email: emails are personal data that has no
// business in a cache's key space (or its SCAN output, or a MONITOR
// session), and an email can be long enough to bloat every key.
//
// All four keys of one email carry E as their Redis Cluster hash tag, so they
// live in one slot and each script below checks and counts both limits
// atomically. (A prefix holding a hash tag of its own works too: its tag is
// then the first in every key.)

// attemptTTL bounds how long a reservation that is never settled (the login
// errored or was refused for another reason after Check) holds one of the
// pair's attempts. It must outlast a slow login (a password hash under load),
// or a burst could slip in extra guesses while the first ones are still being
// checked. Every new reservation extends it, so it only runs out once the
// pair has been quiet that long.
const attemptTTL = 30 * time.Second

// Lua helpers of the scripts below. nowMs is the Redis server's clock, so
// every gateway instance measures the email window on one clock (as the
// key expiries that measure the client window do). emailWait is how long
// until the email's failures in the window drop below the limit: until the
// oldest of them leaves it. Failures older than the window are dropped
// first, so the oldest left is younger than the window and the wait is
// positive.
const guardLua = `
local function nowMs()
	local t = redis.call('TIME')
	return tonumber(t[1]) * 1000 + math.floor(tonumber(t[2]) / 1000)
end
local function emailFailures(key, now, window)
	redis.call('ZREMRANGEBYSCORE', key, '-inf', now - window)
	return redis.call('ZCARD', key)
end
local function emailWait(key, now, window)
	local oldest = redis.call('ZRANGE', key, 0, 0, 'WITHSCORES')
	return math.max(tonumber(oldest[2]) + window - now, 1)
end
local function release(key)
	local inflight = tonumber(redis.call('GET', key) or '0')
	if inflight > 1 then
		redis.call('DECR', key)
	else
		redis.call('DEL', key)
	end
end
`

// checkScript answers Check and reserves the attempt it lets through.
// Counting only settled failures would let a burst of concurrent guesses all
// pass Check before the first Fail lands (a password hash takes a while), so
// an attacker could try hundreds of passwords in one volley, or spread over
// many clients. Reserving makes failures plus attempts in flight never exceed
// either limit.
//
// KEYS: pair fail, pair in flight, email fails, email in flight. ARGV: client
// limit, client window ms, email limit, email window ms, attemptTTL ms.
// Returns {0, 0} (let through, one attempt reserved) or {wait ms, limit}.
var checkScript = goredis.NewScript(guardLua + `
local climit, cwindow = tonumber(ARGV[1]), tonumber(ARGV[2])
local elimit, ewindow = tonumber(ARGV[3]), tonumber(ARGV[4])
local now = nowMs()
local fails = tonumber(redis.call('GET', KEYS[1]) or '0')
local efails = emailFailures(KEYS[3], now, ewindow)

-- Locked out: by the pair's failures, the email's, or both (then the later
-- end, as both must pass).
local wait, limit = 0, 0
if fails >= climit then
	local ttl = redis.call('PTTL', KEYS[1])
	if ttl < 0 then
		-- A counter without an expiry would lock the pair out for good;
		-- Fail never leaves one, but give it its window rather than trust that.
		redis.call('PEXPIRE', KEYS[1], cwindow)
		ttl = cwindow
	end
	wait, limit = math.max(ttl, 1), climit
end
if efails >= elimit then
	local ewait = emailWait(KEYS[3], now, ewindow)
	if ewait > wait then
		wait, limit = ewait, elimit
	end
end
if wait > 0 then
	return {wait, limit}
end

-- Every guess left is being checked right now: wait for them (they end in a
-- lockout or a success, or their reservations expire).
local inflight = tonumber(redis.call('GET', KEYS[2]) or '0')
if fails + inflight >= climit then
	return {math.max(redis.call('PTTL', KEYS[2]), 1), climit}
end
local einflight = tonumber(redis.call('GET', KEYS[4]) or '0')
if efails + einflight >= elimit then
	return {math.max(redis.call('PTTL', KEYS[4]), 1), elimit}
end
redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[5])
redis.call('INCR', KEYS[4])
redis.call('PEXPIRE', KEYS[4], ARGV[5])
return {0, 0}
`)

// failScript settles a reservation as a failure. The pair's window starts at
// its first failure: PEXPIRE NX never moves an existing expiry, so a client
// that keeps failing while locked out does not extend its own lockout. The
// email's failures slide: each counts for one email window from when it
// happened. Only the newest limit of them are kept: the email is locked out
// until the oldest of those leaves the window, whatever came before. A
// script rather than separate commands, so a crash in between cannot leave a
// counter that never expires.
//
// KEYS: as checkScript. ARGV: client limit, client window ms, email limit,
// email window ms, a random member for the sorted set. Returns {0, 0} or the
// lockout this failure caused, {wait ms, limit}.
var failScript = goredis.NewScript(guardLua + `
local climit, cwindow = tonumber(ARGV[1]), tonumber(ARGV[2])
local elimit, ewindow = tonumber(ARGV[3]), tonumber(ARGV[4])
release(KEYS[2])
release(KEYS[4])
local n = redis.call('INCR', KEYS[1])
redis.call('PEXPIRE', KEYS[1], cwindow, 'NX')
local now = nowMs()
emailFailures(KEYS[3], now, ewindow)
redis.call('ZADD', KEYS[3], now, ARGV[5])
redis.call('ZREMRANGEBYRANK', KEYS[3], 0, -(elimit + 1))
redis.call('PEXPIRE', KEYS[3], ewindow)

local wait, limit = 0, 0
if n >= climit then
	wait, limit = math.max(redis.call('PTTL', KEYS[1]), 1), climit
end
if redis.call('ZCARD', KEYS[3]) >= elimit then
	local ewait = emailWait(KEYS[3], now, ewindow)
	if ewait > wait then
		wait, limit = ewait, elimit
	end
end
return {wait, limit}
`)

// resetScript forgets the pair's failures and settles the caller's
// reservations; other logins still in flight keep theirs, and the email's
// failures from all clients stay counted.
var resetScript = goredis.NewScript(guardLua + `
release(KEYS[2])
release(KEYS[4])
redis.call('DEL', KEYS[1])
return 0
`)

// LoginPolicy is how many failed logins the guard tolerates. Per (email,
// client): ClientFailures in a fixed window of ClientWindow that begins at
// the pair's first failure (the app uses 5 in 15 minutes). Per email across
// all clients: EmailFailures in any EmailWindow (the app uses 20 in an hour),
// a sliding window, so a locked-out email frees one attempt each time its
// oldest failure in the window ages out.
type LoginPolicy struct {
	ClientFailures int
	ClientWindow   time.Duration
	EmailFailures  int
	EmailWindow    time.Duration
}

// LoginGuard implements ports.LoginGuard on Redis, shared by every gateway
// instance on the same Redis and prefix.
//
// A Check that lets a login through also reserves one of the pair's and one
// of the email's attempts until the login's Fail or Reset (or attemptTTL), so
// at most the limits' worth of passwords are ever checked per window,
// concurrent requests on any instances and from any clients included. A
// login must therefore call Check once and settle it with Fail or Reset.
type LoginGuard struct {
	client goredis.UniversalClient
	prefix string
	policy LoginPolicy
	// attemptTTL is a field so tests can watch a reservation expire.
	attemptTTL time.Duration
}

var _ ports.LoginGuard = (*LoginGuard)(nil)

// NewLoginGuard returns a guard applying policy. It panics on a limit below
// 1 or a window under a millisecond: those are wiring bugs, not runtime
// conditions.
func NewLoginGuard(client goredis.UniversalClient, prefix string, policy LoginPolicy) *LoginGuard {
	if policy.ClientFailures < 1 || policy.ClientWindow < time.Millisecond ||
		policy.EmailFailures < 1 || policy.EmailWindow < time.Millisecond {
		panic(fmt.Sprintf("redis.NewLoginGuard: bad policy %+v", policy))
	}
	return &LoginGuard{client: client, prefix: prefix, policy: policy, attemptTTL: attemptTTL}
}

// keys normalises the email as the user aggregate does (trimmed, lower case),
// so "Ann@X.uz " and "ann@x.uz" share the counters. The NUL separator keeps
// ("a", "bc") and ("ab", "c") apart; neither an email nor an IP contains one.
func (g *LoginGuard) keys(email, client string) []string {
	email = strings.ToLower(strings.TrimSpace(email))
	e := sha256.Sum256([]byte(email))
	p := sha256.Sum256([]byte(email + "\x00" + client))
	tag, pair := "{"+hex.EncodeToString(e[:])+"}", hex.EncodeToString(p[:])
	return []string{
		g.prefix + "login_fail:" + tag + ":" + pair,
		g.prefix + "login_try:" + tag + ":" + pair,
		g.prefix + "login_email_fail:" + tag,
		g.prefix + "login_email_try:" + tag,
	}
}

func (g *LoginGuard) limits() []any {
	p := g.policy
	return []any{p.ClientFailures, p.ClientWindow.Milliseconds(), p.EmailFailures, p.EmailWindow.Milliseconds()}
}

// Check returns the lockout in force: the rest of the pair's window once it
// has its limit of failures, the time until the email's oldest failure in
// its window ages out once the email has its limit, or until an attempt in
// flight settles when all the remaining attempts are being checked. The zero
// Lockout lets the login through and reserves an attempt for it.
func (g *LoginGuard) Check(ctx context.Context, email, client string) (ports.Lockout, error) {
	res, err := checkScript.Run(ctx, g.client, g.keys(email, client),
		append(g.limits(), g.attemptTTL.Milliseconds())...).Int64Slice()
	if err != nil {
		return ports.Lockout{}, storeError("check login failures", err)
	}
	return lockoutOf("check login failures", res)
}

// Fail counts a failed login and returns the lockout it caused, if any.
func (g *LoginGuard) Fail(ctx context.Context, email, client string) (ports.Lockout, error) {
	res, err := failScript.Run(ctx, g.client, g.keys(email, client),
		append(g.limits(), rand.Text())...).Int64Slice()
	if err != nil {
		return ports.Lockout{}, storeError("record login failure", err)
	}
	return lockoutOf("record login failure", res)
}

// Reset forgets the pair's failures after a successful login.
func (g *LoginGuard) Reset(ctx context.Context, email, client string) error {
	if err := resetScript.Run(ctx, g.client, g.keys(email, client)).Err(); err != nil {
		return storeError("reset login failures", err)
	}
	return nil
}

// lockoutOf reads a script's {wait ms, limit}.
func lockoutOf(op string, res []int64) (ports.Lockout, error) {
	if len(res) != 2 {
		return ports.Lockout{}, fmt.Errorf("%s: unexpected reply %v", op, res)
	}
	if res[0] <= 0 {
		return ports.Lockout{}, nil
	}
	return ports.Lockout{RetryAfter: time.Duration(res[0]) * time.Millisecond, Limit: int(res[1])}, nil
}
