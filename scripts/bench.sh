#!/usr/bin/env bash
# `just bench`: the benchmark suite. For each JetStream flush policy (the
# default, and `sync_interval: always` as in production) it starts a fresh
# nats-server with file storage, then measures, each against a freshly
# started release gateway: single-event ingest, 50-event batches, the
# realistic many-instance profile, the replay of a 1,000,000-event session;
# and the same batches published straight to JetStream (the baseline, run
# right after the gateway's batch row), also at the half load, for the
# broker's own latency there. Then
# the coordinator's and analytics' own suites (each starts its own server). Prints one table; rows are also left as JSON
# in target/bench/. Never part of `just test`.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
duration=${BENCH_DURATION:-10s}
out="$root/target/bench"

"$root/scripts/install-tools.sh"
cargo build --release --quiet -p jimbot-gateway -p jimbot-bench -p jimbot-coordinator
cargo build --release --quiet -p jimbot-analytics --features bench --bin jimbot-analytics-bench
rm -rf "$out"
mkdir -p "$out"

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 200); do
    if python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('$1', timeout=1).status == 200 else 1)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "not ready: $1" >&2
  return 1
}

pids=()
cleanup() { for pid in "${pids[@]}"; do kill "$pid" 2>/dev/null || true; done; wait 2>/dev/null || true; }
trap cleanup EXIT

loadgen() { target/release/jimbot-loadgen run --duration "$duration" "$@"; }

for sync in default always; do
  store=$(mktemp -d)
  nats_port=$(free_port)
  {
    echo "listen: 127.0.0.1:$nats_port"
    echo "jetstream { store_dir: \"$store\""
    [[ $sync == always ]] && echo "  sync_interval: always"
    echo "}"
  } > "$store/nats.conf"
  .tools/venv/bin/nats-server -c "$store/nats.conf" > "$store/nats.log" 2>&1 &
  nats_pid=$!
  pids+=("$nats_pid")
  nats_url="nats://127.0.0.1:$nats_port"

  gateway_flags=()
  run_gateway_row() { # name, loadgen args... (gateway flags in $gateway_flags)
    local name=$1
    shift
    local http_port
    http_port=$(free_port)
    RUST_LOG=warn target/release/jimbot-gateway --http-addr "127.0.0.1:$http_port" \
      --grpc-addr "127.0.0.1:$(free_port)" \
      --nats-url "$nats_url" --max-in-flight 2048 "${gateway_flags[@]}" \
      > "$out/gateway-$sync-$name.log" 2>&1 &
    local gateway_pid=$!
    wait_http "http://127.0.0.1:$http_port/health/ready"
    loadgen --gateway "http://127.0.0.1:$http_port" --nats-url "$nats_url" --sync "$sync" \
      --watch-pid "$gateway_pid" --json "$out/$sync-$name.json" "$@"
    kill -TERM "$gateway_pid"
    wait "$gateway_pid" || true
  }

  echo "== JetStream flush policy: $sync"
  # The gateway provisions the streams the baseline publishes to.
  run_gateway_row single --mode single --instances 64
  run_gateway_row batch --mode batch --batch-size 50 --instances 16
  # Each baseline runs right after its gateway row, against the server in the
  # same state (what a run leaves behind, such as the dedup window's ids,
  # slows the next one).
  loadgen --nats-url "$nats_url" --sync "$sync" --mode baseline --batch-size 50 --instances 16 \
    --json "$out/$sync-baseline.json"
  # Latency at half the maximum load just measured.
  half=$(python3 -c "import json; r=json.load(open('$out/$sync-batch.json')); print(max(r['requests_per_sec'] / 2 / 16, 0.1))")
  run_gateway_row batch-half --mode batch --batch-size 50 --instances 16 --rate "$half"
  # The broker's own latency at the half load: each batch published straight
  # to JetStream waits for all its acks, as a gateway request does.
  loadgen --nats-url "$nats_url" --sync "$sync" --mode baseline --batch-size 50 --instances 16 \
    --rate "$half" --json "$out/$sync-baseline-half.json"
  run_gateway_row realistic --mode realistic --instances 200
  # Each request's events as one atomic batch: one disk sync per request.
  gateway_flags=(--atomic-batches)
  run_gateway_row batch-atomic --mode batch --batch-size 50 --instances 16 --label "atomic batches"
  gateway_flags=()
  if [[ $sync == default ]]; then
    run_gateway_row single-256 --mode single --instances 256
    # Stores a 1,000,000-event session straight into JetStream, then reads
    # it back through the gateway as NDJSON.
    run_gateway_row replay --mode replay --replay-events "${BENCH_REPLAY_EVENTS:-1000000}"
  fi

  kill -TERM "$nats_pid"
  wait "$nats_pid" || true
  rm -rf "$store"
done

# The coordinator's own suite starts its own nats-server and coordinator.
echo "== coordinator"
mkdir -p "$out/coordinator"
BENCH_DURATION=$duration target/release/jimbot-coordinator-bench \
  --output "$out/coordinator/coordinator.json" > "$out/coordinator/table.md"

# Analytics: catch-up from a 1,000,000-event backlog, and lag when live.
echo "== analytics"
mkdir -p "$out/analytics"
target/release/jimbot-analytics-bench --json > "$out/analytics/output.txt"
grep -v '^{' "$out/analytics/output.txt" > "$out/analytics/table.md"
grep '^{' "$out/analytics/output.txt" > "$out/analytics/rows.jsonl"

echo
echo "Benchmark ($(nproc) cores, $(date -u +%Y-%m-%d)), each run $duration:"
# Rows in the order they ran.
target/release/jimbot-loadgen table $(ls -tr "$out"/*.json)
echo
echo "Coordinator (acquire + release over gRPC on loopback):"
cat "$out/coordinator/table.md"
echo
echo "Analytics:"
cat "$out/analytics/table.md"
