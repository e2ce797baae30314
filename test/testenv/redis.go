package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	redisadapter "github.com/ultramarket/gateway/adapters/redis"
)

const defaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL is TEST_REDIS_URL, or the local Redis `make services` starts.
func RedisURL() string {
	if v := os.Getenv("TEST_REDIS_URL"); v != "" {
		return v
	}
	return defaultRedisURL
}

// Redis connects to the test Redis and returns the client with a key prefix
// no other test uses ("test:<random hex>:"). When the test ends every key
// under the prefix is deleted and the client closed. An unreachable Redis
// fails the test: these tests are part of `make test` and never skip.
func Redis(t testing.TB) (client goredis.UniversalClient, prefix string) {
	t.Helper()
	client = connectRedis(t)
	prefix = newRedisPrefix(t)
	t.Cleanup(func() {
		deleteRedisPrefix(t, client, prefix)
		_ = client.Close()
	})
	return client, prefix
}

// NewRedisPrefix returns a fresh key prefix for code that opens its own
// client (a whole app); its keys are deleted when the test ends.
func NewRedisPrefix(t testing.TB) string {
	t.Helper()
	client := connectRedis(t)
	prefix := newRedisPrefix(t)
	t.Cleanup(func() {
		deleteRedisPrefix(t, client, prefix)
		_ = client.Close()
	})
	return prefix
}

func connectRedis(t testing.TB) goredis.UniversalClient {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	client, err := redisadapter.Open(RedisURL())
	if err == nil {
		err = client.Ping(ctx).Err()
	}
	if err != nil {
		t.Fatalf("Redis is not reachable at %s: %v\n"+
			"Start it with `make services` (or point TEST_REDIS_URL at one).", redactedURL(RedisURL()), err)
	}
	return client
}

func newRedisPrefix(t testing.TB) string {
	t.Helper()
	b := make([]byte, 8)
	if _, err := rand.Read(b); err != nil {
		t.Fatalf("random redis prefix: %v", err)
	}
	return "test:" + hex.EncodeToString(b) + ":"
}

// deleteRedisPrefix removes every key under prefix with SCAN, never KEYS, so
// a shared Redis is not blocked.
func deleteRedisPrefix(t testing.TB, client goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var cursor uint64
	for {
		keys, next, err := client.Scan(ctx, cursor, globEscape(prefix)+"*", 500).Result()
		if err != nil {
			t.Errorf("clean up redis prefix %s: %v", prefix, err)
			return
		}
		if len(keys) > 0 {
			if err := client.Unlink(ctx, keys...).Err(); err != nil {
				t.Errorf("clean up redis prefix %s: %v", prefix, err)
				return
			}
		}
		if cursor = next; cursor == 0 {
			return
		}
	}
}

func globEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String()
}

// redactedURL hides a password in the URL for messages.
func redactedURL(s string) string {
	u, err := url.Parse(s)
	if err != nil {
		return "(unparsable TEST_REDIS_URL)"
	}
	return u.Redacted()
}
