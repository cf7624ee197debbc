#!/usr/bin/env bash
# Installs what the storefront tests drive: the Node packages of tests/storefront and of the
# headless client (`npm ci`, each pinned by its lockfile; Shopify's theme linter and API library, liquidjs, playwright-core)
# and Debian's Chromium when it is missing. Nothing is downloaded at test time.
set -euo pipefail
cd "$(dirname "$0")/../tests/storefront"

if ! command -v node >/dev/null 2>&1; then
    echo "installing Node.js from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq nodejs npm >&2
fi
# npm ci only when the lockfile changed since the last install: here and in the headless
# client package (its development tools: TypeScript, the OpenAPI type generator, React).
for package in . ../../shopify-extension/headless; do
    if [ ! -f "$package/node_modules/.package-lock.json" ] || [ "$package/package-lock.json" -nt "$package/node_modules/.package-lock.json" ]; then
        (cd "$package" && npm ci --no-audit --no-fund --loglevel=error >&2)
    fi
done
if [ ! -x /usr/bin/chromium ]; then
    echo "installing Chromium from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
fi
