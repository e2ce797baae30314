package redis_test

import (
	"context"
	"fmt"
	"sync"
	"testing"

	"github.com/google/uuid"
	goredis "github.com/redis/go-redis/v9"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/ultramarket/gateway/adapters/redis"
	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/test/testenv"
)

// REDIS_URL with further seed nodes as addr parameters is a Redis Cluster:
// keys spread over every master, multi-key work stays within a slot, and
// readiness asks every master.
func TestOpenRedisCluster(t *testing.T) {
	ctx := context.Background()
	cluster := testenv.StartRedisClusterT(t, 3)
	client, err := redis.Open(cluster.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	cc, ok := client.(*goredis.ClusterClient)
	require.True(t, ok, "a Cluster URL makes a Cluster client, not %T", client)

	// Keys land on every master: the client routes by slot.
	for i := range 60 {
		require.NoError(t, client.Set(ctx, fmt.Sprintf("spread:%d", i), i, 0).Err())
	}
	var (
		mu      sync.Mutex
		perNode []int64
	)
	require.NoError(t, cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
		n, err := c.DBSize(ctx).Result()
		mu.Lock() // the masters are asked in parallel
		perNode = append(perNode, n)
		mu.Unlock()
		return err
	}))
	require.Len(t, perNode, 3)
	for _, n := range perNode {
		assert.Positive(t, n, "every master holds some keys")
	}

	// A session and its user's set live in different slots: the store takes
	// the Cluster path and still works end to end.
	st := redis.NewSessionStore(client, "")
	assert.True(t, st.WritesAsMultiNode())
	s := create(t, st, newSession(t, uuid.NewString(), "h1", now(), ttl))
	list, err := st.ListActive(ctx, s.UserID(), now())
	require.NoError(t, err)
	require.Len(t, list, 1)
	require.NoError(t, st.RevokeAllForUser(ctx, s.UserID(), "", now()))
	_, err = st.CheckAccess(ctx, s.ID(), s.UserID(), now())
	require.Error(t, err)

	pinger := redis.NewPinger(client)
	require.NoError(t, pinger.Ping(ctx))
	// One master down: its slots are unserved, so Redis is not ready, even
	// though the other masters answer.
	cluster.KillNode(2)
	err = pinger.Ping(ctx)
	require.ErrorIs(t, err, domain.ErrUnavailable)
}

// A Cluster has only database 0; asking for another is refused, not ignored,
// and the error never shows the password.
func TestOpenRedisClusterRefusesADatabase(t *testing.T) {
	_, err := redis.Open("redis://:s3cr3t@127.0.0.1:7001/3?addr=127.0.0.1:7002")
	require.Error(t, err)
	assert.Contains(t, err.Error(), "only database 0")
	assert.NotContains(t, err.Error(), "s3cr3t")

	_, err = redis.Open("redis://:s3cr3t@127.0.0.1:7001?addr=nonsense")
	require.Error(t, err)
	assert.NotContains(t, err.Error(), "s3cr3t")
}

// REDIS_URL with master_name is a master found through Sentinel: one node at
// a time, so the stores take the single-node path (MULTI over a session and
// its user's set).
func TestOpenRedisSentinel(t *testing.T) {
	ctx := context.Background()
	sentinel := testenv.StartRedisSentinelT(t, "um")
	client, err := redis.Open(sentinel.URL())
	require.NoError(t, err)
	t.Cleanup(func() { _ = client.Close() })
	_, ok := client.(*goredis.Client)
	require.True(t, ok, "a Sentinel URL makes a failover client, not %T", client)
	require.NoError(t, redis.NewPinger(client).Ping(ctx))

	st := redis.NewSessionStore(client, "")
	assert.False(t, st.WritesAsMultiNode())
	s := create(t, st, newSession(t, uuid.NewString(), "h1", now(), ttl))
	got, err := st.Get(ctx, s.ID())
	require.NoError(t, err)
	assertSameSession(t, s, got)
}
