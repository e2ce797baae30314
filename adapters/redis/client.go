// Package redis keeps what gateway instances share and may lose: sessions
// and their refresh-token families (SessionStore).
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/ultramarket/gateway/domain"
	"github.com/ultramarket/gateway/ports"
)

// Defaults applied when REDIS_URL does not set them (its query string may,
// e.g. ?dial_timeout=5s). Every command runs on the path of an authenticated
// request, so a stuck Redis must fail fast rather than hang it.
const (
	dialTimeout  = 2 * time.Second
	readTimeout  = time.Second
	writeTimeout = time.Second
	poolTimeout  = 2 * time.Second
	// One retry of a command and two dial attempts: with go-redis's defaults
	// (3 and 5) a black-holed Redis would hold a request for half a minute.
	maxRetries    = 1
	dialerRetries = 2
)

// Open makes a client of the Redis that redisURL names, in one of three forms:
//
//	redis://[user:pass@]host:6379/0             one Redis (rediss:// for TLS, unix:// for a socket)
//	redis://host1:7001?addr=host2:7002&addr=…   Redis Cluster: the host and every addr are seed nodes
//	redis://sentinel1:26379/0?master_name=M&addr=sentinel2:26379
//	                                            Redis Sentinel: the host and every addr are sentinels
//
// An addr parameter without master_name is what makes a Cluster URL (the form
// of go-redis's ParseClusterURL): a Cluster has many nodes, and naming a
// second one is how the URL says so. A Cluster has only database 0, so a
// Cluster URL with another database is refused. Sentinel and one Redis give a
// *goredis.Client, a Cluster a *goredis.ClusterClient; the stores tell them
// apart (see SessionStore). Query parameters set go-redis options in each
// form (e.g. ?dial_timeout=5s); an unknown one is refused.
//
// It does not ping: the gateway starts and takes orders while Redis is down
// (only logins and sessions need it), and readiness reports it. The error
// never contains the URL, which may hold a password.
func Open(redisURL string) (goredis.UniversalClient, error) {
	kind, err := kindOf(redisURL)
	if err != nil {
		return nil, invalidURL(err)
	}
	switch kind {
	case kindCluster:
		opts, err := goredis.ParseClusterURL(redisURL)
		if err != nil {
			return nil, invalidURL(err)
		}
		applyDefaults(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout,
			&opts.MaxRetries, &opts.DialerRetries)
		opts.ContextTimeoutEnabled = true
		return goredis.NewClusterClient(opts), nil
	case kindSentinel:
		opts, err := goredis.ParseFailoverURL(redisURL)
		if err != nil {
			return nil, invalidURL(err)
		}
		applyDefaults(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout,
			&opts.MaxRetries, &opts.DialerRetries)
		opts.ContextTimeoutEnabled = true
		return goredis.NewFailoverClient(opts), nil
	default:
		opts, err := goredis.ParseURL(redisURL)
		if err != nil {
			return nil, invalidURL(err)
		}
		applyDefaults(&opts.DialTimeout, &opts.ReadTimeout, &opts.WriteTimeout, &opts.PoolTimeout,
			&opts.MaxRetries, &opts.DialerRetries)
		// PoolSize keeps go-redis's default, 10 per GOMAXPROCS (per node on
		// a Cluster): commands are sub-millisecond, so that is plenty per
		// instance.
		// A request's deadline also bounds its Redis calls.
		opts.ContextTimeoutEnabled = true
		return goredis.NewClient(opts), nil
	}
}

type redisKind int

const (
	kindSingle redisKind = iota
	kindCluster
	kindSentinel
)

// kindOf tells the three forms of Open apart.
func kindOf(redisURL string) (redisKind, error) {
	u, err := url.Parse(redisURL)
	if err != nil {
		return kindSingle, err
	}
	q := u.Query()
	switch {
	case q.Has("master_name"):
		return kindSentinel, nil
	case q.Has("addr"):
		// ParseClusterURL ignores the path; refuse rather than silently use
		// database 0 when another was asked for.
		if db := strings.Trim(u.Path, "/"); db != "" && db != "0" {
			return kindCluster, errors.New("a Redis Cluster has only database 0: drop the /" + db + " path")
		}
		return kindCluster, nil
	default:
		return kindSingle, nil
	}
}

// invalidURL keeps only the cause of a URL error: url.Error repeats the whole
// URL, password included.
func invalidURL(err error) error {
	var uerr *url.Error
	if errors.As(err, &uerr) {
		err = uerr.Err
	}
	return fmt.Errorf("redis: invalid REDIS_URL: %w", err)
}

// applyDefaults fills what REDIS_URL did not set (its query string may, e.g.
// ?dial_timeout=5s). The three option structs of go-redis share these fields
// but no type.
func applyDefaults(dial, read, write, pool *time.Duration, retries, dialRetries *int) {
	for _, d := range []struct {
		v   *time.Duration
		def time.Duration
	}{{dial, dialTimeout}, {read, readTimeout}, {write, writeTimeout}, {pool, poolTimeout}} {
		if *d.v == 0 {
			*d.v = d.def
		}
	}
	if *retries == 0 {
		*retries = maxRetries
	}
	if *dialRetries == 0 {
		*dialRetries = dialerRetries
	}
}

// Pinger reports whether Redis answers, for the readiness probe.
type Pinger struct {
	client goredis.UniversalClient
}

var _ ports.Pinger = Pinger{}

// NewPinger returns a Pinger for client.
func NewPinger(client goredis.UniversalClient) Pinger { return Pinger{client: client} }

// Ping sends PING; failures wrap domain.ErrUnavailable. On a Cluster it
// pings every master: a key of any slot may be asked for, and a master that
// does not answer leaves its slots unserved.
func (p Pinger) Ping(ctx context.Context) error {
	var err error
	if cc, ok := p.client.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			return c.Ping(ctx).Err()
		})
	} else {
		err = p.client.Ping(ctx).Err()
	}
	if err != nil {
		return storeError("ping", err)
	}
	return nil
}

// storeError wraps a go-redis error for op. Errors of reaching Redis (network,
// timeouts, closed client, a server that is loading, read-only or out of
// memory) wrap domain.ErrUnavailable: the edge answers 503 and nothing was
// changed. A reply error that is a bug on our side (WRONGTYPE, syntax) stays
// an internal error.
func storeError(op string, err error) error {
	if isUnavailable(err) {
		return fmt.Errorf("redis %s: %w: %w", op, domain.ErrUnavailable, err)
	}
	return fmt.Errorf("redis %s: %w", op, err)
}

func isUnavailable(err error) bool {
	var rerr goredis.Error
	if !errors.As(err, &rerr) {
		return true // network, timeout, pool, closed client, context
	}
	return goredis.IsLoadingError(err) || goredis.IsReadOnlyError(err) ||
		goredis.IsClusterDownError(err) || goredis.IsTryAgainError(err) ||
		goredis.IsMasterDownError(err) || goredis.IsMaxClientsError(err) ||
		goredis.IsOOMError(err) || goredis.IsNoReplicasError(err) ||
		goredis.IsAuthError(err)
}
