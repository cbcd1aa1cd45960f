#!/usr/bin/env bash
# The shipped probe sets and kits stay usable: each kit expands with
# `invscale ingest template` and validates as a prize task; each prompt set
# runs through `invscale probe` (fake: models) with the metrics its README
# names (spam: the pattern set only; the SpamAssassin metric has its own test).
# Usage: probe_examples_test.sh BIN_DIR SOURCE_DIR
set -euo pipefail
bin=$1/invscale src=$2/examples/probes
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export INVSCALE_DB=$work/k.db
"$bin" init >/dev/null
for k in anchoring framing conjunction; do
  "$bin" ingest template "$src/kits/$k/template.csv" --fill "$src/kits/$k/fillers.csv" --tag "$k" --strict >/dev/null
  "$bin" export --type classification --out "$k.jsonl" --min-examples 1 >/dev/null
  "$bin" validate "$k.jsonl" --min-examples 1 >/dev/null
  n=$(wc -l < "$k.jsonl")
  [ "$n" -ge 10 ] || { echo "kit $k expanded to $n examples"; exit 1; }
  grep -q '{' "$k.jsonl" && grep -o '"prompt":"[^"]*{[a-z_]*}' "$k.jsonl" && { echo "kit $k left a placeholder"; exit 1; }
  rm -f k.db && "$bin" init >/dev/null
  echo "kit $k: $n examples"
done
M="--model s=fake:0.3@1e8 --model l=fake:3@1e9 --samples 2 --max-new-tokens 24 --bootstrap 100"
"$bin" probe "$src/repetition.jsonl" $M --metric repetition --metric distinct --metric compression --metric length --out rep >/dev/null
"$bin" probe "$src/spam.jsonl" $M --metric match:"$src/spam_patterns.txt" --out spam >/dev/null
"$bin" probe "$src/anchoring.jsonl" $M --metric number --max-new-tokens 7 --out anchor >/dev/null
jq -e '.n_groups == 12 and ([.metrics[].name] | index("anchoring_effect")) != null' anchor/summary.json >/dev/null
echo "probe sets: $(jq .n_prompts rep/summary.json) repetition, $(jq .n_prompts spam/summary.json) spam, $(jq .n_groups anchor/summary.json) anchoring groups"
