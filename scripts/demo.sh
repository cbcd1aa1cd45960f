#!/usr/bin/env bash
# README command 1: install, build, run the example job end to end.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh >/dev/null
bash examples/run.sh build/invscale
