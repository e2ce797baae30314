package redis

import (
	"context"
	"fmt"
	"math"
	"time"

	"github.com/go-redis/redis_rate/v10"
	goredis "github.com/redis/go-redis/v9"
)

// Layout (every key starts with the limiter's prefix):
//
//	{prefix}rate:{key}  string, the GCRA "theoretical arrival time" of the key;
//	                    expires once the key is back to its full burst
//
// redis_rate names its keys "rate:{key}" itself; prefixed (below) rewrites
// them so they start with the prefix like every other key of the service.

// Decision is the limiter's answer for one request.
type Decision struct {
	Allowed bool
	// Limit is the burst: how many requests a fresh key may make at once.
	Limit int
	// Remaining is how many more requests would be allowed right now.
	Remaining int
	// RetryAfter is how long until the next request would be allowed; 0 when
	// this one was.
	RetryAfter time.Duration
	// ResetAfter is how long until the key is back to its full burst.
	ResetAfter time.Duration
}

// RateLimiter limits requests per key with GCRA (the generic cell rate
// algorithm) in one Lua script per call, so every gateway instance on the
// same Redis and prefix shares one budget per key and two instances can never
// both take the last slot. Unlike a fixed window it never lets a client spend
// two windows' worth at a window boundary, and it keeps one small key per
// client instead of a counter per window.
type RateLimiter struct {
	limiter *redis_rate.Limiter
}

// NewRateLimiter returns a limiter whose keys all start with prefix.
func NewRateLimiter(client goredis.UniversalClient, prefix string) *RateLimiter {
	return &RateLimiter{limiter: redis_rate.NewLimiter(prefixed{client: client, prefix: prefix})}
}

// Allow takes one request from key's budget of limit requests per per. The
// burst equals limit, so "100 per 15 minutes" lets a new client make 100
// requests at once, after which one more is allowed every per/limit (9 s).
// A refused request takes nothing from the budget. Errors of reaching Redis
// wrap domain.ErrUnavailable; the caller decides whether to fail open.
func (l *RateLimiter) Allow(ctx context.Context, key string, limit int, per time.Duration) (Decision, error) {
	if limit < 1 || per <= 0 {
		// The script divides by limit; a zero policy is a wiring bug.
		return Decision{}, fmt.Errorf("rate limit %q: bad policy (%d per %s)", key, limit, per)
	}
	res, err := l.limiter.Allow(ctx, key, redis_rate.Limit{Rate: limit, Burst: limit, Period: per})
	if err != nil {
		return Decision{}, storeError("rate limit", err)
	}
	d := Decision{
		Allowed: res.Allowed > 0,
		Limit:   limit,
		// redis_rate reports -1 for "not limited".
		RetryAfter: max(res.RetryAfter, 0),
		ResetAfter: max(res.ResetAfter, 0),
	}
	if d.Allowed {
		d.Remaining = remaining(limit, per, d.ResetAfter)
	}
	return d, nil
}

// remaining derives what is left of the burst from ResetAfter, the time the
// key needs to be full again: each spent request adds one emission interval
// (per/limit) to it. redis_rate's own Remaining is the same quotient
// truncated inside Lua, and as per/limit is rarely exact in binary (60s/1000
// is not) it reads 998 where 999 are left. The tolerance absorbs that error;
// it is a millionth of a request.
func remaining(limit int, per, resetAfter time.Duration) int {
	spent := resetAfter.Seconds() * float64(limit) / per.Seconds()
	n := int(math.Floor(float64(limit) - spent + 1e-6))
	// An allowed request has just taken one, so at most limit-1 are left.
	return min(max(n, 0), limit-1)
}

// prefixed is the client as redis_rate sees it, with every key moved under
// the service's prefix: that keeps test runs and apps sharing one Redis apart,
// and lets their clean-up (SCAN {prefix}*) find these keys too. It exposes
// only the commands redis_rate uses, so nothing reaches Redis unprefixed.
type prefixed struct {
	client goredis.UniversalClient
	prefix string
}

func (p prefixed) keys(keys []string) []string {
	out := make([]string, len(keys))
	for i, k := range keys {
		out[i] = p.prefix + k
	}
	return out
}

func (p prefixed) Eval(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.client.Eval(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalSha(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return p.client.EvalSha(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) EvalRO(ctx context.Context, script string, keys []string, args ...any) *goredis.Cmd {
	return p.client.EvalRO(ctx, script, p.keys(keys), args...)
}

func (p prefixed) EvalShaRO(ctx context.Context, sha1 string, keys []string, args ...any) *goredis.Cmd {
	return p.client.EvalShaRO(ctx, sha1, p.keys(keys), args...)
}

func (p prefixed) ScriptExists(ctx context.Context, hashes ...string) *goredis.BoolSliceCmd {
	return p.client.ScriptExists(ctx, hashes...)
}

func (p prefixed) ScriptLoad(ctx context.Context, script string) *goredis.StringCmd {
	return p.client.ScriptLoad(ctx, script)
}

func (p prefixed) Del(ctx context.Context, keys ...string) *goredis.IntCmd {
	return p.client.Del(ctx, p.keys(keys)...)
}
