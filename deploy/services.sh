#!/usr/bin/env bash
# Starts the local Postgres, Redis and NATS the service and its tests use
# (127.0.0.1:5432 user postgres with trust auth, 127.0.0.1:6379, and NATS
# with JetStream on 127.0.0.1:4222), installing them with apt-get where they
# are missing. Safe to run again: what already runs is left alone.
set -euo pipefail

log() { printf 'services: %s\n' "$*"; }

pg_up() { pg_isready -q -h 127.0.0.1 -p 5432 2>/dev/null; }
redis_up() { redis-cli -h 127.0.0.1 -p 6379 ping 2>/dev/null | grep -q PONG; }
# NATS answers a client's connection with an INFO line; JetStream's being on
# is what the tests check themselves (testenv.NATS).
nats_up() { timeout 2 bash -c 'exec 3<>/dev/tcp/127.0.0.1/4222 && head -c 4 <&3' 2>/dev/null | grep -q INFO; }

SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi

apt_install() {
  log "installing $* with apt-get"
  export DEBIAN_FRONTEND=noninteractive
  $SUDO apt-get update -qq
  $SUDO apt-get install -y -qq "$@" >/dev/null
}

wait_for() { # name, check-function
  for _ in $(seq 1 60); do
    if "$2"; then return 0; fi
    sleep 0.5
  done
  log "$1 did not come up; see its log"
  return 1
}

# --- Postgres ---------------------------------------------------------------
if pg_up; then
  log "postgres already running"
else
  if ! command -v pg_ctlcluster >/dev/null 2>&1 && ! ls /usr/lib/postgresql/*/bin/postgres >/dev/null 2>&1; then
    apt_install postgresql postgresql-client
  fi
  if ! command -v pg_isready >/dev/null 2>&1; then apt_install postgresql-client; fi
  ver=$(ls /etc/postgresql 2>/dev/null | sort -V | tail -n1 || true)
  if [ -z "$ver" ]; then
    ver=$(ls /usr/lib/postgresql | sort -V | tail -n1)
    log "creating cluster $ver/main"
    $SUDO pg_createcluster "$ver" main >/dev/null
  fi
  hba="/etc/postgresql/$ver/main/pg_hba.conf"
  # Local development and CI use trust auth on loopback, as the README says.
  if ! grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba"; then
    log "enabling trust auth on loopback in $hba"
    $SUDO sed -i -E 's/^(local|host)(\s+all\s+all\s+.*)(peer|md5|scram-sha-256)$/\1\2trust/' "$hba"
    grep -qE '^host\s+all\s+all\s+127\.0\.0\.1/32\s+trust' "$hba" || echo "host all all 127.0.0.1/32 trust" | $SUDO tee -a "$hba" >/dev/null
  fi
  log "starting postgres $ver"
  $SUDO pg_ctlcluster --skip-systemctl-redirect "$ver" main start || true
  wait_for postgres pg_up
fi

# --- Redis --------------------------------------------------------------------
if redis_up; then
  log "redis already running"
else
  if ! command -v redis-server >/dev/null 2>&1; then apt_install redis-server; fi
  $SUDO mkdir -p /var/lib/redis /var/log/redis
  log "starting redis"
  $SUDO redis-server --daemonize yes --bind 127.0.0.1 -::1 --port 6379 --save "" --appendonly no \
    --dir /var/lib/redis --logfile /var/log/redis/ultramarket.log
  wait_for redis redis_up
fi

# --- NATS (JetStream) ---------------------------------------------------------
if nats_up; then
  log "nats already running"
else
  if ! command -v nats-server >/dev/null 2>&1 && [ ! -x /usr/sbin/nats-server ]; then apt_install nats-server; fi
  bin=$(command -v nats-server || echo /usr/sbin/nats-server)
  $SUDO mkdir -p /var/lib/nats-server /var/log/nats-server
  log "starting nats-server with JetStream"
  # -js: the domain events go to a JetStream stream; -sd: where it stores them.
  $SUDO bash -c "nohup '$bin' -a 127.0.0.1 -p 4222 -js -sd /var/lib/nats-server \
    -l /var/log/nats-server/ultramarket.log >/dev/null 2>&1 &"
  wait_for nats nats_up
fi

log "postgres on 127.0.0.1:5432, redis on 127.0.0.1:6379 and nats on 127.0.0.1:4222 are up"
