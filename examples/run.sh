#!/usr/bin/env bash
# The example job: every ingest format on the data in this folder, into a
# fresh store under examples/out/.  Usage: examples/run.sh [path/to/invscale]
set -euo pipefail
here=$(cd "$(dirname "$0")" && pwd)
bin=$(realpath "${1:-$here/../build/invscale}")
out=$here/out
rm -rf "$out" && mkdir -p "$out"
export INVSCALE_DB=$out/invscale.db
quote() { case $1 in *[!A-Za-z0-9_./:=@%+,-]*) printf " '%s'" "${1//\'/\'\\\'\'}" ;; *) printf ' %s' "$1" ;; esac; }
run() { printf '$ invscale'; for a in "$@"; do quote "$a"; done; echo; "$bin" "$@"; echo; }
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
# crowd labels for the unlabelled puzzles (examples/judgments.csv holds three annotators' answers)
for a in alice bob carol; do run annotator add $a; done
run batch create --name pilot --per-item 3 --annotators alice,bob,carol --tag puzzles --seed 1
run batch export pilot --format labelstudio --out "$out/pilot.json"
run judgments import judgments.csv --format csv --batch pilot
run agreement --batch pilot --bootstrap 200
run aggregate --method majority --batch pilot
run annotator report --batch pilot
# check a file before entry, and write the project's classification examples in the prize's format
run validate memo_trap.csv redefine.jsonl --min-examples 1
run export --type classification --out "$out/classification.jsonl" --min-examples 1
run export --type classification --out "$out/classification.csv" --min-examples 1
run validate "$out/classification.csv" --min-examples 1
# the datasheet and the submission package
run meta set name "Memo trap"
run meta set description "Proverbs and quotes with a twist: the prompt asks for an ending that differs from the memorised one."
run meta set why_matters "Models that repeat memorised text instead of following instructions are unreliable."
run meta set why_inverse "Larger models memorise famous quotes more strongly."
run meta set novelty "Targets memorisation overriding an explicit instruction."
run meta set data_generation "Hand-written prompts; see examples/memo_trap.csv."
run meta set shots zero-shot
run meta set correct_behaviour "Complete with the requested word."
run meta set label_expertise "None: the answer is stated in the prompt."
run meta set licence "CC BY 4.0"
run package --out "$out/submission.zip" --tag memo-trap --parts-by part --min-examples 1
# pilot scoring of the exported task on three sizes of one model family served by an
# OpenAI-compatible endpoint.  Here a stand-in: tests/eval/fake_openai.py serves a toy "model"
# on 127.0.0.1 (no GPU, no download; its numbers mean nothing).  Point --model at a vLLM or
# SGLang server (openai:http://HOST:8000/v1@EleutherAI/pythia-160m ...) to score real models.
python3 ../tests/eval/fake_openai.py "$out/port" & server=$!
trap 'kill $server 2>/dev/null || true' EXIT
for _ in $(seq 100); do [ -s "$out/port" ] && break; sleep 0.1; done
url=http://127.0.0.1:$(cat "$out/port")/v1
run eval "$out/classification.jsonl" --model toy-s=openai:$url@toy-s --model toy-m=openai:$url@toy-m \
  --model toy-l=openai:$url@toy-l --params toy-s=1e8 --params toy-m=1e9 --params toy-l=1e10 --out "$out/eval"
run eval "$out/classification.jsonl" --model toy-s=openai:$url@toy-s --model toy-m=openai:$url@toy-m \
  --model toy-l=openai:$url@toy-l --params toy-s=1e8 --params toy-m=1e9 --params toy-l=1e10 --out "$out/eval" --format json
echo "eval wrote: $(cd "$out/eval" && ls | tr '\n' ' ')"
# the same pilot on invscale's own engine (native:DIR, CPU, no server): a family of three small
# GPT-2-shaped models that bench/make_model.py writes in a few seconds, with the real GPT-2
# vocabulary and random weights from a counter-based hash (the same bytes on every machine).
# Random weights know nothing: the verdict they give means nothing.  To score real models,
# download a family from the hub and point --model at the folders (see the README).
py=python3
python3 -c 'import numpy' 2>/dev/null || py=/usr/bin/python3 # the models need numpy (Debian python3-numpy)
echo "\$ python3 bench/make_model.py --family examples/out/models"
"$py" ../bench/make_model.py --family "$out/models"
echo
run eval "$out/classification.jsonl" --model tiny-s=native:"$out/models/tiny-s" \
  --model tiny-m=native:"$out/models/tiny-m" --model tiny-l=native:"$out/models/tiny-l" --out "$out/eval-native"
echo "native: scored on random weights: the verdict above means nothing (it only shows the pipeline running)."
echo "eval wrote: $(cd "$out/eval-native" && ls | tr '\n' ' ')"
# a generation probe (docs/probe.md): each model of the random-weight family above continues the
# repetition prompts three times (sampled, seeded: the same text on any machine), and repetition,
# diversity and length get the same kind of verdict as eval.  Random weights: the verdicts mean
# nothing.  The toy server above can be probed the same way (openai: generates through /completions).
probe_models=(--model tiny-s=native:"$out/models/tiny-s" --model tiny-m=native:"$out/models/tiny-m" --model tiny-l=native:"$out/models/tiny-l")
run probe probes/repetition.jsonl "${probe_models[@]}" --metric repetition --metric distinct \
  --metric compression --metric length --samples 3 --max-new-tokens 32 --temperature 0.8 --top-p 0.95 --seed 1 \
  --out "$out/probe"
echo "native: generated by random weights: the verdicts above mean nothing (they show the pipeline running)."
echo "probe wrote: $(cd "$out/probe" && ls | tr '\n' ' ')"
