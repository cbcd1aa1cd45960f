#!/usr/bin/env bash
# Round trip: export -> ingest into a fresh project -> export gives the same
# bytes, for the four task types, JSONL (classes as arrays and as Python
# literals) and CSV, on prompts with quotes, backslashes, new lines, tabs,
# non-ASCII and emoji.  The CSV is then read with pandas.read_csv and
# ast.literal_eval (as the prize's pipeline does) and compared with the JSONL.
# Usage: roundtrip_test.sh BIN_DIR DATA_DIR
set -u
trap 'echo "FAIL: command failed at line $LINENO"' ERR
set -e
bin=$1/invscale data=$2
here=$(cd "$(dirname "$0")" && pwd)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
fail=0 n=0
for t in classification logodds absolute_logodds sequence_prob; do
  for form in jsonl:array jsonl:python csv:array; do
    ext=${form%%:*} cls=${form#*:}
    rm -f a.db* b.db*
    "$bin" --db a.db init >/dev/null
    "$bin" --db a.db ingest jsonl "$data/$t.jsonl" --type "$t" >/dev/null
    "$bin" --db a.db export --type "$t" --out "first.$ext" --classes-as "$cls" --min-examples 1 >/dev/null 2>&1
    "$bin" --db b.db init >/dev/null
    "$bin" --db b.db ingest "$ext" "first.$ext" --type "$t" >/dev/null
    "$bin" --db b.db export --type "$t" --out "second.$ext" --classes-as "$cls" --min-examples 1 >/dev/null 2>&1
    if cmp -s "first.$ext" "second.$ext"; then
      n=$((n + 1))
    else
      echo "FAIL $t $form: the second export differs"; diff "first.$ext" "second.$ext" | head; fail=1
    fi
    if [ "$ext" = csv ]; then
      "$bin" --db a.db export --type "$t" --out ref.jsonl --min-examples 1 >/dev/null 2>&1
      /usr/bin/python3 "$here/../pandas_check.py" "first.csv" ref.jsonl || fail=1
    fi
  done
done
echo "$n round trips byte-identical"
exit $fail
