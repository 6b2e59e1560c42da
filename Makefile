# loopguard: `make run` replays every shipped scenario and writes reports/;
# `make test` runs every test. Both build what they need first.

SHELL := /bin/bash
CARGO ?= cargo
BIN := target/release/loopguard

.PHONY: run test lint bench build mutants fuzz browser-test determinism-soak

build:
	$(CARGO) build --release --locked

run: build
	@status=0; $(BIN) check scenarios --out reports || status=$$?; \
	echo "stability report: $(CURDIR)/reports/index.html"; exit $$status

test:
	@mkdir -p target
	set -o pipefail; $(CARGO) test --release --locked --no-fail-fast --features test-faults 2>&1 | tee target/test.log
	@awk '/^test result:/ { p += $$4; f += $$6 } END { printf "%d passed, %d failed\n", p, f }' target/test.log

lint:
	$(CARGO) fmt --all -- --check
	$(CARGO) clippy --release --all-targets --locked --features test-faults -- -D warnings

bench: build
	$(CARGO) bench --locked --bench simulation

# Mutation testing of the supervisor with the scenario gate (tests/shipped_scenarios.rs on the
# fast engine, every scenario `check scenarios` runs, production/ and found/ included, with every preset its
# [expect] names) as the test that must fail. Not part of `make test`: a full
# run is long on 2 cores. Built with the `mutants` profile (Cargo.toml). Pass e.g. MUTANTS_ARGS="--shard 0/8" or "--file src/supervisor/reconnector.rs".
# Results: reports/mutants.out/{caught,missed,timeout,unviable}.txt and reports/mutants-score.txt.
MUTANTS_ARGS ?=
mutants:
	@command -v cargo-mutants >/dev/null || $(CARGO) install --locked cargo-mutants
	@mkdir -p reports
	-LOOPGUARD_GATE_ENGINE=fast $(CARGO) mutants --in-place --baseline skip --timeout 300 \
		--profile mutants --file 'src/supervisor/**' --output reports $(MUTANTS_ARGS) \
		-- --features test-faults --test shipped_scenarios -- --skip same_verdicts_on_the_fast_engine
	@cd reports/mutants.out && c=$$(wc -l < caught.txt) && m=$$(wc -l < missed.txt) && \
		t=$$(wc -l < timeout.txt) && u=$$(wc -l < unviable.txt) && \
		echo "caught $$c, missed $$m, timed out $$t, unviable $$u; score $$(( 100 * c / (c + m + t > 0 ? c + m + t : 1) ))% (caught / caught+missed+timed out)" \
		| tee ../mutants-score.txt

# Mutation fuzzing of the scenario and preset parsers (tests/scenario_fuzz.rs):
# FUZZ_CASES mutated files; fails on a panic, a refusal without a line, or a
# case over 1 s.
FUZZ_CASES ?= 100000
fuzz:
	@mkdir -p target
	set -o pipefail; LOOPGUARD_FUZZ_CASES=$(FUZZ_CASES) $(CARGO) test --release --locked --features test-faults --test scenario_fuzz -- --nocapture 2>&1 | tee target/fuzz.log
	@grep -q ' 0 over 1 s' target/fuzz.log || { echo "fuzz: inputs over 1 s (see target/fuzz.log)"; exit 1; }

# The report's interactive timeline in a real, headless Chromium (Debian's
# package, installed here when missing; the machine runs as root).
browser-test:
	@command -v chromium >/dev/null 2>&1 || { apt-get update -qq && DEBIAN_FRONTEND=noninteractive apt-get install -y -qq chromium; }
	CHROMIUM=$$(command -v chromium) $(CARGO) test --release --locked --features browser-test --test browser

# The full-length determinism checks (minutes): soak_24h legacy and seed-fix
# rerun five times, and the whole shipped check at --jobs 1 against --jobs 2.
determinism-soak:
	$(CARGO) test --release --locked --features test-faults --test world_determinism -- --ignored
