#!/usr/bin/env bash
# Lints the jimbot.v1 protobuf schemas and checks them for breaking changes
# against the committed baseline image (see schemas/README.md, "Versioning").
#
#   scripts/proto-check.sh                    buf lint + buf breaking, and the
#                                             generated clients are up to date
#   scripts/proto-check.sh --update-baseline  rebuild the baseline image
#                                             (only when a new package such as
#                                             jimbot.v2 is introduced, or for
#                                             additive changes you have reviewed)
#
# buf is pinned in scripts/tools.txt and installed by scripts/install-tools.sh.
set -euo pipefail

ROOT="$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)"
SCHEMAS="$ROOT/schemas"
BASELINE="proto-baseline/jimbot-v1.binpb"
BUF="$ROOT/.tools/venv/bin/buf"

usage() {
    sed -n '2,12p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'
}

update_baseline=false
case "${1:-}" in
    "") ;;
    --update-baseline) update_baseline=true ;;
    -h | --help)
        usage
        exit 0
        ;;
    *)
        echo "proto-check: unknown argument '$1'" >&2
        usage >&2
        exit 2
        ;;
esac

"$ROOT/scripts/install-tools.sh"

cd "$SCHEMAS"

if "$update_baseline"; then
    mkdir -p "$(dirname "$BASELINE")"
    "$BUF" build -o "$BASELINE"
    echo "proto-check: baseline rebuilt at schemas/$BASELINE"
    exit 0
fi

if [[ ! -f "$BASELINE" ]]; then
    echo "proto-check: no baseline at schemas/$BASELINE; run '$0 --update-baseline' once" >&2
    exit 1
fi

"$BUF" lint
"$BUF" breaking --against "$BASELINE"
echo "proto-check: lint and breaking-change check passed"

# The committed Python and TypeScript code (`just proto`) matches the protos.
"$ROOT/scripts/proto-gen.sh" --check
