#!/usr/bin/env bash
# Sets up a fresh Debian machine (libclang for RocksDB's bindings, Prometheus + promtool for the comparison
# tests) and runs the whole test suite: unit tests, PromQL conformance scripts, end-to-end tests against
# the real binary on 127.0.0.1.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/setup.sh
. scripts/target-dir.sh
echo "CARGO_TARGET_DIR=$CARGO_TARGET_DIR"
cargo test --workspace --no-fail-fast "$@"
