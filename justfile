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

# The Prometheus scrape test, then every cargo test (real nats-servers; installs the pinned one if missing).
test: install-tools
    deploy/tests/prometheus-scrape.sh
    scripts/test.sh

# Run `just up`'s services under the real Prometheus and check every target and key series.
test-scrape: install-tools
    deploy/tests/prometheus-scrape.sh

# Check formatting, lints, the protobuf schemas and the deploy files.
lint: install-tools
    cargo fmt --all -- --check
    cargo clippy --workspace --all-targets --all-features -- -D warnings
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

# What CI runs: lint, then test.
ci: lint test

# Rebuild the protobuf baseline after a reviewed, additive schema change.
proto-baseline: install-tools
    scripts/proto-check.sh --update-baseline

# Run a 3-node JetStream cluster locally (ports 4222-4224); Ctrl-C stops it.
cluster-up: install-tools
    #!/usr/bin/env bash
    set -euo pipefail
    trap 'kill -TERM $(jobs -p) 2>/dev/null; wait' INT TERM EXIT
    for i in 1 2 3; do nats-server -c nats/config/cluster/node-$i.conf & done
    echo "cluster up: NATS_URL=nats://127.0.0.1:4222,nats://127.0.0.1:4223,nats://127.0.0.1:4224 JIMBOT_STREAM_REPLICAS=3"
    wait

# Install the pinned tools into .tools/venv (idempotent).
install-tools:
    @scripts/install-tools.sh
