# loopguard: `make run` replays every shipped scenario and writes reports/;
# `make test` runs every test. Both build what they need first.

SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/loopguard

.PHONY: run test lint bench build determinism-soak

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

# The full-length determinism checks (minutes): soak_24h legacy and seed-fix
# rerun five times, and the whole shipped check at --jobs 1 against --jobs 2.
determinism-soak:
	$(CARGO) test --release --locked --test world_determinism -- --ignored
