#!/usr/bin/env bash
# Takes a headless Chromium screenshot of a running gateway's /docs page and
# checks it is not blank. The same check runs in `go test ./test/e2e -run
# TestOpenAPI_DocsPageRenders` (which boots its own gateway).
#
#   deploy/docs-screenshot.sh [base-url] [out.png]
#   deploy/docs-screenshot.sh http://127.0.0.1:5000 /tmp/docs.png
#
# Needs /usr/bin/chromium (apt-get install -y chromium). Exit status: 0 when
# the screenshot looks rendered, 1 when it is missing or blank, 2 when
# Chromium is missing.
set -euo pipefail

base="${1:-http://127.0.0.1:5000}"
out="${2:-docs-screenshot.png}"
min_bytes="${MIN_BYTES:-20480}"
browser="${CHROMIUM:-/usr/bin/chromium}"

if [ ! -x "$browser" ]; then
  echo "docs-screenshot: $browser not found (apt-get install -y chromium)" >&2
  exit 2
fi

profile="$(mktemp -d)"
trap 'rm -rf "$profile"' EXIT
rm -f "$out"

"$browser" --headless --no-sandbox --disable-gpu --disable-background-networking \
  --disable-component-update --disable-sync --no-first-run --disable-dev-shm-usage \
  --user-data-dir="$profile" --virtual-time-budget=15000 \
  --screenshot="$out" --window-size=1280,900 "${base%/}/docs" >/dev/null 2>&1 || true

if [ ! -s "$out" ]; then
  echo "docs-screenshot: no screenshot written to $out" >&2
  exit 1
fi
size=$(stat -c %s "$out")
if [ "$size" -lt "$min_bytes" ]; then
  echo "docs-screenshot: $out is $size bytes (< $min_bytes): the page looks blank" >&2
  exit 1
fi
echo "docs-screenshot: $out ($size bytes)"
