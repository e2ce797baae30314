// Package testenv gives integration and end-to-end tests the real services
// they run against: a fresh Postgres database per test (Postgres, PostgresURL,
// EmptyDatabaseURL), Redis, and the whole gateway booted on loopback ports.
//
// The services must be running (`make services`); a test that cannot reach
// one fails with a message saying so, it never skips. TEST_DATABASE_URL
// points the tests at another Postgres server.
//
// It also starts the engines production scales out on, as private processes
// on free ports: PgBouncer in transaction pooling mode (StartPgBouncer), a
// Redis Cluster (StartRedisCluster) and a Sentinel-managed Redis
// (StartRedisSentinelT). TEST_SCALEOUT runs a whole package on them (Main).
package testenv
