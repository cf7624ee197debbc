#!/usr/bin/env bash
# Builds the bundle the GPU benchmarks run from, on this machine (no GPU needed):
# target/gpu-bundle/ holds the CUDA build of the benchmark binary (stripped, xz), the model in
# f16 and the real catalogue the benchmark's texts are made from; under 64 MiB in all.
# Then, on a GPU machine with this working tree and target/gpu-bundle: scripts/gpu/bench.sh
#
# Usage: scripts/gpu/prepare.sh [--debug]   (--debug: the dev profile, a faster build)
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
cd "$repo"

profile_args=(--release)
if [ "${1:-}" = "--debug" ]; then
    profile_args=()
fi

scripts/fetch-model.sh >/dev/null
model_dir="${KINDRED_MODEL_DIR:-${KINDRED_CACHE_DIR:-$HOME/.cache/kindred}/models/all-MiniLM-L6-v2}"
catalogue="$repo/../shared/data/catalogs/yoga-stores/2026-01-13"
[ -d "$catalogue" ] || { echo "the yoga-store catalogue is missing: $catalogue" >&2; exit 1; }

eval "$("$repo/scripts/cuda-toolkit.sh")"
"$repo/scripts/cuda-stubs.sh"

# `cargo bench --no-run` builds the benchmark with the bench profile (release settings) and
# names the executable in its JSON messages.
if [ ${#profile_args[@]} -eq 0 ]; then
    build=(cargo test --locked -p kindred --features cuda --bench gpu --no-run --message-format=json)
else
    build=(cargo bench --locked -p kindred --features cuda --bench gpu --no-run --message-format=json)
fi
bin=$("${build[@]}" | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "gpu" and message.get("executable"):
        print(message["executable"])
')
[ -x "$bin" ] || { echo "the benchmark did not build" >&2; exit 1; }

out="$repo/target/gpu-bundle"
rm -rf "$out"
mkdir -p "$out"
strip -o "$out/kindred-gpu-bench" "$bin"
xz -T0 -9 "$out/kindred-gpu-bench"
python3 "$here/f16-model.py" "$model_dir" "$out/model"
tar -C "$(dirname "$catalogue")" -cJf "$out/catalogue.tar.xz" "$(basename "$catalogue")"

bytes=$(du -sb "$out" | cut -f1)
echo "bundle: $out, $((bytes / 1024 / 1024)) MiB"
ls -l "$out" "$out/model"
if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then
    echo "the bundle is over 64 MiB" >&2
    exit 1
fi
echo "next, on a GPU machine with this working tree and target/gpu-bundle: scripts/gpu/bench.sh"
