#!/usr/bin/env bash
# Writes the fuzzers' seed corpora into fuzz/corpus/<target>/ from the mod's
# fixtures and the protobuf golden vectors. Idempotent; the fuzzers add their
# own finds next to these.
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
root=$(dirname "$here")
fixtures=$root/fixtures/balatromcp
corpus=$here/corpus
mkdir -p "$corpus"/{balatro_event,batch_envelope,nats_decode,command_parse}

for f in "$fixtures"/*.json; do
  cp "$f" "$corpus/batch_envelope/"
  cp "$f" "$corpus/balatro_event/"
done

# Each event of the batches that strict JSON reads, on its own, as a
# single-event body (the two invalid-JSON fixtures stay whole, above).
python3 - "$fixtures" "$corpus/balatro_event" <<'PY'
import json, pathlib, sys
src, out = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for path in sorted(src.glob("*.json")):
    try:
        body = json.loads(path.read_bytes())
    except ValueError:
        continue
    for i, event in enumerate(body.get("events") or []):
        (out / f"{path.stem}.{i}.json").write_text(json.dumps(event, separators=(",", ":")))
PY

for dir in events from-python from-ts; do
  for f in "$root"/schemas/golden/"$dir"/*.binpb; do
    [[ -e $f ]] && cp "$f" "$corpus/nats_decode/$dir.$(basename "$f")"
  done
done

n=0
while IFS= read -r seed; do
  printf '%b' "$seed" > "$corpus/command_parse/seed-$n"
  n=$((n + 1))
done <<'SEEDS'
play_hand
select_card:2\nselect_card:4\nplay_hand
  discard  \r\nsort_hand\n
{"type":"select_card","payload":{"position":3}}
{"type":"buy_joker","payload":{"index":1}}
{"type":"play_hand","payload":{}}
{"type":"skip_blind"}
SEEDS

echo "seed corpora in $corpus: $(find "$corpus" -type f | wc -l) files"
