#!/usr/bin/env bash
# Installs the Debian 12 packages invscale builds and tests with (python3-torch: the test
# engine_arch_reference computes its references with PyTorch).
set -euo pipefail
pkgs=(build-essential cmake pkg-config clang libclang-rt-14-dev
      libcsv-dev libcjson-dev libxml2-dev libsqlite3-dev sqlite3 libcmocka-dev
      libzip-dev libcurl4-openssl-dev libfmt-dev libsimdjson-dev g++ python3 python3-jsonschema python3-pandas python3-nltk python3-statsmodels
      util-linux gawk jq bc time librsvg2-bin unzip
      libopenblas-dev libpcre2-dev libutf8proc-dev zlib1g-dev spamassassin spamc spamd
      python3-torch python3-numpy
      libmicrohttpd-dev chromium wrk)  # the annotation server; chromium for its browser test, wrk for bench/serve
missing=()
for p in "${pkgs[@]}"; do dpkg -s "$p" >/dev/null 2>&1 || missing+=("$p"); done
# node and npm for the tokenizer oracle test and bench/tokenize (a node already installed, e.g. a newer one, is kept)
if ! command -v node >/dev/null 2>&1 || ! command -v npm >/dev/null 2>&1; then missing+=(nodejs npm); fi
if [ ${#missing[@]} -eq 0 ]; then bash "$(dirname "$0")/npm.sh"; exit 0; fi
[ ${#missing[@]} -eq 0 ] && exit 0
sudo=""
[ "$(id -u)" = 0 ] || sudo=sudo
$sudo apt-get update -qq
DEBIAN_FRONTEND=noninteractive $sudo apt-get install -y -qq --no-install-recommends "${missing[@]}" >/dev/null
bash "$(dirname "$0")/npm.sh"
