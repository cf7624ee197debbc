#!/usr/bin/env bash
# Coverage-guided fuzzing of every parser of outside input (README, *Tests*). Seeds each
# target's corpus from the real data beside the project (catalogues, Shopify's webhook
# samples, Online Retail's orders), then runs the targets for FUZZ_SECONDS each (default
# 300), FUZZ_JOBS at a time (default 2), each with a memory cap. A crash lands in
# app/fuzz/artifacts/<target>/ and fails the run.
#
# Needs cargo-fuzz (`cargo install cargo-fuzz`) and the nightly compiler: coverage
# instrumentation is a nightly feature. The project's own build stays on stable; CI runs the
# property tests over the same parsers instead (tests/e2e/parser_properties.rs).
#
#   scripts/fuzz.sh                    # every target
#   scripts/fuzz.sh events session_token
set -euo pipefail
cd "$(dirname "$0")/.."

seconds=${FUZZ_SECONDS:-300}
jobs=${FUZZ_JOBS:-2}
data=${KINDRED_SHARED_DATA:-../shared/data}
targets=("$@")
if [ ${#targets[@]} -eq 0 ]; then
    targets=(events product_json product_json_lines product_csv webhook_bodies app_proxy_query session_token)
fi

python3 scripts/fuzz-seeds.py "$data" app/fuzz/corpus

cd app
cargo +nightly fuzz build --sanitizer none

run_one() {
    # No sanitizer: the parsers are safe Rust, so the fuzzer hunts panics, failed checks,
    # hangs (-timeout) and runaway memory (-rss_limit_mb; a per-allocation limit would need
    # a sanitizer's allocator).
    cargo +nightly fuzz run --sanitizer none "$1" "fuzz/corpus/$1" -- \
        -max_total_time="$2" -rss_limit_mb=2048 -timeout=10 \
        -max_len=65536 -print_final_stats=1 > "fuzz/$1.log" 2>&1
    local status=$?
    local runs coverage
    runs=$(grep -o 'stat::number_of_executed_units: [0-9]*' "fuzz/$1.log" | grep -o '[0-9]*$')
    coverage=$(grep -o 'cov: [0-9]*' "fuzz/$1.log" | tail -1)
    echo "$1: exit $status, ${runs:-?} runs, $coverage, corpus $(ls "fuzz/corpus/$1" | wc -l) inputs"
    return $status
}
export -f run_one
printf '%s\n' "${targets[@]}" | xargs -P "$jobs" -I{} bash -c "run_one {} $seconds"
