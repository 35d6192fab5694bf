#!/usr/bin/env bash
# Sets up a fresh Debian machine, builds Strata (release) and runs the server on its embedded default:
# HTTP on 127.0.0.1:9090, data in ./strata-data. Extra arguments go to `strata serve`.
set -euo pipefail
cd "$(dirname "$0")/.."
STRATA_SKIP_PROMETHEUS=1 bash scripts/setup.sh
. scripts/target-dir.sh
cargo build --release --bin strata
exec "$CARGO_TARGET_DIR/release/strata" serve "$@"
