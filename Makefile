# UltraMarket gateway. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/ultramarket
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Packages that need neither Postgres nor Redis.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test -e /adapters/postgres -e /adapters/redis)

.PHONY: all build run services test test-unit generate lint migrate bench bench-go fuzz clean

all: build

## build: a static binary in bin/ (what the Dockerfile ships)
build:
	CGO_ENABLED=0 $(GO) build -trimpath -ldflags "$(LDFLAGS)" -o $(BIN) ./cmd/ultramarket

## run: start Postgres and Redis, build, create + migrate the database, seed demo data, serve on :5000
run: services build
	./$(BIN) serve

## services: start local Postgres and Redis (installing them with apt-get if missing)
services:
	@bash deploy/services.sh

## test: every test, real Postgres and Redis included, with the race detector; then every fuzz target
## for a bounded number of executions
test:
	@bash deploy/test-deps.sh
	$(GO) test -race -count=1 ./...
	$(MAKE) --no-print-directory fuzz FUZZTIME=20000x

## test-unit: the fast subset that needs no database
test-unit:
	$(GO) test -race -count=1 $(UNIT_PKGS)

## generate: regenerate the golang/mock mocks of ports/
generate:
	$(GO) generate ./...

## lint: gofmt, go vet, and the import-direction test of the hexagon
lint:
	@out=$$(gofmt -l $$(git ls-files '*.go')); if [ -n "$$out" ]; then echo "gofmt would change:"; echo "$$out"; exit 1; fi
	$(GO) vet ./...
	$(GO) test -count=1 -run 'TestImportDirection' ./test/...

## migrate: apply or inspect migrations, e.g. `make migrate CMD=status` (default up)
CMD ?= up
migrate: build
	./$(BIN) migrate $(CMD)

## bench: the load harness (test/bench): installs nginx/pgbench if missing, starts Postgres + Redis,
## builds, runs two gateways and the baselines on a fresh database, prints one table (README: Reading `make bench`)
## BENCH_DURATION=6s BENCH_CONCURRENCY=32 BENCH_DEADLINE=3m ... are read from the environment
bench:
	@bash deploy/bench-deps.sh
	@$(MAKE) --no-print-directory services build
	$(GO) build -o bin/bench ./test/bench
	./bin/bench -binary $(BIN)

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
