#!/usr/bin/env bash
# The library never prints, exits or looks at the terminal: only cli/ does.
# Greps every library source (all but cli/, tests/, bench/, examples/,
# scripts/) for printf, fprintf, puts, exit( and isatty as whole words, outside
# comments.  snprintf, vsnprintf, fputs and fwrite are not matched.
# Usage: library_quiet_test.sh SOURCE_DIR
set -u
cd "$1" || exit 1
files=$(git ls-files 2>/dev/null | grep -E '\.(c|cc|h)$' | grep -vE '^(cli|tests|bench|examples|scripts)/')
[ -n "$files" ] || files=$(find . -name '*.[ch]' -o -name '*.cc' | sed 's#^\./##' | grep -vE '^(cli|tests|bench|examples|scripts|build[^/]*)/')
n=$(echo "$files" | wc -l)
# strip /* */ and // comments and string literals before matching
hits=$(for f in $files; do
  sed -E ':a; s#/\*([^*]|\*[^/])*\*/##g; /\/\*/ { N; ba }; s#//.*$##; s#"([^"\\]|\\.)*"#""#g' "$f" |
    grep -nE '(^|[^A-Za-z0-9_])(printf|fprintf|vprintf|vfprintf|puts|isatty)[[:space:]]*\(|(^|[^A-Za-z0-9_])(exit|_exit|abort)[[:space:]]*\(' |
    sed "s#^#$f:#"
done)
if [ -n "$hits" ]; then
  echo "library code that prints, exits or looks at the terminal:"
  echo "$hits"
  echo "1 failed"
  exit 1
fi
echo "$n library sources checked: none prints, exits or calls isatty"
echo "1 passed, 0 failed"
