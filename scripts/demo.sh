#!/usr/bin/env bash
# Starts Kindred on the embedded defaults (SQLite + embedded Qdrant in ./data) with the real
# yoga-store catalogue imported as a demo shop, and prints a curl line to try.
set -euo pipefail
cd "$(dirname "$0")/.."

shop="${KINDRED_DEMO_SHOP:-demo-yoga.myshopify.com}"
catalogue="${KINDRED_DEMO_CATALOGUE:-../shared/data/catalogs/yoga-stores/2026-01-13}"
listen="${KINDRED_LISTEN:-127.0.0.1:8080}"
export KINDRED_DATA_DIR="${KINDRED_DATA_DIR:-data}"

scripts/fetch-model.sh
cargo build --release --locked --bin kindred
kindred=target/release/kindred

# Importing twice is harmless: unchanged products are neither rewritten nor re-embedded.
"$kindred" import --shop "$shop" "$catalogue"

key_file="$KINDRED_DATA_DIR/demo-storefront-key"
if [ ! -s "$key_file" ]; then
    "$kindred" shop create-key --shop "$shop" > "$key_file"
fi
key=$(cat "$key_file")
product=$("$kindred" shop find-product --shop "$shop" --title "PRO Yoga Mat" | head -n 1 | cut -f 1)

cat <<EOT

Kindred is starting on http://$listen with $shop. Try:

  curl -s -H "Authorization: Bearer $key" "http://$listen/api/v1/products/$product/similar?limit=5"

EOT
exec "$kindred" serve --listen "$listen"
