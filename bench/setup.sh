#!/usr/bin/env bash
# Peers used only by the benchmarks (never runtime dependencies of rnncli).
set -euo pipefail
apt-get update -qq
# chromium: bench/inspect_page.py; wrk: bench/serve_load.py's load
apt-get install -y -qq fasttext sentencepiece chromium wrk >/dev/null
# the classical taggers of shared/peers/tag_peers.py, into the interpreter that runs the benchmarks
python -m pip install -q nltk python-crfsuite
# rnncli serve, for bench/serve_load.py
python -m pip install -q -e "$(dirname "$0")/..[serve]"
