# loopguard: `make run` replays every shipped scenario and writes reports/;
# `make test` runs every test. Both build what they need first.

SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/loopguard

.PHONY: run test lint bench build browser-test

build:
	$(CARGO) build --release --locked

run: build
	@status=0; $(BIN) check scenarios --out reports || status=$$?; \
	echo "stability report: $(CURDIR)/reports/index.html"; exit $$status

test:
	@mkdir -p target
	set -o pipefail; $(CARGO) test --release --locked --features test-faults 2>&1 | tee target/test.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "%d passed, %d failed\n", p, f }' target/test.log

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets --locked --features test-faults -- -D warnings

bench: build
	$(CARGO) bench --locked --bench simulation

# The report's interactive timeline in a real, headless Chromium (Debian's
# package, installed here when missing; the machine runs as root).
browser-test:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	CHROMIUM=$$(command -v chromium) $(CARGO) test --release --locked --features browser-test --test browser
