#!/usr/bin/env bash
# Peers used only by the benchmarks (never runtime dependencies of rnncli).
set -euo pipefail
apt-get update -qq
apt-get install -y -qq fasttext sentencepiece chromium >/dev/null  # chromium: bench/inspect_page.py
# the classical taggers of shared/peers/tag_peers.py, into the interpreter that runs the benchmarks
python -m pip install -q nltk python-crfsuite
