#!/usr/bin/env bash
# Every validation rule has a failing and a passing fixture: tests/data/validate/RULE.bad.*
# must report RULE, RULE.good.* must not (and be valid).  A few fixtures are
# generated here because they need hundreds of lines.
# Usage: validate_rules.sh BIN_DIR DATA_DIR
set -u
bin=$1/invscale data=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp "$data"/* "$work"/
cd "$work"
row() { printf '{"prompt":"Q%d","classes":[" a"," b"],"answer_index":%d}\n' "$1" "$2"; }
for i in $(seq 1 10); do row "$i" 0; done > answer-balance.bad.jsonl
for i in $(seq 1 10); do row "$i" $((i % 2)); done > answer-balance.good.jsonl
for i in $(seq 1 300); do row "$i" $((i % 2)); done > few-examples.bad.jsonl
for i in $(seq 1 1000); do row "$i" $((i % 2)); done > few-examples.good.jsonl
{ row 1 0; printf '{"prompt":"%s","classes":[" a"," b"],"answer_index":1}\n' "$(head -c 5000 /dev/zero | tr '\0' x)"; row 3 1; } > line-too-long.bad.jsonl
{ row 1 0; row 2 1; } > line-too-long.good.jsonl
warning_rules=" old-name leading-space leading-space-completion duplicate conflicting-answers answer-balance similar-classes few-examples "
fail=0 checked=0
for f in *.bad.* *.good.*; do
  rule=${f%%.*}
  opts=(--min-examples 0 --format json)
  case $rule in
    min-examples) opts=(--min-examples 3 --format json) ;;
    few-examples) opts=(--format json) ;;
    line-too-long) opts=(--min-examples 0 --max-line-size 1024 --format json) ;;
  esac
  out=$("$bin" validate "${opts[@]}" "$f" 2>&1)
  code=$?
  id=$rule
  [ "$rule" = leading-space-completion ] && id=leading-space
  has=0
  grep -q "\"rule\":\"$id\"" <<<"$out" && has=1
  if [[ $f == *.bad.* ]]; then
    want_code=1
    [[ $warning_rules == *" $rule "* ]] && want_code=0
    if [ $has != 1 ] || [ $code != $want_code ]; then
      echo "FAIL $f: expected rule $id and exit $want_code, got exit $code: $out"; fail=1
    fi
  else
    if [ $has = 1 ] || [ $code != 0 ]; then
      echo "FAIL $f: expected a valid file without $id, got exit $code: $out"; fail=1
    fi
  fi
  checked=$((checked + 1))
done
echo "$checked fixtures checked"
exit $fail
