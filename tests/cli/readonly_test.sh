#!/usr/bin/env bash
# A store the user cannot write: a clear error, exit 1, the file untouched.
# Root ignores file permissions, so as root the command runs as 'nobody'.
set -eu
bin=$1
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
chmod 755 "$work"
cd "$work"
"$bin/invscale" --db ro.db init >/dev/null
printf 'prompt,classes\nq,"[\x27 a\x27, \x27 b\x27]"\n' > a.csv
chmod 444 ro.db
chmod 644 a.csv
before=$(sha256sum ro.db)
run=()
if [ "$(id -u)" = 0 ]; then
  run=(setpriv --reuid=nobody --regid=nogroup --clear-groups)
  # nobody must reach the binary
  d="$bin"; while [ "$d" != / ]; do chmod o+x "$d" 2>/dev/null || true; d=$(dirname "$d"); done
fi
set +e
out=$("${run[@]}" "$bin/invscale" --db ro.db ingest csv a.csv 2>&1)
code=$?
set -e
echo "$out"
[ "$code" = 1 ] || { echo "expected exit 1, got $code"; exit 1; }
echo "$out" | grep -q "read-only" || { echo "no read-only message"; exit 1; }
[ "$(sha256sum ro.db)" = "$before" ] || { echo "store changed"; exit 1; }
echo ok
