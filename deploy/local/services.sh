#!/usr/bin/env bash
# Start or stop the project-local PostgreSQL/PostGIS and Redis under var/.
# Each is skipped when DATABASE_URL / REDIS_URL point elsewhere.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
VAR="$ROOT/var"
PG_PORT=55432
REDIS_PORT=56379
PG_BIN=$(ls -d /usr/lib/postgresql/*/bin 2>/dev/null | sort -V | tail -n 1)

as_postgres() { runuser -u postgres -- "$@"; }

ensure_traversable() {
    # PostgreSQL refuses to run as root, so the postgres user must reach var/.
    local dir="$1"
    while [ "$dir" != "/" ]; do
        if ! runuser -u postgres -- test -x "$dir"; then chmod o+x "$dir"; fi
        dir=$(dirname "$dir")
    done
}

start_postgres() {
    mkdir -p "$VAR/run" "$VAR/log"
    ensure_traversable "$VAR"
    chown postgres:postgres "$VAR/run"
    if [ ! -s "$VAR/pg/PG_VERSION" ]; then
        mkdir -p "$VAR/pg" && chown postgres:postgres "$VAR/pg"
        as_postgres "$PG_BIN/initdb" -D "$VAR/pg" -U postgres --auth=trust -E UTF8 \
            --locale=C.UTF-8 >"$VAR/log/initdb.log"
    fi
    touch "$VAR/log/postgres.log" && chown postgres:postgres "$VAR/log/postgres.log"
    if ! as_postgres "$PG_BIN/pg_ctl" -D "$VAR/pg" status >/dev/null 2>&1; then
        as_postgres "$PG_BIN/pg_ctl" -D "$VAR/pg" -l "$VAR/log/postgres.log" -w start \
            -o "-p $PG_PORT -k $VAR/run -c listen_addresses=127.0.0.1 -c shared_buffers=512MB -c work_mem=64MB -c maintenance_work_mem=512MB -c max_wal_size=4GB -c synchronous_commit=off" >/dev/null
    fi
    local psql=(env PGOPTIONS="-c client_min_messages=warning" "$PG_BIN/psql" -h "$VAR/run" -p "$PG_PORT" -U postgres -qtA)
    if [ -z "$("${psql[@]}" -c "select 1 from pg_roles where rolname='crimemap'")" ]; then
        "${psql[@]}" -c "create role crimemap login superuser"
    fi
    if [ -z "$("${psql[@]}" -c "select 1 from pg_database where datname='crimemap'")" ]; then
        "${psql[@]}" -c "create database crimemap owner crimemap"
    fi
    "${psql[@]}" -d crimemap -c "create extension if not exists postgis; create extension if not exists pg_trgm"
}

start_redis() {
    mkdir -p "$VAR/redis" "$VAR/run" "$VAR/log"
    if ! redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1; then
        redis-server --port "$REDIS_PORT" --bind 127.0.0.1 --dir "$VAR/redis" --daemonize yes \
            --pidfile "$VAR/run/redis.pid" --logfile "$VAR/log/redis.log" \
            --save "" --appendonly no --maxmemory 512mb --maxmemory-policy allkeys-lru
        for _ in $(seq 50); do redis-cli -p "$REDIS_PORT" ping >/dev/null 2>&1 && break; sleep 0.1; done
    fi
}

stop_all() {
    if [ -s "$VAR/pg/PG_VERSION" ]; then
        as_postgres "$PG_BIN/pg_ctl" -D "$VAR/pg" -m fast stop >/dev/null 2>&1 || true
    fi
    redis-cli -p "$REDIS_PORT" shutdown nosave >/dev/null 2>&1 || true
}

case "${1:-start}" in
    start)
        if [ -z "${DATABASE_URL:-}" ]; then start_postgres; else echo "DATABASE_URL set: not starting PostgreSQL"; fi
        if [ -z "${REDIS_URL:-}" ]; then start_redis; else echo "REDIS_URL set: not starting Redis"; fi
        ;;
    stop) stop_all ;;
    *) echo "usage: $0 start|stop" >&2; exit 2 ;;
esac
