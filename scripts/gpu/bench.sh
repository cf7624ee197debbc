#!/usr/bin/env bash
# Runs every GPU benchmark in one go on a GPU machine (CUDA 13 driver, PyTorch installed, no
# cargo needed), from the bundle scripts/gpu/prepare.sh built: embedding throughput against
# sentence-transformers on the same GPU, GPU/CPU agreement, exact all-pairs top-20 for 100k
# and 1M vectors next to the bandwidth bound and the CPU. Prints markdown tables; with $OUT
# set, also writes them to $OUT/gpu-benchmarks.md.
#
# Usage (from the repository root): scripts/gpu/bench.sh
# Settings pass through to the benchmark (see app/benches/gpu.rs), e.g. KINDRED_BENCH_PRODUCTS,
# KINDRED_BENCH_SIZES, KINDRED_BENCH_ROUNDS, KINDRED_BENCH_BANDWIDTH_GBPS.
set -euo pipefail

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/../.." && pwd)
bundle="${KINDRED_GPU_BUNDLE:-$repo/target/gpu-bundle}"
[ -f "$bundle/kindred-gpu-bench.xz" ] || { echo "no bundle at $bundle: run scripts/gpu/prepare.sh first (on the build machine)" >&2; exit 1; }
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
python=$(command -v python3 || command -v python)

# Unpacked with Python's standard library: the machine may lack xz.
"$python" - "$bundle" "$work" <<'PY'
import lzma, os, shutil, sys, tarfile
bundle, work = sys.argv[1], sys.argv[2]
with lzma.open(os.path.join(bundle, "kindred-gpu-bench.xz")) as packed, open(os.path.join(work, "kindred-gpu-bench"), "wb") as out:
    shutil.copyfileobj(packed, out)
os.chmod(os.path.join(work, "kindred-gpu-bench"), 0o755)
with tarfile.open(os.path.join(bundle, "catalogue.tar.xz")) as archive:
    archive.extractall(os.path.join(work, "catalogue"))
PY

# The binary needs the driver's libcuda.so.1 and CUDA 13's cuBLAS, cuRAND and NVRTC, which a
# CUDA 13 PyTorch carries in its NVIDIA wheels.
libs=$("$python" - <<'PY'
import glob, os, site, sys
roots = site.getsitepackages() + [site.getusersitepackages()]
found = []
for root in roots:
    for folder in glob.glob(os.path.join(root, "nvidia", "**", "lib"), recursive=True):
        if glob.glob(os.path.join(folder, "lib*.so.1[03]*")) or glob.glob(os.path.join(folder, "libnvrtc*")):
            found.append(folder)
print(":".join(dict.fromkeys(found)))
PY
)
export LD_LIBRARY_PATH="${libs}${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
echo "CUDA libraries from: ${libs:-the system}" >&2
if ldd "$work/kindred-gpu-bench" | grep "not found" >&2; then
    echo "the libraries above are missing: a CUDA 13 driver and PyTorch's CUDA 13 wheels provide them" >&2
    exit 1
fi

# Memory bandwidth of the GPU, for the all-pairs bound: from its name.
gpu=$(nvidia-smi --query-gpu=name --format=csv,noheader 2>/dev/null | head -1 || true)
case "$gpu" in
    *H200*) bandwidth=4800 ;;
    *H100*PCIe*) bandwidth=2000 ;;
    *H100*) bandwidth=3350 ;;
    *A100*80GB*) bandwidth=2039 ;;
    *A100*) bandwidth=1555 ;;
    *) bandwidth="" ;;
esac

reference=""
if "$python" -c "import sentence_transformers, torch" 2>/dev/null; then
    reference="$python"
else
    echo "sentence-transformers is not installed here: the reference column will say so" >&2
fi

report="${OUT:-$work}/gpu-benchmarks.md"
KINDRED_MODEL_DIR="$bundle/model" \
KINDRED_BENCH_CATALOGUE="$work/catalogue/2026-01-13" \
KINDRED_BENCH_PYTHON="${KINDRED_BENCH_PYTHON:-$reference}" \
KINDRED_BENCH_REFERENCE="$repo/scripts/bench/st_embed.py" \
KINDRED_BENCH_REFERENCE_VECTORS="$bundle/reference-vectors.json" \
KINDRED_BENCH_BANDWIDTH_GBPS="${KINDRED_BENCH_BANDWIDTH_GBPS:-$bandwidth}" \
RUST_LOG="${RUST_LOG:-warn}" \
    "$work/kindred-gpu-bench" | tee "$report"
