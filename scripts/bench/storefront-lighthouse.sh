#!/usr/bin/env bash
# Lighthouse performance of the storefront test page with and without the Kindred block,
# against a real Kindred server (the yoga-store catalogue, the App Proxy signed by the test's
# stand-in for Shopify). Prints a table for BENCHMARKS.md. Usage:
#   scripts/bench/storefront-lighthouse.sh [path to a kindred binary]   (RUNS=5, PRESET=mobile)
set -euo pipefail
cd "$(dirname "$0")/../.."

kindred="${1:-target/release/kindred}"
[ -x "$kindred" ] || cargo build --release --locked --bin kindred
scripts/fetch-model.sh
scripts/storefront-tools.sh
(cd tests/storefront/bench && { [ -d node_modules ] || npm ci --no-audit --no-fund --loglevel=error; })

shop=yoga-store.myshopify.com
product=4357742755898
port="${KINDRED_BENCH_PORT:-18181}"
work=$(mktemp -d)
trap 'kill "$server" 2>/dev/null && wait "$server" 2>/dev/null; rm -rf "$work"' EXIT

export KINDRED_DATA_DIR="$work/data" SHOPIFY_API_KEY=lighthouse-bench SHOPIFY_API_SECRET=lighthouse-bench-secret
"$kindred" import --shop "$shop" ../shared/data/catalogs/yoga-stores/2026-01-13 >/dev/null
"$kindred" serve --listen "127.0.0.1:$port" >"$work/server.log" 2>&1 &
server=$!
for _ in $(seq 1 120); do
    curl -fs "http://127.0.0.1:$port/ready" >/dev/null && break
    sleep 1
done

cd tests/storefront/bench
KINDRED_URL="http://127.0.0.1:$port" KINDRED_PROXY_SECRET="$SHOPIFY_API_SECRET" SHOP="$shop" PRODUCT_ID="$product" \
    node lighthouse.mjs
