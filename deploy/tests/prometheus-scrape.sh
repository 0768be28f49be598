#!/usr/bin/env bash
# The Prometheus scrape test (`just test`, `just test-scrape`): runs `just up`
# (nats-server and the three services on their usual ports), sends the gateway
# a few events, runs the real Prometheus (Debian's package) with
# deploy/prometheus/prometheus.local.yml and the alert rules, and checks
# through Prometheus's HTTP API that every target is up, the key series exist
# and every rule evaluates (deploy/tests/check_scrape.py). Stops everything it
# started, whatever happens.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
cd "$root"
"$root/scripts/install-tools.sh"

# `just up` listens on fixed ports: refuse rather than test someone else's.
busy=$(python3 - <<'PY'
import socket
busy = []
for port in (4222, 8222, 8080, 8081, 8082):
    with socket.socket() as s:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            s.bind(("127.0.0.1", port))
        except OSError:
            busy.append(str(port))
print(" ".join(busy))
PY
)
if [[ -n $busy ]]; then
  echo "prometheus-scrape: port(s) $busy in use; is \`just up\` running? Stop it (\`just down\`) first." >&2
  exit 1
fi

work=$(mktemp -d -t jimbot-scrape-XXXXXX)
up_pid=""
prometheus_pid=""
cleanup() {
  local status=$?
  trap - EXIT INT TERM
  if [[ -n $prometheus_pid ]]; then
    kill -TERM "$prometheus_pid" 2> /dev/null || true
    wait "$prometheus_pid" 2> /dev/null || true
  fi
  if [[ -n $up_pid ]]; then
    # up.sh stops the services, then nats-server, on SIGTERM.
    kill -TERM "$up_pid" 2> /dev/null || true
    wait "$up_pid" 2> /dev/null || true
  fi
  if ((status != 0)); then
    echo "--- just up (last lines) ---" >&2
    tail -n 40 "$work/up.log" >&2 2> /dev/null || true
    echo "--- prometheus (last lines) ---" >&2
    tail -n 20 "$work/prometheus.log" >&2 2> /dev/null || true
  fi
  rm -rf "$work"
  exit "$status"
}
trap cleanup EXIT INT TERM

# Built here, without a deadline (minutes on a fresh checkout), so that the
# deadlines below measure only the start-up.
cargo build --quiet -p jimbot-gateway -p jimbot-coordinator -p jimbot-analytics

echo "prometheus-scrape: starting just up ..."
LOG_FORMAT=text scripts/up.sh > "$work/up.log" 2>&1 < /dev/null &
up_pid=$!

port=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
prometheus --config.file=deploy/prometheus/prometheus.local.yml \
  --storage.tsdb.path="$work/tsdb" \
  --web.listen-address="127.0.0.1:$port" \
  > "$work/prometheus.log" 2>&1 < /dev/null &
prometheus_pid=$!

"$root/.tools/venv/bin/python" -u deploy/tests/check_scrape.py \
  --prometheus "http://127.0.0.1:$port" \
  --up-log "$work/up.log" --up-pid "$up_pid" \
  --fixture fixtures/balatromcp/single_connection_test.json \
  --batch-fixture fixtures/balatromcp/batch_round_end.json
