package testenv

import (
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

// The engines production scales out on, for a test run that asks for them
// with TEST_SCALEOUT, a comma-separated list of:
//
//	pgbouncer      the app's DATABASE_URL (PostgresURL, testapp.Config) goes
//	               through a PgBouncer in transaction pooling mode; databases
//	               are still created and migrated directly, as in production
//	redis-cluster  Redis (RedisURL, Redis, NewRedisPrefix) is a 3-master
//	               Redis Cluster; it wins over TEST_REDIS_URL
//
// A package opts in with `func TestMain(m *testing.M) { os.Exit(testenv.Main(m)) }`;
// `make test` runs the end-to-end order and payment flows with pgbouncer and
// the identity flows (and the Redis adapters) with redis-cluster. The engines
// are private processes on free ports, started before the tests and stopped,
// their directories removed, after them. An engine that cannot start fails the
// run with how to get it: never a skip.
var scaleout struct {
	pgbouncer    *PgBouncer
	redisCluster *RedisCluster
}

// Scaleout engine names, as TEST_SCALEOUT lists them.
const (
	EnginePgBouncer    = "pgbouncer"
	EngineRedisCluster = "redis-cluster"
)

// Main runs m on the engines TEST_SCALEOUT asks for (none: the plain local
// services) and returns the exit code.
func Main(m *testing.M) int {
	engines, err := scaleoutEngines(os.Getenv("TEST_SCALEOUT"))
	if err == nil {
		err = startEngines(engines)
	}
	defer stopEngines()
	if err != nil {
		fmt.Fprintf(os.Stderr, "FAIL: TEST_SCALEOUT=%s: %v\n", os.Getenv("TEST_SCALEOUT"), err)
		return 1
	}
	return m.Run()
}

func scaleoutEngines(v string) ([]string, error) {
	var out []string
	for _, e := range strings.Split(v, ",") {
		e = strings.TrimSpace(e)
		switch e {
		case "":
			continue
		case EnginePgBouncer, EngineRedisCluster:
			if !slices.Contains(out, e) {
				out = append(out, e)
			}
		default:
			return nil, fmt.Errorf("unknown engine %q (want %s and/or %s)", e, EnginePgBouncer, EngineRedisCluster)
		}
	}
	return out, nil
}

func startEngines(engines []string) error {
	for _, e := range engines {
		switch e {
		case EnginePgBouncer:
			b, err := StartPgBouncer(PgBouncerOptions{})
			if err != nil {
				return err
			}
			scaleout.pgbouncer = b
			fmt.Fprintf(os.Stderr, "testenv: the app's DATABASE_URL goes through PgBouncer (transaction pooling) at %s\n", b.Addr())
		case EngineRedisCluster:
			c, err := StartRedisCluster(3)
			if err != nil {
				return err
			}
			scaleout.redisCluster = c
			fmt.Fprintf(os.Stderr, "testenv: Redis is a 3-master Redis Cluster at %s\n", c.URL())
		}
	}
	return nil
}

func stopEngines() {
	if scaleout.pgbouncer != nil {
		scaleout.pgbouncer.Stop()
	}
	if scaleout.redisCluster != nil {
		scaleout.redisCluster.Stop()
	}
}

// ThroughPgBouncer reports whether this run's app databases are reached
// through PgBouncer (TEST_SCALEOUT=pgbouncer).
func ThroughPgBouncer() bool { return scaleout.pgbouncer != nil }

// OnRedisCluster reports whether this run's Redis is a Redis Cluster
// (TEST_SCALEOUT=redis-cluster).
func OnRedisCluster() bool { return scaleout.redisCluster != nil }
