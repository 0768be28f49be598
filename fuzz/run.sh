#!/usr/bin/env bash
# Runs every fuzz target for the given number of seconds (default 60), one
# after another, from the seed corpora (fuzz/seed.sh) plus what earlier runs
# found. Needs a nightly toolchain and cargo-fuzz. Crashes land in
# fuzz/artifacts/<target>/; the exit status is non-zero if any target failed.
#
#   fuzz/run.sh 600                 # ten minutes per target
#   fuzz/run.sh 60 command_parse    # one target
#   FUZZ_SANITIZER=address fuzz/run.sh 60
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
seconds=${1:-60}
shift || true
if ! [[ $seconds =~ ^[0-9]+$ ]] || (( seconds == 0 )); then
  echo "usage: fuzz/run.sh [seconds per target] [target...]" >&2
  exit 2
fi
if ! cargo +nightly --version >/dev/null 2>&1; then
  echo "fuzzing needs a nightly toolchain: rustup toolchain install nightly --profile minimal" >&2
  exit 1
fi
if ! cargo +nightly fuzz --version >/dev/null 2>&1; then
  echo "fuzzing needs cargo-fuzz: cargo install cargo-fuzz --locked" >&2
  exit 1
fi
# Every crate forbids unsafe code, so AddressSanitizer finds little the
# fuzzers' own assertions do not, at several times the cost; opt in with
# FUZZ_SANITIZER=address.
sanitizer=${FUZZ_SANITIZER:-none}
cd "$here"
./seed.sh
targets=("$@")
if (( ${#targets[@]} == 0 )); then
  mapfile -t targets < <(cargo +nightly fuzz list)
fi
cargo +nightly fuzz build --sanitizer "$sanitizer"
mkdir -p logs
failed=()
for target in "${targets[@]}"; do
  dict=()
  case $target in
    balatro_event | batch_envelope) dict=(-dict="$here/dicts/balatro.dict") ;;
  esac
  echo "== $target: ${seconds}s (log: fuzz/logs/$target.log)"
  if cargo +nightly fuzz run --sanitizer "$sanitizer" "$target" "corpus/$target" -- \
    -max_total_time="$seconds" -timeout=10 -rss_limit_mb=2048 -print_final_stats=1 \
    "${dict[@]}" >"logs/$target.log" 2>&1; then
    grep -E '^stat::(number_of_executed_units|peak_rss_mb)|cov: ' "logs/$target.log" | tail -3
  else
    failed+=("$target")
    tail -40 "logs/$target.log"
  fi
done
if (( ${#failed[@]} > 0 )); then
  echo "failed: ${failed[*]} (inputs in fuzz/artifacts/; reproduce with cargo +nightly fuzz run --sanitizer $sanitizer <target> <input>)" >&2
  exit 1
fi
echo "no failures"
