#!/usr/bin/env bash
# Starts a throwaway PostgreSQL cluster on loopback for the test suite and prints its URL.
# Installs PostgreSQL from Debian's packages when it is missing. Stop it with `$0 stop`.
# Tests run it with fsync off (speed, nothing to keep); benchmarks of durable writes start
# another with KINDRED_PG_FSYNC=on KINDRED_PG_PORT=55433 KINDRED_PG_DIR=<another folder>.
set -euo pipefail

root="${KINDRED_PG_DIR:-${TMPDIR:-/tmp}/kindred-test-pg}"
port="${KINDRED_PG_PORT:-55432}"
fsync="${KINDRED_PG_FSYNC:-off}"

find_bin() {
    local dir
    dir=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1 || true)
    [ -n "$dir" ] && [ -x "$dir/initdb" ] && echo "$dir"
}

if [ "${1:-start}" = "stop" ]; then
    bin=$(find_bin) || exit 0
    [ -d "$root/data" ] && runuser -u postgres -- "$bin/pg_ctl" -D "$root/data" stop -m fast >/dev/null 2>&1 || true
    exit 0
fi

bin=$(find_bin || true)
if [ -z "$bin" ]; then
    echo "installing PostgreSQL from Debian's packages" >&2
    export DEBIAN_FRONTEND=noninteractive
    apt-get update -qq >&2
    apt-get install -y -qq postgresql >&2
    bin=$(find_bin)
fi

# initdb refuses to run as root, so the cluster belongs to the postgres user.
as_pg() { if [ "$(id -u)" = 0 ]; then runuser -u postgres -- "$@"; else "$@"; fi; }

if ! as_pg "$bin/pg_ctl" -D "$root/data" status >/dev/null 2>&1; then
    rm -rf "$root"
    mkdir -p "$root"
    [ "$(id -u)" = 0 ] && chown postgres "$root"
    as_pg "$bin/initdb" -D "$root/data" -U kindred --auth=trust -E UTF8 >/dev/null
    as_pg "$bin/pg_ctl" -D "$root/data" -l "$root/log" -w \
        -o "-c listen_addresses=127.0.0.1 -p $port -k $root -c fsync=$fsync -c max_connections=300" start >/dev/null
fi
echo "postgres://kindred@127.0.0.1:$port/postgres"
