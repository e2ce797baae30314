# UltraMarket gateway. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
# Every build, test and release uses this toolchain (the Go module proxy serves
# it; go.mod keeps `go 1.26.0`, the oldest that compiles the code): its
# standard library has no known vulnerability. Exported, so the `go` that
# tests run (go build, go list) is the same one. Calling go by hand: export it.
export GOTOOLCHAIN := go1.27.3
GO ?= go
BIN := bin/ultramarket
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Packages that need neither Postgres nor Redis.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test -e /adapters/postgres -e /adapters/redis)

# Tools of `make lint`, pinned, installed into bin/ (git-ignored) when missing.
# A new pin installs beside the old one.
GOLANGCI_LINT_VERSION := v2.15.0
GOVULNCHECK_VERSION := v1.9.0
REDOCLY_VERSION := 2.77.0
# The Go vulnerability database govulncheck reads: golang.org/x/vulndb (its
# source, served by the module proxy) at this version, indexed into bin/.
# `make vulndb-update` moves the pin to the newest.
VULNDB_VERSION := v0.0.0-20261105234957-e22db6528018

GOLANGCI_LINT := bin/golangci-lint-$(GOLANGCI_LINT_VERSION)/golangci-lint
GOVULNCHECK := bin/govulncheck-$(GOVULNCHECK_VERSION)/govulncheck
REDOCLY := bin/redocly-$(REDOCLY_VERSION)/node_modules/.bin/redocly
VULNDB := bin/vulndb-$(VULNDB_VERSION)
OPENAPI := adapters/httpapi/openapi/openapi.yaml

.PHONY: all build run services test test-scaleout test-unit generate lint lint-go vulncheck lint-openapi check-generated \
	vulndb-update migrate bench bench-go profile bench-idle fuzz clean

all: build

## build: a static binary in bin/ (what the Dockerfile ships)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ultramarket

## run: start Postgres and Redis, build, create + migrate the database, seed demo data, serve on :5000
run: services build
	./$(BIN) serve

## services: start local Postgres, Redis and NATS (installing them with apt-get if missing)
services:
	@bash deploy/services.sh

## test: the static checks (make lint), then every test, real Postgres and Redis included, with the race
## detector; then the scale-out runs (test-scaleout); then every fuzz target for a bounded number of executions
test: lint
	@bash deploy/test-deps.sh
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory test-scaleout
	$(MAKE) --no-print-directory fuzz FUZZTIME=20000x

## test-scaleout: the order and payment flows through PgBouncer (transaction pooling), the identity flows
## and the Redis stores on a 3-master Redis Cluster; each run starts and removes its own engines
test-scaleout:
	@bash deploy/test-deps.sh
	@GO=$(GO) bash deploy/test-scaleout.sh

## test-unit: the fast subset that needs no database
test-unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

## generate: regenerate the golang/mock mocks of ports/
generate:
	$(GO) generate ./...

## lint: the static checks, in order: gofmt, go vet, golangci-lint (.golangci.yml), the architecture
## tests (import direction, no echo proxy middleware), govulncheck with the waivers of
## deploy/vulncheck/waivers.txt, Redocly's lint of the OpenAPI document, and that `go mod tidy` and
## `go generate ./...` change nothing
lint: lint-go vulncheck lint-openapi check-generated

lint-go: $(GOLANGCI_LINT)
	@out=$$(gofmt -l $$(git ls-files --cached --others --exclude-standard '*.go')); \
	if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GOLANGCI_LINT) run ./...
	$(GO) test -count=1 ./test/architecture/

## vulncheck: govulncheck against the pinned database; any finding not waived in
## deploy/vulncheck/waivers.txt (with its reason) fails, and so does a waiver nothing needs
vulncheck: $(GOVULNCHECK) $(VULNDB)/index/db.json
	@set -o pipefail; $(GOVULNCHECK) -db file://$(CURDIR)/$(VULNDB) -format json ./... \
	  | $(GO) run ./deploy/vulncheck -waivers deploy/vulncheck/waivers.txt

## lint-openapi: Redocly's recommended rules, warnings as errors (recommended-strict); the findings it
## skips, each with its reason, are in .redocly.lint-ignore.yaml
lint-openapi: $(REDOCLY)
	REDOCLY_TELEMETRY=off REDOCLY_SUPPRESS_UPDATE_NOTICE=true \
	  $(REDOCLY) lint --extends=recommended-strict --format=stylish $(OPENAPI)

## check-generated: `go mod tidy` and `go generate ./...` must leave the tree as it is
check-generated:
	@bash deploy/check-generated.sh

$(GOLANGCI_LINT):
	GOBIN=$(CURDIR)/$(@D) $(GO) install github.com/golangci/golangci-lint/v2/cmd/golangci-lint@$(GOLANGCI_LINT_VERSION)

$(GOVULNCHECK):
	GOBIN=$(CURDIR)/$(@D) $(GO) install golang.org/x/vuln/cmd/govulncheck@$(GOVULNCHECK_VERSION)

$(REDOCLY):
	@command -v npm >/dev/null || { echo "npm is missing: install Node.js 20 and npm (apt-get install -y nodejs npm)"; exit 1; }
	npm install --prefix bin/redocly-$(REDOCLY_VERSION) --save-exact --no-audit --no-fund --loglevel=error \
	  @redocly/cli@$(REDOCLY_VERSION)

# The database is built from the module's data/osv with its own indexer, in a
# scratch directory outside this module, then moved into place.
$(VULNDB)/index/db.json:
	@set -euo pipefail; tmp=$$(mktemp -d); trap 'rm -rf "$$tmp"' EXIT; \
	src=$$(cd "$$tmp" && $(GO) mod download -json golang.org/x/vulndb@$(VULNDB_VERSION) | sed -n 's/^\t"Dir": "\(.*\)",$$/\1/p'); \
	test -d "$$src/data/osv" || { echo "golang.org/x/vulndb@$(VULNDB_VERSION) has no data/osv"; exit 1; }; \
	echo "indexing golang.org/x/vulndb@$(VULNDB_VERSION) into $(VULNDB)"; \
	(cd "$$tmp" && $(GO) run golang.org/x/vulndb/cmd/indexdb@$(VULNDB_VERSION) -vulns "$$src/data/osv" -out "$$tmp/db"); \
	rm -rf $(VULNDB); mkdir -p bin; mv "$$tmp/db" $(VULNDB)

## vulndb-update: move VULNDB_VERSION to the newest golang.org/x/vulndb (then run make lint, and commit)
vulndb-update:
	@set -euo pipefail; v=$$(cd "$$(mktemp -d)" && $(GO) list -m -f '{{.Version}}' golang.org/x/vulndb@latest); \
	sed -i "s/^VULNDB_VERSION := .*/VULNDB_VERSION := $$v/" Makefile; \
	echo "VULNDB_VERSION is now $$v"

## migrate: apply or inspect migrations, e.g. `make migrate CMD=status` (default up)
CMD ?= up
migrate: build
	./$(BIN) migrate $(CMD)

## bench: the load harness (cmd/bench): installs nginx/pgbench if missing, starts Postgres + Redis,
## builds, runs two gateways and the baselines on a fresh database, prints one table (README: Reading `make bench`)
## BENCH_DURATION=6s BENCH_CONCURRENCY=32 BENCH_DEADLINE=5m ... are read from the environment
bench:
	@bash deploy/bench-deps.sh
	@$(MAKE) --no-print-directory services build
	$(GO) build -o bin/bench ./cmd/bench
	./bin/bench -binary $(BIN)

## profile: a CPU and an allocation profile of the gateway under one bench scenario, e.g.
## `make profile SCENARIO=products` (health, me, products, products-cached, orders, orders-wide, payme, login), read
## from the ops listener's /debug/pprof/ into profiles/<scenario>/ (git-ignored); prints their top entries
SCENARIO ?= products
profile:
	@bash deploy/bench-deps.sh
	@$(MAKE) --no-print-directory services build
	$(GO) build -o bin/bench ./cmd/bench
	./bin/bench -binary $(BIN) -profile $(SCENARIO) -profile-dir profiles
	$(GO) tool pprof -top -nodecount=25 profiles/$(SCENARIO)/cpu.pprof
	$(GO) tool pprof -top -nodecount=25 -sample_index=alloc_space profiles/$(SCENARIO)/allocs.pprof

## bench-idle: start-up time and idle memory as `make run` gives them (existing database, 5 s after
## ready: VmRSS and heap in use), and a heap profile at rest in profiles/idle/ with its top entries
bench-idle:
	@$(MAKE) --no-print-directory services build
	$(GO) build -o bin/bench ./cmd/bench
	./bin/bench -binary $(BIN) -idle -profile-dir profiles
	$(GO) tool pprof -top -nodecount=25 -sample_index=inuse_space profiles/idle/heap.pprof

## bench-go: the Go micro-benchmarks (password hashing, session check, ...)
bench-go:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run every Fuzz* target of every package for FUZZTIME each (seed corpora in testdata/fuzz/)
## A package whose tests do not compile fails the target instead of being skipped.
## FUZZTIME is a count of executions ("Nx") rather than a duration: with a duration, Go 1.26's fuzz
## coordinator can report a spurious "context deadline exceeded" at the deadline (golang/go#75804,
## fixed in Go 1.27), which would make CI flaky.
FUZZTIME ?= 50000x
fuzz:
	@set -euo pipefail; n=0; \
	pkgs=$$($(GO) list -f '{{.ImportPath}} {{.Dir}}' ./...); \
	while read -r pkg dir; do \
	  grep -qs '^func Fuzz' "$$dir"/*_test.go || continue; \
	  list=$$($(GO) test -list '^Fuzz' "$$pkg" </dev/null); \
	  for f in $$(printf '%s\n' "$$list" | grep '^Fuzz' || true); do \
	    echo "fuzz $$pkg $$f ($(FUZZTIME))"; \
	    $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) "$$pkg" </dev/null; \
	    n=$$((n + 1)); \
	  done; \
	done <<< "$$pkgs"; \
	if [ "$$n" -eq 0 ]; then echo "fuzz: no Fuzz targets found" >&2; exit 1; fi; \
	echo "fuzz: $$n targets, $(FUZZTIME) each"

clean:
	rm -rf bin
