#!/usr/bin/env bash
# SIGKILL `invscale ingest` halfway through a large file: the store must then
# open, pass SQLite's integrity check and hold none of that import's rows.
set -eu
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cd "$work"
export PATH="$bin:$PATH" INVSCALE_DB="$work/s.db"
invscale init >/dev/null
printf 'prompt,classes,answer_index\nkept,"[\x27 a\x27, \x27 b\x27]",0\n' > small.csv
invscale ingest csv small.csv >/dev/null
# ~600,000 rows: several seconds of work, so the kill lands in the middle
awk 'BEGIN { print "prompt,classes,answer_index"; for (i = 0; i < 600000; i++) printf "\"row %d\nsecond line of a longer prompt with some words in it\",\"[\x27 yes\x27, \x27 no\x27]\",%d\n", i, i % 2 }' > big.csv
invscale ingest csv big.csv >out.txt 2>&1 &
pid=$!
# wait until the import has written a good part of its transaction to the
# store (an import runs with a rollback journal, so new pages go to s.db)
for _ in $(seq 1 200); do
  size=$(stat -c %s s.db 2>/dev/null || echo 0)
  [ "$size" -gt 20000000 ] && [ -e s.db-journal ] && break
  sleep 0.05
done
if ! kill -0 "$pid" 2>/dev/null; then
  echo "the import finished before it could be killed; the test proves nothing"
  exit 1
fi
kill -KILL "$pid"
wait "$pid" 2>/dev/null || true
echo "killed with a store of $(stat -c %s s.db) bytes and a journal of $(stat -c %s s.db-journal) bytes"
check=$(sqlite3 s.db "PRAGMA integrity_check")
[ "$check" = ok ] || { echo "integrity_check: $check"; exit 1; }
n=$(sqlite3 s.db "SELECT count(*) FROM examples")
[ "$n" = 1 ] || { echo "expected 1 example after the kill, found $n"; exit 1; }
invscale info | grep -q '^examples: 1$'
# and the store still takes the whole import afterwards
invscale ingest csv big.csv --format json | grep -q '"imported":600000'
# an export killed halfway leaves no file under the target name
invscale export --type classification --out out.jsonl --min-examples 1 >/dev/null 2>&1 &
pid=$!
for _ in $(seq 1 200); do
  t=$(ls -A | grep '^\.out\.jsonl\.tmp-' | head -1)
  [ -n "$t" ] && [ "$(stat -c %s "$t" 2>/dev/null || echo 0)" -gt 10000000 ] && break
  sleep 0.02
done
kill -KILL "$pid" 2>/dev/null || { echo "the export finished before it could be killed"; exit 1; }
wait "$pid" 2>/dev/null || true
[ ! -e out.jsonl ] || { echo "a killed export left out.jsonl behind"; exit 1; }
echo "ok"
