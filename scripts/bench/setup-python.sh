#!/usr/bin/env bash
# A Python environment with sentence-transformers (PyTorch), for the reference side of the
# embedding benchmark. Benchmarks only: CI never needs it. Prints the python to use.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${KINDRED_BENCH_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sentence_transformers" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet sentence-transformers >&2
fi
echo "$venv/bin/python"
