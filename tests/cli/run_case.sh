#!/usr/bin/env bash
# Runs one command-line case: tests/cli/cases/NAME/ holds the input files, a
# script `cmd` (bash, run in a scratch copy of the folder with invscale on
# PATH; stderr goes with stdout) and `expected`, the exact output.
# Usage: run_case.sh CASE_DIR BIN_DIR   (UPDATE=1 rewrites `expected`)
set -u
case_dir=$1 bin_dir=$2
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
cp -r "$case_dir"/. "$work"/
cd "$work"
export PATH="$bin_dir:$PATH" INVSCALE_DB=invscale.db LC_ALL=C.UTF-8
bash ./cmd >actual 2>&1
if [ "${UPDATE:-}" = 1 ]; then cp actual "$case_dir/expected"; exit 0; fi
if ! diff -u "$case_dir/expected" actual; then
  echo "case $(basename "$case_dir") failed"
  exit 1
fi
