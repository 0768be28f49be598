#!/usr/bin/env bash
# `just down`: stops what `just up` started (from another terminal).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pids_file="$root/data/run/up.pids"
if [[ ! -s $pids_file ]]; then
  echo "nothing to stop"
  exit 0
fi
# Services first (last started), nats-server last.
for pid in $(tac "$pids_file"); do
  kill -TERM "$pid" 2>/dev/null || continue
  for _ in $(seq 100); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
done
rm -f "$pids_file"
echo "stopped"
