# JimBot event backbone. `just` lists the recipes.

set shell := ["bash", "-euo", "pipefail", "-c"]

# Pinned tools (nats-server, buf, just) live here; see scripts/tools.txt.
export PATH := justfile_directory() + "/.tools/venv/bin:" + env_var("PATH")

# List the recipes.
default:
    @just --list

# Run nats-server and the three services locally; Ctrl-C stops them all.
up:
    scripts/up.sh

# Stop what `just up` started (from another terminal).
down:
    scripts/down.sh

# The Prometheus scrape test, the Python and TypeScript golden-vector tests, then every cargo test (real nats-servers; installs the pinned one if missing).
test: install-tools
    deploy/tests/prometheus-scrape.sh
    scripts/test-clients.sh
    scripts/test.sh

# Run `just up`'s services under the real Prometheus and check every target and key series.
test-scrape: install-tools
    deploy/tests/prometheus-scrape.sh

# Check formatting, lints, the protobuf schemas and the deploy files.
lint: install-tools
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings
    cargo deny --offline check licenses bans sources
    scripts/proto-check.sh
    scripts/lint-deploy.sh

# Check the deploy files only: hadolint, actionlint, promtool, docker-compose config, nats-server -t.
lint-deploy: install-tools
    scripts/lint-deploy.sh

# Format the code.
fmt:
    cargo fmt --all

# The benchmark suite (release build, fresh nats-server; about 5 minutes).
bench: install-tools
    scripts/bench.sh

# Soak: the realistic many-instance load for a while (default 30m, e.g. `just soak 5m`); RSS and open fds must stay flat, nothing lost. Never part of `just test`.
soak duration="30m": install-tools
    scripts/soak.sh {{duration}}

# Fuzz every target for SECONDS each, or only the TARGETS named (nightly and cargo-fuzz; see docs/development.md).
fuzz seconds="60" *targets:
    fuzz/run.sh {{seconds}} {{targets}}

# What CI runs: lint, then test.
ci: lint test

# Regenerate the Python and TypeScript schema packages (schemas/python, schemas/ts) from the protos.
proto:
    scripts/proto-gen.sh

# Rebuild the protobuf baseline after a reviewed, additive schema change.
proto-baseline: install-tools
    scripts/proto-check.sh --update-baseline

# Run a 3-node JetStream cluster locally (ports 4222-4224, `sync_interval: always`); Ctrl-C or `just cluster-down` stops it.
cluster-up: install-tools
    #!/usr/bin/env bash
    set -euo pipefail
    mkdir -p data/run
    pids_file=data/run/cluster.pids
    if [[ -s $pids_file ]] && kill -0 $(cat "$pids_file") 2>/dev/null; then
      echo "cluster already running (pids $(tr '\n' ' ' < "$pids_file")); run 'just cluster-down' first" >&2
      exit 1
    fi
    stop() { kill -TERM $(jobs -p) 2>/dev/null || true; wait || true; rm -f "$pids_file"; }
    trap stop INT TERM EXIT
    for i in 1 2 3; do nats-server -c nats/config/cluster/node-$i.conf & done
    jobs -p > "$pids_file"
    echo "cluster up: NATS_URL=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224 JIMBOT_STREAM_REPLICAS=3"
    # Ends when the nodes do (Ctrl-C here, or `just cluster-down`).
    wait || true

# Stop the cluster that `just cluster-up` started (from another terminal).
cluster-down:
    #!/usr/bin/env bash
    set -euo pipefail
    pids_file=data/run/cluster.pids
    if [[ ! -s $pids_file ]]; then echo "no cluster running"; exit 0; fi
    for pid in $(cat "$pids_file"); do
      # Only processes that are still the cluster's nodes (pids are reused).
      tr '\0' ' ' < "/proc/$pid/cmdline" 2>/dev/null | grep -q 'nats/config/cluster/node-' || continue
      kill -TERM "$pid"
      for _ in $(seq 150); do kill -0 "$pid" 2>/dev/null || break; sleep 0.1; done
      kill -0 "$pid" 2>/dev/null && { echo "node pid $pid did not stop in 15 s; killing it" >&2; kill -KILL "$pid"; }
    done
    rm -f "$pids_file"
    echo "cluster stopped"

# Install the pinned tools into .tools/venv (idempotent).
install-tools:
    @scripts/install-tools.sh
