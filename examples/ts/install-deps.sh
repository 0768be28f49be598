#!/usr/bin/env bash
# Installs the example's pinned npm packages (package-lock.json) into
# examples/ts/node_modules; does nothing when they are already there.
set -euo pipefail

ts_dir=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
wanted=$(sha256sum "$ts_dir/package-lock.json" | cut -d' ' -f1)
stamp="$ts_dir/node_modules/.lock.sha256"
if [[ ! -f $stamp || $(cat "$stamp") != "$wanted" ]]; then
  command -v npm > /dev/null || { echo "npm not found: install Node.js 20 or newer" >&2; exit 1; }
  echo "installing examples/ts packages (npm ci) ..." >&2
  (cd "$ts_dir" && npm ci --silent --no-audit --no-fund > /dev/null)
  echo "$wanted" > "$stamp"
fi
