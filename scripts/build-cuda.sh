#!/usr/bin/env bash
# Builds the kindred binary with candle's CUDA backend, for Hopper GPUs (compute capability
# 9.0) unless CUDA_COMPUTE_CAP says otherwise. The build machine needs no GPU, no NVIDIA
# driver and no CUDA install: nvcc comes from NVIDIA's PyPI wheels (scripts/cuda-toolkit.sh)
# and the CUDA libraries are link stubs (scripts/cuda-stubs.sh).
#
# The binary links the CUDA libraries by name (candle turns on cudarc's dynamic linking), so
# the machine that runs it needs, on the loader's path: libcuda.so.1 from the NVIDIA driver
# (CUDA 13, driver 580 or later), and libcudart.so.13, libcublas.so.13, libcublasLt.so.13,
# libcurand.so.10 and libnvrtc.so.13, for example from the CUDA 13 wheels a PyTorch install
# carries (site-packages/nvidia/cu13/lib on LD_LIBRARY_PATH). It does not start without them,
# even with KINDRED_DEVICE=cpu; use the default build on machines without a GPU.
#
# `--debug` builds the dev profile and stops there: what CI runs so the CUDA build never rots
# (the dev profile shares most of its compiled crates with the test build). Other arguments
# go to cargo build (e.g. -j 2).
set -euo pipefail

profile=release
if [ "${1:-}" = "--debug" ]; then
    profile=debug
    shift
fi

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)
cd "$repo"

eval "$("$here/cuda-toolkit.sh")"
"$here/cuda-stubs.sh"

if [ "$profile" = debug ]; then
    cargo build --locked -p kindred --features cuda "$@"
    # The GPU benchmark (scripts/gpu/) is built the same way, so it cannot rot either.
    cargo test --locked -p kindred --features cuda --bench gpu --no-run "$@"
    echo "the CUDA build of kindred and its GPU benchmark compile and link (dev profile)"
    exit 0
fi
cargo build --release --locked -p kindred --features cuda "$@"

target_dir=$(cargo metadata --format-version 1 --no-deps | python3 -c 'import json, sys; print(json.load(sys.stdin)["target_directory"])')
bin="$target_dir/release/kindred"
# Symbols are most of the file; the release profile keeps none that are needed at run time.
strip "$bin"
echo "$bin: $(du -h "$bin" | cut -f1) ($(stat -c %s "$bin") bytes)"
if command -v readelf >/dev/null; then
    echo "needs: $(readelf -d "$bin" | sed -n 's/.*Shared library: \[\(.*\)\]/\1/p' | tr '\n' ' ')"
fi
