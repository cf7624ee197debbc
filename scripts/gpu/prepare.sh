#!/usr/bin/env bash
# Builds the bundle the GPU benchmarks run from, on this machine (no GPU needed):
# target/gpu-bundle/ holds the CUDA build of the benchmark binary (stripped, xz), the model in
# f16, the real catalogue the benchmark's texts are made from, and the CPU server's vectors of
# the agreement texts (f32 weights); under 64 MiB in all.
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

# Builds the benchmark and prints its executable, which cargo names in its JSON messages.
build_benchmark() {
    "$@" --locked -p kindred --bench gpu --no-run --message-format=json | python3 -c '
import json, sys
for line in sys.stdin:
    message = json.loads(line)
    if message.get("reason") == "compiler-artifact" and message["target"]["name"] == "gpu" and message.get("executable"):
        print(message["executable"])
'
}
# `cargo bench` builds with the bench profile (release settings), `cargo test` with the dev one.
if [ ${#profile_args[@]} -eq 0 ]; then
    bin=$(build_benchmark cargo test --features cuda)
else
    bin=$(build_benchmark cargo bench --features cuda)
fi
[ -x "$bin" ] || { echo "the benchmark did not build" >&2; exit 1; }
# The default (CPU) build of the same benchmark computes, here, the vectors the CPU server
# gives the agreement texts with the original f32 weights; the GPU run compares with them.
cpu_bin=$(build_benchmark cargo test)
[ -x "$cpu_bin" ] || { echo "the CPU benchmark did not build" >&2; exit 1; }

out="$repo/target/gpu-bundle"
rm -rf "$out"
mkdir -p "$out"
strip -o "$out/kindred-gpu-bench" "$bin"
xz -T0 -9 "$out/kindred-gpu-bench"
python3 "$here/f16-model.py" "$model_dir" "$out/model"
tar -C "$(dirname "$catalogue")" -cJf "$out/catalogue.tar.xz" "$(basename "$catalogue")"
KINDRED_MODEL_DIR="$model_dir" KINDRED_BENCH_CATALOGUE="$catalogue" RUST_LOG=warn \
    KINDRED_BENCH_WRITE_REFERENCE="$out/reference-vectors.json" "$cpu_bin"

bytes=$(du -sb "$out" | cut -f1)
echo "bundle: $out, $((bytes / 1024 / 1024)) MiB"
ls -l "$out" "$out/model"
if [ "$bytes" -gt $((64 * 1024 * 1024)) ]; then
    echo "the bundle is over 64 MiB" >&2
    exit 1
fi
echo "next, on a GPU machine with this working tree and target/gpu-bundle: scripts/gpu/bench.sh"
