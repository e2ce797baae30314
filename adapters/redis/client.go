// Package redis keeps what gateway instances share and may lose: sessions
// and their refresh-token families (SessionStore).
package redis

import (
	"context"
	"errors"
	"fmt"
	"net/url"
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

// Open makes a client of the Redis at redisURL (redis://, rediss:// or
// unix://). It does not ping: the gateway starts and takes orders while Redis
// is down (only logins and sessions need it), and readiness reports it. The
// error never contains the URL, which may hold a password.
func Open(redisURL string) (goredis.UniversalClient, error) {
	opts, err := goredis.ParseURL(redisURL)
	if err != nil {
		// url.Error repeats the whole URL, password included: keep its cause only.
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err
		}
		return nil, fmt.Errorf("redis: invalid REDIS_URL: %w", err)
	}
	if opts.DialTimeout == 0 {
		opts.DialTimeout = dialTimeout
	}
	if opts.ReadTimeout == 0 {
		opts.ReadTimeout = readTimeout
	}
	if opts.WriteTimeout == 0 {
		opts.WriteTimeout = writeTimeout
	}
	if opts.PoolTimeout == 0 {
		opts.PoolTimeout = poolTimeout
	}
	if opts.MaxRetries == 0 {
		opts.MaxRetries = maxRetries
	}
	if opts.DialerRetries == 0 {
		opts.DialerRetries = dialerRetries
	}
	// PoolSize keeps go-redis's default, 10 per GOMAXPROCS: commands are
	// sub-millisecond, so that is plenty per instance.
	// A request's deadline also bounds its Redis calls.
	opts.ContextTimeoutEnabled = true

	return goredis.NewClient(opts), nil
}

// Pinger reports whether Redis answers, for the readiness probe.
type Pinger struct {
	client goredis.UniversalClient
}

var _ ports.Pinger = Pinger{}

// NewPinger returns a Pinger for client.
func NewPinger(client goredis.UniversalClient) Pinger { return Pinger{client: client} }

// Ping sends PING; failures wrap domain.ErrUnavailable.
func (p Pinger) Ping(ctx context.Context) error {
	if err := p.client.Ping(ctx).Err(); err != nil {
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
