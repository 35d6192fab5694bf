# Sourced by the other scripts: one Cargo target dir outside the work tree, shared by every clone on this
# machine (CI runs in a fresh clone and reuses the warm build). Override with CARGO_TARGET_DIR.
if [ -z "${CARGO_TARGET_DIR:-}" ]; then
  if [ -d /work ] && [ -w /work ]; then
    export CARGO_TARGET_DIR=/work/target
  else
    export CARGO_TARGET_DIR="${XDG_CACHE_HOME:-$HOME/.cache}/strata-target"
  fi
fi
