#!/usr/bin/env bash
# The example job: every ingest format on the data in this folder, into a
# fresh store under examples/out/.  Usage: examples/run.sh [path/to/invscale]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../build/invscale}")
out=$here/out
rm -rf "$out" && mkdir -p "$out"
export INVSCALE_DB=$out/invscale.db
run() { printf '$ invscale'; printf ' %q' "$@"; echo; "$bin" "$@"; echo; }
cd "$here"
run init
run ingest csv memo_trap.csv --tag memo-trap
run ingest jsonl redefine.jsonl --tag redefine
run ingest jsonl sycophancy.jsonl --type logodds --tag sycophancy
run ingest jsonl repetition.jsonl --tag repetition
run ingest text notes.txt --unit paragraph --classes "[' Yes', ' No']" --tag puzzles
run ingest template templates.csv --fill fillers.csv --product --tag occupations
run ingest xml quiz.xml --record '//item' --field prompt=./question --field classes=./options/option --field answer_index=./answer --field id=@id --tag quiz
run ingest html article.html --record '//article//p' --field prompt=. --tag html
run ingest csv memo_trap.csv --tag memo-trap
run examples list --limit 8
run examples list --tag quiz --format jsonl
run info
