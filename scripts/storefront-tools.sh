#!/usr/bin/env bash
# Installs what the storefront tests drive: the Node packages of tests/storefront (`npm ci`,
# pinned by its lockfile; Shopify's theme linter and API library, liquidjs, playwright-core)
# and Debian's Chromium when it is missing. Nothing is downloaded at test time.
set -euo pipefail
cd "$(dirname "$0")/../tests/storefront"

if ! command -v node >/dev/null 2>&1; then
    echo "installing Node.js from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq nodejs npm >&2
fi
# npm ci only when the lockfile changed since the last install.
if [ ! -f node_modules/.package-lock.json ] || [ package-lock.json -nt node_modules/.package-lock.json ]; then
    npm ci --no-audit --no-fund --loglevel=error >&2
fi
if [ ! -x /usr/bin/chromium ]; then
    echo "installing Chromium from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq chromium >&2
fi
