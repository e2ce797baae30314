#!/usr/bin/env bash
# Fails when `go mod tidy` or `go generate ./...` changes the work tree, and
# names the files they changed (left changed, to be reviewed and committed).
# Files already modified before the run are compared by content, so the check
# also works on a tree with uncommitted edits.
set -euo pipefail
cd "$(dirname "$0")/.."
GO="${GO:-go}"

snapshot() {
  # Every tracked or untracked, not ignored, file with its content hash
  # ("deleted" for a tracked file that is gone).
  local files existing
  files=$(git ls-files --cached --others --exclude-standard | sort -u)
  existing=$(while IFS= read -r f; do [ -e "$f" ] && printf '%s\n' "$f"; done <<<"$files")
  paste -d ' ' <(git hash-object --stdin-paths <<<"$existing") <(printf '%s\n' "$existing")
  comm -23 <(printf '%s\n' "$files") <(printf '%s\n' "$existing") | sed 's/^/deleted /'
}

before=$(snapshot)
"$GO" mod tidy
"$GO" generate ./...
after=$(snapshot)

changed=$(diff <(printf '%s\n' "$before") <(printf '%s\n' "$after") | sed -n 's/^[<>] [^ ]* //p' | sort -u || true)
if [ -n "$changed" ]; then
  echo "go mod tidy / go generate ./... changed these files; review and commit them:"
  while IFS= read -r f; do printf '  %s\n' "$f"; done <<<"$changed"
  exit 1
fi
echo "check-generated: go mod tidy and go generate ./... change nothing"
