#!/usr/bin/env bash
# invscale's alpha and Fleiss' kappa against NLTK's AnnotationTask.alpha and
# statsmodels' fleiss_kappa (Debian's python3-nltk, python3-statsmodels) on
# generated judgments: they must agree to 1e-9.
# Usage: peer_agreement_test.sh BIN_DIR SOURCE_DIR
set -eu
bin=$1/invscale src=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
py=/usr/bin/python3
$py "$src/bench/gen_judgments.py" 3000 0.15 "$work/miss.csv"
$py "$src/bench/gen_judgments.py" 3000 0 "$work/full.csv"
a=$("$bin" agreement --input "$work/miss.csv" --bootstrap 0 --format json | $py -c 'import json,sys; print(repr(json.load(sys.stdin)["alpha"]))')
na=$($py "$src/bench/python_agreement.py" nltk "$work/miss.csv" | awk '{print $2}')
f=$("$bin" agreement --input "$work/full.csv" --bootstrap 0 --format json | $py -c 'import json,sys; print(repr(json.load(sys.stdin)["fleiss_kappa"]))')
sf=$($py -c "
import sys; sys.argv=['x','statsmodels','$work/full.csv']
exec(open('$src/bench/python_agreement.py').read().replace('{fleiss_kappa(table):.6f}', '{fleiss_kappa(table)!r}'))" | awk '{print $2}')
na_full=$($py -c "
import sys; sys.argv=['x','nltk','$work/miss.csv']
exec(open('$src/bench/python_agreement.py').read().replace('{task.alpha():.6f}', '{task.alpha()!r}'))" | awk '{print $2}')
echo "alpha: invscale $a, NLTK $na_full; Fleiss: invscale $f, statsmodels $sf"
$py -c "
a, b, c, d = $a, $na_full, $f, $sf
assert abs(a - b) < 1e-9, ('alpha', a, b)
assert abs(c - d) < 1e-9, ('fleiss', c, d)
print('agree within 1e-9')"
