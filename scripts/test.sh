#!/usr/bin/env bash
# The whole test suite: fetches the model, starts PostgreSQL for the database tests, runs
# every crate's tests and the end-to-end tests on SQLite and on PostgreSQL; the storefront
# tests drive Node tools and Chromium, installed by scripts/storefront-tools.sh.
set -euo pipefail
cd "$(dirname "$0")/.."

scripts/fetch-model.sh
scripts/storefront-tools.sh

if [ -z "${KINDRED_TEST_DATABASE_URL:-}" ]; then
    KINDRED_TEST_DATABASE_URL=$(scripts/postgres-for-tests.sh)
    export KINDRED_TEST_DATABASE_URL
fi
echo "PostgreSQL for tests: $KINDRED_TEST_DATABASE_URL"
[ -n "${QDRANT_URL:-}" ] || echo "QDRANT_URL is not set: the Qdrant server backend's tests will say they are skipped"

cargo test --workspace --locked "$@"
# Benchmarks are not run here (their numbers live in BENCHMARKS.md), but they must compile.
cargo test --workspace --locked --benches --no-run
