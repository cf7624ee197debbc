#!/usr/bin/env bash
# Lays out a minimal CUDA 13 toolkit (nvcc, its device compiler, the runtime and CCCL headers)
# from NVIDIA's PyPI wheels, so `cargo build --features cuda` works on a machine without a
# system CUDA install or a GPU. Prints `export` lines for the build to `eval`:
#
#   eval "$(scripts/cuda-toolkit.sh)"
#
# Only the compiler side is installed. The CUDA libraries candle links against (libcuda,
# cuBLAS, cuBLASLt, cuRAND, NVRTC) are covered by link stubs (scripts/cuda-stubs.sh); the real
# ones come from the NVIDIA driver and the CUDA wheels on the machine that runs the binary.
# libcudart is the exception: its wheel is small and carries the real library, so the link
# uses it as is.
#
# Settings (environment):
#   KINDRED_CUDA_HOME      cache folder (default ~/.cache/kindred/cuda)
#   KINDRED_CUDA_VERSION   CUDA minor release of the wheels (default 13.0)
#   CUDA_COMPUTE_CAP       GPU architecture the kernels are compiled for (default 90: Hopper)
# Progress goes to stderr, so stdout carries only the export lines.
set -euo pipefail

version="${KINDRED_CUDA_VERSION:-13.0}"
cache="${KINDRED_CUDA_HOME:-${XDG_CACHE_HOME:-$HOME/.cache}/kindred/cuda}"
compute_cap="${CUDA_COMPUTE_CAP:-90}"
prefix="$cache/$version"
# The CUDA 13 wheels all install under nvidia/cu13; that folder is the toolkit root.
root="$prefix/site/nvidia/cu13"

case "$version" in
    13.*) ;;
    *) echo "KINDRED_CUDA_VERSION must be a CUDA 13 release such as 13.0 (got $version)" >&2; exit 1 ;;
esac

# 13.0 is the default on purpose. candle ships its kernels as PTX, which the driver compiles
# when the model loads, and a driver only reads PTX from CUDA releases up to its own: PTX from
# nvcc 13.0 loads on every CUDA 13 driver (580 and later), PTX from a newer nvcc needs a newer
# driver. cudarc (candle's CUDA bindings) also reads the version from `nvcc --version` and
# binds the driver API of that release.
packages=(
    "nvidia-cuda-nvcc==$version.*"    # nvcc, ptxas, fatbinary, nvlink
    "nvidia-nvvm==$version.*"         # cicc and libdevice, which nvcc calls to make PTX
    "nvidia-cuda-crt==$version.*"     # crt/ headers nvcc includes in every compile
    "nvidia-cuda-runtime==$version.*" # cuda.h, cuda_runtime.h, libcudart.so.13
    "nvidia-cuda-cccl==$version.*"    # thrust and libcu++ (candle's sort and MoE kernels)
)

if [ ! -x "$root/bin/nvcc" ] || [ ! -x "$root/nvvm/bin/cicc" ] || [ ! -f "$root/include/cuda.h" ]; then
    python=$(command -v python3 || command -v python) || { echo "python3 with pip is needed to fetch the CUDA wheels" >&2; exit 1; }
    echo "installing CUDA $version compiler wheels into $prefix" >&2
    rm -rf "$prefix/site.partial"
    # One pip call for all wheels: they share the nvidia/cu13 folder, and pip --target merges
    # packages only within a single install.
    "$python" -m pip install --quiet --disable-pip-version-check --no-deps --only-binary=:all: \
        --target "$prefix/site.partial" "${packages[@]}" >&2
    rm -rf "$prefix/site"
    mv "$prefix/site.partial" "$prefix/site"
fi

# The layout candle's and cudarc's build scripts look for under $CUDA_ROOT: include/cuda.h,
# lib64/, and an unversioned libcudart.so for `-lcudart` (the wheel has only the .so.13).
ln -sfn lib "$root/lib64"
cudart=$(cd "$root/lib" && ls libcudart.so.* | head -n 1)
ln -sfn "$cudart" "$root/lib/libcudart.so"

if ! "$root/bin/nvcc" --version >/dev/null; then
    echo "nvcc from the wheels does not run: $root/bin/nvcc --version" >&2
    exit 1
fi
"$root/bin/nvcc" --version | tail -n 2 >&2

printf 'export PATH=%q:"$PATH"\n' "$root/bin"
for var in CUDA_ROOT CUDA_PATH CUDA_HOME; do
    printf 'export %s=%q\n' "$var" "$root"
done
printf 'export CUDA_COMPUTE_CAP=%q\n' "$compute_cap"
