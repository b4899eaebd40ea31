# pbxd — the two commands a newcomer runs (README), plus bench.
#   make run    install what is missing, build release, start pbxd on conf/
#   make test   install the test peers, build, unit tests, then the interop suite
#   make bench  run the benchmarks in bench/ (they print figures, they assert nothing)
SHELL := /bin/bash
.SHELLFLAGS := -eu -o pipefail -c
# Swift is preinstalled at /opt/swift on these machines.
export PATH := $(PATH):/opt/swift/usr/bin

SWIFT       ?= swift
PYTHON      ?= python3
CONFIG_DIR  ?= conf
DATA_DIR    ?= data
# extra pytest arguments, e.g. make test PYTEST_ARGS='-k register'
PYTEST_ARGS ?=

.PHONY: run build build-debug deps deps-test deps-bench unit interop test bench clean

deps:
	@scripts/install-deps.sh run

deps-test:
	@scripts/install-deps.sh test

deps-bench:
	@scripts/install-deps.sh bench

build: deps
	$(SWIFT) build -c release

build-debug:
	$(SWIFT) build

run: build
	@mkdir -p $(DATA_DIR)
	exec .build/release/pbxd --config-dir $(CONFIG_DIR) --data-dir $(DATA_DIR)

unit: deps-test
	$(SWIFT) test
	@# The relay's no-allocation tests need the malloc counter preloaded (bench/malloc-count.c).
	@mkdir -p .build && cc -O2 -Wall -shared -fPIC -o .build/libmalloc-count.so bench/malloc-count.c
	LD_PRELOAD=$(CURDIR)/.build/libmalloc-count.so $(SWIFT) test --skip-build --filter RelayAllocationTests

# the interop suite runs against the debug build of pbxd
interop: deps-test build-debug
	PBXD_BIN=$(CURDIR)/.build/debug/pbxd $(PYTHON) -m pytest -p no:cacheprovider -v -rfE Tests/interop $(PYTEST_ARGS)

test: deps-test build-debug unit interop

bench: deps-bench
	@found=0; for s in bench/run-*.sh; do \
		[[ -e $$s ]] || continue; found=1; echo "== $$s"; bash "$$s"; \
	done; (( found )) || echo "no bench/run-*.sh scripts yet"

clean:
	rm -rf .build
