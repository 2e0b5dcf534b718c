# Spinel: a Redis-compatible server.
#   make run   - run the server with redis.toml
#   make test  - install what the tests need (real redis-server), then run every test

GO ?= go
SUDO := $(shell [ "$$(id -u)" = 0 ] || echo sudo)

.PHONY: run build test deps vet bench

run:
	$(GO) run . redis.toml

build:
	$(GO) build -o bin/spinel .

# Real Redis 7.0 from Debian is the oracle of the differential tests and the
# baseline of the benchmarks.
# prometheus-redis-exporter checks that monitoring reads Spinel's INFO as it
# reads Redis's.
deps:
	@if ! command -v redis-server >/dev/null || ! command -v redis-benchmark >/dev/null || \
		! command -v prometheus-redis-exporter >/dev/null; then \
		echo "installing redis-server, redis-tools and prometheus-redis-exporter from Debian"; \
		$(SUDO) apt-get update -qq && \
		DEBIAN_FRONTEND=noninteractive $(SUDO) apt-get install -y -qq redis-server redis-tools prometheus-redis-exporter >/dev/null; \
	fi
	@redis-server --version

STATICCHECK := honnef.co/go/tools/cmd/staticcheck@v0.8.2

vet:
	@test -z "$$(gofmt -l .)" || (gofmt -l . && echo "gofmt needed" && exit 1)
	$(GO) vet ./...
	$(GO) run $(STATICCHECK) ./...

test: deps vet
	$(GO) test -race -timeout 20m ./...

bench: deps build
	$(GO) run ./bench
