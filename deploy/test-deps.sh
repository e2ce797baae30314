#!/usr/bin/env bash
# Installs what the tests need beyond Go, Postgres and Redis: Debian's
# headless Chromium, for the screenshot check of /docs. A no-op when present.
set -euo pipefail
if [ -x /usr/bin/chromium ] || [ -n "${CHROMIUM:-}" ]; then
  exit 0
fi
SUDO=""
if [ "$(id -u)" -ne 0 ]; then SUDO="sudo"; fi
echo "test-deps: installing chromium with apt-get"
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
$SUDO apt-get install -y -qq chromium >/dev/null
