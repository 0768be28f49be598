#!/usr/bin/env bash
# `just down`: stops what `just up` started (from another terminal).
set -euo pipefail
root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
pids_file="$root/data/run/up.pids"
if [[ ! -s $pids_file ]]; then
  echo "nothing to stop"
  exit 0
fi
# Services first (last started), nats-server last. Only processes that are
# still ours (a pid can be reused after a crash) are signalled.
survivors=0
for pid in $(tac "$pids_file"); do
  [[ -r /proc/$pid/cmdline ]] || continue
  tr '\0' ' ' < "/proc/$pid/cmdline" | grep -qE 'jimbot-|nats-server|setsid' || continue
  kill -TERM "$pid" 2>/dev/null || continue
  for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
  if kill -0 "$pid" 2>/dev/null; then
    echo "pid $pid did not stop within 15 s; killing it" >&2
    kill -KILL "$pid" 2>/dev/null || survivors=$((survivors + 1))
  fi
done
rm -f "$pids_file"
if ((survivors > 0)); then
  echo "$survivors process(es) could not be stopped" >&2
  exit 1
fi
echo "stopped"
