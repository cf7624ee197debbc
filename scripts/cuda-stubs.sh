#!/usr/bin/env bash
# Makes link stubs for the CUDA libraries candle's CUDA backend links against, so the binary
# links on a build machine that has neither the NVIDIA driver nor cuBLAS/cuRAND/NVRTC.
#
# Why stubs: candle-core (and float8) turn on cudarc's `dynamic-linking` feature, so cudarc's
# build script asks the linker for -lcuda -lnvrtc -lcurand -lcublas -lcublasLt. cudarc's
# `dynamic-loading` (dlopen at run time) cannot be added next to it: cudarc's build script
# panics when both are on, and cargo features only add up. So the linker needs a shared object
# for each name. Each stub defines every function cudarc declares for that library and carries
# the soname of the real library (libcuda.so.1, libcublas.so.13, ...), so the binary's
# DT_NEEDED entries name the real libraries, which the driver and the CUDA wheels provide on
# the GPU machine. The stubs are for linking only: nothing should load them at run time
# (every function returns an error code, 999).
#
# Usage: scripts/cuda-stubs.sh [OUT_DIR]
#   OUT_DIR defaults to $CUDA_ROOT/lib/stubs, one of the folders cudarc's build script passes
#   to the linker, so the build needs no extra flags. Run after `eval "$(scripts/cuda-toolkit.sh)"`.
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
repo=$(cd "$here/.." && pwd)

if [ -z "${CUDA_ROOT:-}" ] && [ $# -eq 0 ]; then
    echo "CUDA_ROOT is not set: run eval \"\$(scripts/cuda-toolkit.sh)\" first, or pass OUT_DIR" >&2
    exit 1
fi
out="${1:-$CUDA_ROOT/lib/stubs}"
cc="${CC:-cc}"
python=$(command -v python3 || command -v python) || { echo "python3 is needed to read cargo metadata" >&2; exit 1; }

# The sonames follow the CUDA major release the kernels are built with (nvcc on PATH): NVRTC
# and cuBLAS carry it in their soname; cuRAND has stayed at .so.10 since CUDA 10; the driver
# library is always libcuda.so.1.
cuda_major=$(nvcc --version | sed -n 's/.*release \([0-9]*\)\..*/\1/p' | head -n 1)
[ -n "$cuda_major" ] || { echo "cannot read the CUDA release from nvcc --version" >&2; exit 1; }

# library name (for -l), soname, cudarc module with its declarations, symbol prefix
libs=(
    "cuda      libcuda.so.1                 driver    cu"
    "nvrtc     libnvrtc.so.$cuda_major      nvrtc     nvrtc"
    "curand    libcurand.so.10              curand    curand"
    "cublas    libcublas.so.$cuda_major     cublas    cublas"
    "cublasLt  libcublasLt.so.$cuda_major   cublaslt  cublasLt"
)

# cudarc's source folders, from the dependency graph with the workspace's features on (the
# stubs cover every cudarc version in it).
mapfile -t cudarc_dirs < <(
    cd "$repo" && cargo metadata --format-version 1 --locked --all-features 2>/dev/null | "$python" -c '
import json, os, sys
for p in json.load(sys.stdin)["packages"]:
    if p["name"] == "cudarc":
        print(os.path.join(os.path.dirname(p["manifest_path"]), "src"))
'
)
[ ${#cudarc_dirs[@]} -gt 0 ] || { echo "cudarc is not in the dependency graph (cargo metadata)" >&2; exit 1; }
for d in "${cudarc_dirs[@]}"; do
    [ -d "$d" ] || { echo "cudarc sources missing at $d: run cargo fetch first" >&2; exit 1; }
done

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
mkdir -p "$out"

for entry in "${libs[@]}"; do
    read -r name soname module prefix <<<"$entry"
    # Function declarations inside cudarc's `extern "C"` blocks look like `fn cuInit(`
    # (optionally `pub fn`); the prefix filter keeps out Rust helpers and trait methods.
    files=()
    for d in "${cudarc_dirs[@]}"; do
        [ -f "$d/$module/sys/mod.rs" ] && files+=("$d/$module/sys/mod.rs")
    done
    [ ${#files[@]} -gt 0 ] || { echo "cudarc has no $module bindings" >&2; exit 1; }
    cat "${files[@]}" \
        | sed -n 's/^[[:space:]]*\(pub[[:space:]]\+\)\?fn[[:space:]]\+\([A-Za-z_][A-Za-z0-9_]*\)[[:space:]]*(.*/\2/p' \
        | grep "^$prefix" \
        | { if [ "$name" = cublas ]; then grep -v '^cublasLt'; else cat; fi; } \
        | sort -u >"$work/$name.syms"
    count=$(wc -l <"$work/$name.syms")
    [ "$count" -gt 0 ] || { echo "no $name functions found in cudarc's $module bindings" >&2; exit 1; }
    {
        echo "/* Link stub for $soname, generated from cudarc's bindings. Not for run time. */"
        sed 's/.*/int &(void) { return 999; }/' "$work/$name.syms"
    } >"$work/$name.c"
    "$cc" -shared -fPIC -nostdlib -o "$out/lib$name.so" -Wl,-soname,"$soname" "$work/$name.c"
    # The soname as a file name too, so a CPU-only smoke test can point LD_LIBRARY_PATH here.
    ln -sfn "lib$name.so" "$out/$soname"
    echo "stub $out/lib$name.so ($soname, $count functions)" >&2
done
