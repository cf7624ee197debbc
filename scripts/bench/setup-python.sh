#!/usr/bin/env bash
# A Python environment for the reference side of the embedding benchmark: sentence-transformers
# (PyTorch), and ONNX Runtime with what exports the model to ONNX. Benchmarks only: CI never
# needs it. Prints the python to use.
set -euo pipefail
cd "$(dirname "$0")/../.."
venv="${KINDRED_BENCH_VENV:-.venv}"
if [ ! -x "$venv/bin/python" ] || ! "$venv/bin/python" -c "import sentence_transformers, onnxruntime, onnx" 2>/dev/null; then
    python3 -m venv "$venv"
    "$venv/bin/pip" install --quiet sentence-transformers onnxruntime onnx >&2
fi
echo "$venv/bin/python"
