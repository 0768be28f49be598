#!/usr/bin/env bash
# The Python and TypeScript golden-vector tests of the generated schema
# packages (schemas/python, schemas/ts; see docs/clients.md), and the Python
# and TypeScript example clients' tests against a real nats-server, jimbot-gateway and
# jimbot-coordinator (examples/python; the debug binaries are built first, a
# no-op when they are current). Dependencies
# come from pinned files: schemas/python/requirements-test.txt into
# .tools/pyclients-venv, schemas/ts/package-lock.json into
# schemas/ts/node_modules; both are reinstalled only when the pins change.
# UPDATE_GOLDEN=1 rewrites the vectors the clients encode.
set -euo pipefail

root=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
venv="$root/.tools/pyclients-venv"
requirements="$root/schemas/python/requirements-test.txt"

wanted=$(cat "$requirements" "$root/schemas/python/pyproject.toml" | sha256sum | cut -d' ' -f1)
if [[ ! -f $venv/.stamp || $(cat "$venv/.stamp") != "$wanted" ]]; then
  echo "test-clients: installing the Python test dependencies into $venv ..." >&2
  python3 -m venv "$venv"
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check -r "$requirements"
  # Editable: the tests see the committed generated code as it is.
  "$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -e "$root/schemas/python"
  echo "$wanted" > "$venv/.stamp"
fi
"$root/schemas/ts/install-deps.sh"

echo "test-clients: Python (pytest)"
(cd "$root/schemas/python" && "$venv/bin/python" -m pytest -q -p no:cacheprovider)

echo "test-clients: TypeScript (tsc, node --test)"
(cd "$root/schemas/ts" && rm -rf dist && node_modules/.bin/tsc -p . && node --test --test-reporter=dot dist/test/)

# The TypeScript example depends on the package just built (file:../../schemas/ts).
"$root/examples/ts/install-deps.sh"
(cd "$root/examples/ts" && rm -rf dist && node_modules/.bin/tsc -p .)

echo "test-clients: Python and TypeScript example clients (pytest, real services)"
(cd "$root" && cargo build --quiet -p jimbot-gateway -p jimbot-coordinator)
(cd "$root/examples/python" && "$venv/bin/python" -m pytest -q -p no:cacheprovider)
