#!/usr/bin/env bash
# Installs what the tests need beyond Go, Postgres and Redis, with apt-get,
# when missing: Debian's headless Chromium, for the screenshot check of /docs,
# and PgBouncer, which the tests run in front of Postgres (they start their
# own pgbouncer processes; the package's own service is not started). A no-op
# when everything is present. A failed install fails: the tests would fail
# without them anyway, and say why.
set -euo pipefail
missing=()
if [ ! -x /usr/bin/chromium ] && [ -z "${CHROMIUM:-}" ]; then missing+=(chromium); fi
if ! command -v pgbouncer >/dev/null 2>&1 && [ ! -x /usr/sbin/pgbouncer ] && [ -z "${PGBOUNCER_BIN:-}" ]; then
  missing+=(pgbouncer)
fi
if [ ${#missing[@]} -eq 0 ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "test-deps: installing ${missing[*]} with apt-get"
# Keep package scripts from starting services (pgbouncer on :6432) during the install.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq "${missing[@]}" >/dev/null
