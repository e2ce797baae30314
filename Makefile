# UltraMarket gateway. `make run` and `make test` are the two commands a newcomer needs.
SHELL := /bin/bash
GO ?= go
BIN := bin/ultramarket
VERSION ?= $(shell git describe --tags --always --dirty 2>/dev/null || echo dev)
LDFLAGS := -s -w -X main.version=$(VERSION)
# Packages that need neither Postgres nor Redis.
UNIT_PKGS = $(shell $(GO) list ./... | grep -v -e /test -e /adapters/postgres -e /adapters/redis)

.PHONY: all build run services test test-unit generate lint migrate bench fuzz clean

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

## test: every test, real Postgres and Redis included, with the race detector
test:
	$(GO) test -race -count=1 ./...

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

## bench: the Go benchmarks (password hashing, session check, ...)
bench:
	$(GO) test -run '^$$' -bench . -benchmem ./...

## fuzz: run each fuzz target for a short bounded time
FUZZTIME ?= 10s
fuzz:
	@for pkg in $$($(GO) list ./...); do \
	  for f in $$($(GO) test -list '^Fuzz' $$pkg 2>/dev/null | grep '^Fuzz'); do \
	    echo "fuzz $$pkg $$f"; $(GO) test -run '^$$' -fuzz "^$$f$$" -fuzztime $(FUZZTIME) $$pkg || exit 1; \
	  done; \
	done

clean:
	rm -rf bin
