#!/usr/bin/env bash
# The flows that must hold on the engines production scales out on, each `go
# test` run starting its own private engines on free ports and removing them
# afterwards (test/testenv, TEST_SCALEOUT):
#
#   pgbouncer      the end-to-end cart, order, expiry, payment and webhook
#                  flows with the app's DATABASE_URL through PgBouncer in
#                  transaction pooling mode (migrations direct, as in
#                  production), and that recipe itself (TestScaleout_*)
#   redis-cluster  the end-to-end identity flows (register, login, refresh,
#                  logout on every instance, lockout, rate limits, sessions
#                  cap) and the Redis stores' own tests (sessions, login
#                  guard, rate limiter, one-time codes) on a 3-master Cluster
#
# An engine that cannot start fails the run with how to install it. A -run
# pattern that matches no test fails too, so a rename cannot quietly turn a
# run into "no tests to run".
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"

run() { # engine, -run pattern (empty: all), package
  local engine=$1 pattern=$2 pkg=$3 n
  if [ -n "$pattern" ]; then
    n=$("$GO" test -list "$pattern" "$pkg" | grep -c '^Test' || true)
    if [ "$n" -eq 0 ]; then
      echo "test-scaleout: -run '$pattern' matches no test in $pkg" >&2
      exit 1
    fi
    echo "test-scaleout: $engine: $n tests of $pkg matching $pattern"
    TEST_SCALEOUT=$engine "$GO" test -race -count=1 -run "$pattern" "$pkg"
  else
    echo "test-scaleout: $engine: every test of $pkg"
    TEST_SCALEOUT=$engine "$GO" test -race -count=1 "$pkg"
  fi
}

run pgbouncer '^Test(Scaleout|Cart|Orders|Expiry|Payme|Click|Payments|Webhooks)_' ./test/e2e/
run redis-cluster '^TestIdentity_' ./test/e2e/
run redis-cluster '' ./adapters/redis/
