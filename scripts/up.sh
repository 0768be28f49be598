#!/usr/bin/env bash
# `just up`: runs nats-server (dev config) and the three services in the
# foreground. Ctrl-C (or `just down` from another terminal) stops them all.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
run_dir="$root/data/run"
log_dir="$root/data/logs"

"$root/scripts/install-tools.sh"
cargo build --quiet -p jimbot-gateway -p jimbot-coordinator -p jimbot-analytics

mkdir -p "$run_dir" "$log_dir"
if [[ -s $run_dir/up.pids ]] && kill -0 $(cat "$run_dir/up.pids") 2>/dev/null; then
  echo "already running (pids $(tr '\n' ' ' < "$run_dir/up.pids")); run 'just down' first" >&2
  exit 1
fi

pids=()
stop_all() {
  trap - INT TERM EXIT
  echo
  echo "stopping ..."
  # Services first, so they drain into a NATS that is still there.
  for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
    kill -TERM "${pids[i]}" 2>/dev/null || true
    wait "${pids[i]}" 2>/dev/null || true
  done
  rm -f "$run_dir/up.pids"
  echo "stopped"
  exit 0
}
trap stop_all INT TERM EXIT

start() { # name, command...
  local name=$1
  shift
  # The log pipe ignores Ctrl-C, so it outlives the process it serves and
  # the shutdown logs are kept (and nothing writes into a closed pipe).
  "$@" > >(trap '' INT; tee -a "$log_dir/$name.log" | sed -u "s/^/[$name] /") 2>&1 &
  pids+=($!)
  printf '%s\n' "${pids[@]}" > "$run_dir/up.pids"
}

export NATS_URL=${NATS_URL:-nats://127.0.0.1:4222}
export LOG_FORMAT=${LOG_FORMAT:-text}
# nats-server in a session of its own: Ctrl-C in the terminal reaches the
# services only, and stop_all stops nats-server last, after they drained.
start nats setsid "$root/.tools/venv/bin/nats-server" -c nats/config/dev.conf
start gateway target/debug/jimbot-gateway
start coordinator target/debug/jimbot-coordinator --config coordinator/config/dev.toml
start analytics target/debug/jimbot-analytics

python3 - <<'PY'
import sys, time, urllib.request
checks = {
    "nats-server": "http://127.0.0.1:8222/healthz",
    "jimbot-gateway": "http://127.0.0.1:8080/health/ready",
    "jimbot-coordinator": "http://127.0.0.1:8082/health/ready",
    "jimbot-analytics": "http://127.0.0.1:8081/health/ready",
}
deadline = time.time() + 60
pending = dict(checks)
while pending and time.time() < deadline:
    for name, url in list(pending.items()):
        try:
            with urllib.request.urlopen(url, timeout=1) as r:
                if r.status == 200:
                    del pending[name]
        except Exception:
            pass
    time.sleep(0.2)
if pending:
    print("not ready after 60 s: " + ", ".join(pending) + " (see data/logs/)", file=sys.stderr)
    sys.exit(1)
PY

cat <<'MSG'

JimBot is up:
  nats-server         nats://127.0.0.1:4222   monitoring http://127.0.0.1:8222
  jimbot-gateway      http://127.0.0.1:8080   (health: /health/ready, metrics: /metrics)
                      grpc://127.0.0.1:50051  (jimbot.v1.EventBus, health, reflection)
  jimbot-coordinator  http://127.0.0.1:8082
  jimbot-analytics    http://127.0.0.1:8081
Logs: data/logs/. Press Ctrl-C to stop everything.

MSG
# Stop everything as soon as any one process exits.
wait -n "${pids[@]}" || true
echo "a process exited; stopping the rest" >&2
