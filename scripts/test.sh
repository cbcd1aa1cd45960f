#!/usr/bin/env bash
# README command 2: install, build, run every test through CTest.
set -euo pipefail
cd "$(dirname "$0")/.."
bash scripts/deps.sh
bash scripts/build.sh >/dev/null
cd build && ctest --output-on-failure -j2
