# Interlink: the two commands are `make demo` and `make test`.
SHELL := /bin/bash
.DEFAULT_GOAL := help

.PHONY: help demo test deny build kafka-up kafka-down bench loadtest faults state-restore fmt lint compose-check fuzz-smoke fuzz

help:
	@echo "make demo           local Kafka, sample routes, two workers, a short load, a summary"
	@echo "make test           start what the tests need (local Kafka) and run every test"
	@echo "make deny           supply chain: dependency licences, bans, sources, advisories (cargo-deny)"
	@echo "make bench          criterion benchmarks of the hot path"
	@echo "make loadtest       every load-test scenario and its report (SCENARIOS=\"steady ramp\" for some)"
	@echo "make faults         the fault suite on 1 node, then 3 (clusters of its own; FAULTS=\"1\" for one)"
	@echo "make state-restore  restore 10 million keys of keyed state from a fresh changelog (local broker)"
	@echo "make fuzz-smoke     every cargo-fuzz target for 30 s (scripts/fuzz smoke; no broker)"
	@echo "make fuzz           every cargo-fuzz target for 10 minutes, one at a time (SECONDS=600)"
	@echo "make kafka-up|kafka-down   the local KRaft broker (scripts/kafka)"

demo:
	scripts/demo

test:
	scripts/test

deny:
	scripts/deny

build:
	cargo build --release --locked --workspace --bins

kafka-up:
	scripts/kafka up

kafka-down:
	scripts/kafka down

bench:
	cargo bench --locked -p interlink-schemas -p interlink-switch

loadtest:
	scripts/loadtest $(SCENARIOS)

# The fault suite: load through three workers while workers and brokers are killed,
# paused and drained, workers join and leave, routes change and transactions hang; every
# outcome checked once the outputs are quiet. Clusters of its own (scripts/faults).
faults:
	scripts/faults $(FAULTS)

# Keyed-state restore against a running broker (`make kafka-up`, or INTERLINK_BROKERS;
# default 127.0.0.1:9092): writes 10 million request memos to a fresh changelog topic,
# restores them into an empty store, restarts over its checkpoint, and prints times,
# RSS and disk per million keys, then a JSON line. The topic and store are deleted.
state-restore:
	cargo run --release --locked -p interlink-loadtest -- state-restore

compose-check:
	scripts/check-compose

# Fuzzing (fuzz/, docs/reliability.md): builds the instrumented targets once, then runs
# each; exits non-zero if any crashed. New inputs go to fuzz/target/corpus; `scripts/fuzz
# cmin` folds them into the committed corpus.
fuzz-smoke:
	scripts/fuzz smoke

fuzz:
	scripts/fuzz long $(SECONDS)

fmt:
	cargo fmt --all

lint:
	cargo fmt --all -- --check
	cargo clippy --workspace --all-targets --locked -- -D warnings
