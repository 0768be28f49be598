#!/usr/bin/env bash
# `just soak [duration]`: the long-running check (never part of `just test`).
# Release builds; a fresh nats-server with file storage; the gateway and
# analytics; jimbot-loadgen at the realistic many-instance profile (the
# mod's own pacing) for the duration (default 30m), re-sending after 503s as
# the mod does. Every SOAK_SAMPLE (default 15s) the gateway's and analytics'
# RSS and open file descriptors, the events stored and the events analytics
# applied go into target/soak/samples.csv (under CARGO_TARGET_DIR if set).
# At the end: the load generator's verification (the stream holds exactly
# what was acknowledged), analytics caught up with every stored event, and
# RSS and descriptors flat (median of the last third of the samples against
# the first third). Exits non-zero when any of these fails.
#
# Settings (environment): SOAK_INSTANCES (64), SOAK_SAMPLE (seconds, 15),
# SOAK_RSS_GROWTH (1.25: the last third's median RSS may be at most this
# times the first third's), SOAK_FD_GROWTH (8: descriptors more allowed),
# SOAK_KEEP=1 keeps the JetStream store and the database.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
duration=${1:-${SOAK_DURATION:-30m}}
instances=${SOAK_INSTANCES:-64}
sample_every=${SOAK_SAMPLE:-15}
rss_growth=${SOAK_RSS_GROWTH:-1.25}
fd_growth=${SOAK_FD_GROWTH:-8}
target="${CARGO_TARGET_DIR:-$root/target}"
bin="$target/release"
out="$target/soak"

"$root/scripts/install-tools.sh"
cargo build --release --quiet -p jimbot-gateway -p jimbot-analytics -p jimbot-bench
mkdir -p "$out"
rm -f "$out"/*.csv "$out"/*.log "$out"/*.txt

free_port() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
wait_http() { # url
  for _ in $(seq 300); do
    if python3 -c "import sys,urllib.request; sys.exit(0 if urllib.request.urlopen('$1', timeout=1).status == 200 else 1)" 2>/dev/null; then return 0; fi
    sleep 0.1
  done
  echo "not ready: $1" >&2
  return 1
}

work=$(mktemp -d /tmp/jimbot-soak.XXXXXX)
pids=()
cleanup() {
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  if [[ ${SOAK_KEEP:-0} == 1 ]]; then echo "kept: $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT

nats_port=$(free_port)
monitor_port=$(free_port)
gateway_port=$(free_port)
analytics_port=$(free_port)
nats_url="nats://127.0.0.1:$nats_port"
cat > "$work/nats.conf" <<EOF
listen: 127.0.0.1:$nats_port
http: 127.0.0.1:$monitor_port
jetstream { store_dir: "$work/jetstream" }
EOF
.tools/venv/bin/nats-server -c "$work/nats.conf" > "$out/nats.log" 2>&1 &
pids+=($!)
wait_http "http://127.0.0.1:$monitor_port/healthz"

RUST_LOG=warn "$bin/jimbot-gateway" --nats-url "$nats_url" \
  --http-addr "127.0.0.1:$gateway_port" --grpc-addr "127.0.0.1:$(free_port)" \
  > "$out/gateway.log" 2>&1 &
gateway_pid=$!
pids+=("$gateway_pid")
wait_http "http://127.0.0.1:$gateway_port/health/ready"

RUST_LOG=warn "$bin/jimbot-analytics" --nats-url "$nats_url" \
  --http-addr "127.0.0.1:$analytics_port" --db "$work/analytics.db" \
  > "$out/analytics.log" 2>&1 &
analytics_pid=$!
pids+=("$analytics_pid")
wait_http "http://127.0.0.1:$analytics_port/health/ready"

# One line of samples.csv: what both processes hold and how far each got.
sample() { # seconds since start
  python3 - "$1" "$gateway_pid" "$analytics_pid" "$monitor_port" "$analytics_port" <<'PY'
import json, os, sys, urllib.request
elapsed, gateway, analytics, monitor, api = sys.argv[1:]
def rss_kib(pid):
    with open(f"/proc/{pid}/status") as f:
        return next(int(l.split()[1]) for l in f if l.startswith("VmRSS:"))
def fds(pid):
    return len(os.listdir(f"/proc/{pid}/fd"))
def get(url):
    with urllib.request.urlopen(url, timeout=5) as r:
        return json.load(r)
stream = get(f"http://127.0.0.1:{monitor}/jsz?streams=true")
stored = sum(s["state"]["messages"]
             for a in stream.get("account_details", [])
             for s in a.get("stream_detail", []) if s["name"] == "GAME_EVENTS")
applied = get(f"http://127.0.0.1:{api}/api/v1/analytics/summary")["events_processed"]
print(f"{elapsed},{rss_kib(gateway)},{fds(gateway)},{rss_kib(analytics)},{fds(analytics)},{stored},{applied}")
PY
}

echo "soak: $instances instances at the mod's pacing for $duration; samples every ${sample_every}s in $out/samples.csv"
echo "seconds,gateway_rss_kib,gateway_fds,analytics_rss_kib,analytics_fds,events_stored,events_applied" \
  > "$out/samples.csv"
"$bin/jimbot-loadgen" run --mode realistic --instances "$instances" --duration "$duration" \
  --retry 20 --gateway "http://127.0.0.1:$gateway_port" --nats-url "$nats_url" \
  --json "$out/loadgen.json" > "$out/loadgen.txt" 2>&1 &
loadgen_pid=$!
pids+=("$loadgen_pid")

started=$SECONDS
while kill -0 "$loadgen_pid" 2>/dev/null; do
  sample $((SECONDS - started)) >> "$out/samples.csv"
  # Short sleeps, so the end of the load is noticed at once.
  for _ in $(seq "$sample_every"); do
    kill -0 "$loadgen_pid" 2>/dev/null || break
    sleep 1
  done
done
loadgen_ok=0
wait "$loadgen_pid" || loadgen_ok=$?
cat "$out/loadgen.txt"

# Analytics must catch up with every stored event.
caught_up=1
for _ in $(seq 600); do
  line=$(sample $((SECONDS - started)))
  IFS=, read -r _ _ _ _ _ stored applied <<< "$line"
  if [[ $stored == "$applied" ]]; then caught_up=0; break; fi
  sleep 0.5
done
echo "$line" >> "$out/samples.csv"

python3 - "$out/samples.csv" "$rss_growth" "$fd_growth" "$loadgen_ok" "$caught_up" <<'PY' | tee "$out/summary.txt"
import csv, statistics, sys
path, rss_growth, fd_growth, loadgen_ok, caught_up = sys.argv[1:]
rows = [{k: int(v) for k, v in r.items()} for r in csv.DictReader(open(path))]
# The last row was taken after the load stopped; the curve is the load's.
load = rows[:-1] if len(rows) > 3 else rows
third = max(len(load) // 3, 1)
first, last = load[:third], load[-third:]
med = lambda rs, k: statistics.median(r[k] for r in rs)
print("Curve (about ten samples of samples.csv):")
print("| min | gateway RSS MiB | gateway fds | analytics RSS MiB | analytics fds | events stored | events applied |")
print("|---|---|---|---|---|---|---|")
step = max(len(rows) // 10, 1)
shown = rows[::step] + ([rows[-1]] if (len(rows) - 1) % step else [])
for r in shown:
    print(f"| {r['seconds'] / 60:.1f} | {r['gateway_rss_kib'] / 1024:.1f} | {r['gateway_fds']} "
          f"| {r['analytics_rss_kib'] / 1024:.1f} | {r['analytics_fds']} "
          f"| {r['events_stored']} | {r['events_applied']} |")
failures = []
print(f"\nFlatness (median of the first third vs the last third, {third} samples each):")
for proc in ("gateway", "analytics"):
    a, b = med(first, f"{proc}_rss_kib"), med(last, f"{proc}_rss_kib")
    ok = b <= a * float(rss_growth)
    print(f"  {proc} RSS: {a / 1024:.1f} -> {b / 1024:.1f} MiB (x{b / a:.2f}, bound x{rss_growth}) {'ok' if ok else 'GROWING'}")
    if not ok: failures.append(f"{proc} RSS grows")
    a, b = med(first, f"{proc}_fds"), med(last, f"{proc}_fds")
    ok = b <= a + int(fd_growth)
    print(f"  {proc} fds: {a:.0f} -> {b:.0f} (bound +{fd_growth}) {'ok' if ok else 'GROWING'}")
    if not ok: failures.append(f"{proc} descriptors grow")
end = rows[-1]
print(f"\nEvents stored {end['events_stored']}, applied by analytics {end['events_applied']}.")
if loadgen_ok != "0": failures.append("the load generator's verification failed (see loadgen.txt)")
if caught_up != "0": failures.append("analytics did not catch up with the stream")
print("soak: " + ("PASSED" if not failures else "FAILED: " + "; ".join(failures)))
sys.exit(1 if failures else 0)
PY
