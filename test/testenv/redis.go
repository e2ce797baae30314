package testenv

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/url"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	redisadapter "github.com/ultramarket/gateway/adapters/redis"
)

const defaultRedisURL = "redis://127.0.0.1:6379/0"

// RedisURL is the private Redis Cluster of a TEST_SCALEOUT=redis-cluster run,
// or TEST_REDIS_URL, or the local Redis `make services` starts.
func RedisURL() string {
	if scaleout.redisCluster != nil {
		return scaleout.redisCluster.URL()
	}
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

// deleteRedisPrefix removes every key under prefix, on every master of a
// Cluster.
func deleteRedisPrefix(t testing.TB, client goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	err := eachNode(ctx, client, func(ctx context.Context, node goredis.Cmdable) error {
		return deleteOnNode(ctx, node, prefix)
	})
	if err != nil {
		t.Errorf("clean up redis prefix %s: %v", prefix, err)
	}
}

// deleteOnNode removes the keys under prefix that one node holds, with SCAN,
// never KEYS, so a shared Redis is not blocked. The keys of one SCAN page are
// unlinked one by one: on a Cluster node they may belong to different slots,
// which one multi-key command refuses.
func deleteOnNode(ctx context.Context, node goredis.Cmdable, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := node.Scan(ctx, cursor, globEscape(prefix)+"*", 500).Result()
		if err != nil {
			return err
		}
		for _, k := range keys {
			if err := node.Unlink(ctx, k).Err(); err != nil {
				return err
			}
		}
		if cursor = next; cursor == 0 {
			return nil
		}
	}
}

// RedisKeys lists every key under prefix, from every master of a Cluster
// (SCAN on a Cluster client would see one node only).
func RedisKeys(t testing.TB, client goredis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	var (
		mu   sync.Mutex
		keys []string
	)
	err := eachNode(ctx, client, func(ctx context.Context, node goredis.Cmdable) error {
		iter := node.Scan(ctx, 0, globEscape(prefix)+"*", 500).Iterator()
		for iter.Next(ctx) {
			mu.Lock()
			keys = append(keys, iter.Val())
			mu.Unlock()
		}
		return iter.Err()
	})
	if err != nil {
		t.Fatalf("testenv: list redis keys under %s: %v", prefix, err)
	}
	return keys
}

// eachNode runs fn on every master of a Cluster client, or on the client.
func eachNode(ctx context.Context, client goredis.UniversalClient, fn func(context.Context, goredis.Cmdable) error) error {
	if cc, ok := client.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return fn(ctx, c) })
	}
	return fn(ctx, client)
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
