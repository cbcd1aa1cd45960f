#!/usr/bin/env bash
# The public API as a user meets it: `cmake --install` into a fresh prefix,
# every public header compiled on its own (C11 and C++), and
# examples/alpha_of_triples.c built against the installed library through
# pkg-config , run, and its alpha compared with
# `invscale agreement`'s.  (The library is static: pkg-config's --libs name
# every library it needs.)
# Usage: installed_library_test.sh BUILD_DIR SOURCE_DIR [EXTRA_CFLAGS]
set -euo pipefail
build=$1 src=$2 extra=${3:-}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cmake --install "$build" --prefix "$work/prefix" >/dev/null
export PKG_CONFIG_PATH=$work/prefix/lib/pkgconfig
fail=0 pass=0
for h in "$work"/prefix/include/invscale/*.h; do
  name=invscale/$(basename "$h")
  printf '#include "%s"\n#include "%s"\nint main(void) { return 0; }\n' "$name" "$name" > "$work/h.c"
  if cc -std=c11 -Wall -Wextra -Werror -pedantic $(pkg-config --cflags invscale) -fsyntax-only "$work/h.c" &&
     c++ -x c++ -Wall -Werror $(pkg-config --cflags invscale) -fsyntax-only "$work/h.c"; then
    pass=$((pass + 1))
  else
    echo "public header $name does not compile on its own"; fail=$((fail + 1))
  fi
done
cc -std=c11 -Wall -Wextra -Werror $extra "$src/examples/alpha_of_triples.c" $(pkg-config --cflags --libs invscale) -o "$work/alpha"
want=$("$build/invscale" agreement --input "$src/examples/judgments.csv" --bootstrap 0 | awk '/alpha \(nominal\)/ {print $NF}')
for kind in installed; do
  out=$("$work/alpha" "$work/$kind.db" "$src/examples/memo_trap.csv" "$src/examples/judgments.csv")
  echo "$kind: $out"
  got=$(echo "$out" | awk '/alpha/ {print $NF}')
  if [ "$got" = "$want" ] && echo "$out" | grep -q "examples imported (classification)"; then
    pass=$((pass + 1))
  else
    echo "$kind: alpha $got, invscale agreement says $want"; fail=$((fail + 1))
  fi
done
echo "$pass passed, $fail failed"
[ "$fail" = 0 ]
