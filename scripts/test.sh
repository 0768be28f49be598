#!/usr/bin/env bash
# `just test`: every test of the workspace, then one summary line over all
# test binaries (cargo prints one result line per binary).
set -uo pipefail

log=$(mktemp)
trap 'rm -f "$log"' EXIT
cargo test --workspace --all-features "$@" 2>&1 | tee "$log"
status=${PIPESTATUS[0]}
awk '/^test result:/ { for (i = 1; i <= NF; i++) { if ($(i) ~ /^passed;/) p += $(i-1); if ($(i) ~ /^failed;/) f += $(i-1); if ($(i) ~ /^ignored;/) s += $(i-1) } }
     END { printf "\ntests: %d passed, %d failed, %d skipped\n", p, f, s }' "$log"
exit "$status"
