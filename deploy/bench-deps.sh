#!/usr/bin/env bash
# Installs what `make bench` measures against, with apt-get, when missing:
# nginx (the proxy_pass and proxy_cache baselines), pgbench (the Postgres
# baseline; Debian ships it in postgresql-client) and wrk (the load generator
# of the plain HTTP rows: written in C with an event loop, it is not the
# bottleneck the Go driver's goroutine per worker would be against nginx).
#
# nginx's package would start a system nginx on :80 as it installs; a
# temporary policy-rc.d stops that (the harness runs its own nginx in the
# foreground on a free loopback port). Safe to run again. A failed install
# is reported, not fatal: the harness prints "n/a" for what is missing.
set -uo pipefail

log() { printf 'bench-deps: %s\n' "$*"; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

have_nginx() { command -v nginx >/dev/null 2>&1 || [ -x /usr/sbin/nginx ]; }
have_pgbench() { command -v pgbench >/dev/null 2>&1; }
have_wrk() { command -v wrk >/dev/null 2>&1; }

missing=()
have_nginx || missing+=(nginx)
have_pgbench || missing+=(postgresql-client)
have_wrk || missing+=(wrk)
if [ ${#missing[@]} -eq 0 ]; then
  log "nginx, pgbench and wrk already installed"
  exit 0
fi

if ! command -v apt-get >/dev/null 2>&1; then
  log "no apt-get: install ${missing[*]} by hand; make bench prints n/a without them"
  exit 0
fi

# Keep package scripts from starting services (nginx on :80) during the install.
policy=/usr/sbin/policy-rc.d
made_policy=""
if [ ! -e "$policy" ]; then
  printf '#!/bin/sh\nexit 101\n' | $SUDO tee "$policy" >/dev/null && $SUDO chmod 755 "$policy" && made_policy=1
fi
cleanup() { if [ -n "$made_policy" ]; then $SUDO rm -f "$policy"; fi; }
trap cleanup EXIT

log "installing ${missing[*]} with apt-get"
export DEBIAN_FRONTEND=noninteractive
if ! { $SUDO apt-get update -qq && $SUDO apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null; }; then
  log "apt-get install ${missing[*]} failed; make bench prints n/a for what is missing"
  exit 0
fi
# Older Debian releases ship pgbench in postgresql-contrib.
if ! have_pgbench; then
  $SUDO apt-get install -y -qq --no-install-recommends postgresql-contrib >/dev/null || true
fi
have_nginx && log "nginx: $( (nginx -v 2>&1 || /usr/sbin/nginx -v 2>&1) | head -n1)"
have_pgbench && log "pgbench: $(pgbench --version)"
have_wrk && log "wrk: $(wrk --version 2>&1 | head -n1)"
exit 0
