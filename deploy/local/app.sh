#!/usr/bin/env bash
# The application side of `make run`: gunicorn, the upload worker and the pre-warm job.
#   app.sh run   in the foreground until Ctrl-C or TERM; then all three stop, and nginx too
#   app.sh stop  (make stop) the ones a run left, e.g. when only make itself was killed
# Their process ids are kept in var/run/app.pids, so stop never goes by process name.
# GUNICORN_BIND (127.0.0.1:8001); the environment (PREWARM_URL, ...) is passed on.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
PIDS="$ROOT/var/run/app.pids"
PY="$ROOT/.venv/bin/python"

# Is this pid still one of ours (a python of this checkout), not a reused number?
ours() {
    [ -r "/proc/$1/cmdline" ] && tr '\0' ' ' <"/proc/$1/cmdline" | grep -q "$ROOT/.venv/bin/\|manage.py\|gunicorn"
}

stop_pids() {
    local pid alive=()
    [ -s "$PIDS" ] || return 0
    for pid in $(cat "$PIDS"); do
        if ours "$pid"; then kill -TERM "$pid" 2>/dev/null && alive+=("$pid") || true; fi
    done
    # gunicorn finishes its requests (graceful_timeout 30 s); then anything left is killed.
    for _ in $(seq 1 35); do
        local left=()
        for pid in "${alive[@]}"; do kill -0 "$pid" 2>/dev/null && left+=("$pid"); done
        [ ${#left[@]} -eq 0 ] && break
        alive=("${left[@]}")
        sleep 1
    done
    for pid in "${alive[@]}"; do kill -0 "$pid" 2>/dev/null && kill -KILL "$pid" 2>/dev/null; done
    rm -f "$PIDS"
}

run() {
    mkdir -p "$ROOT/var/run"
    cd "$ROOT"
    "$PY" manage.py process_uploads &
    local worker=$!
    "$PY" manage.py prewarm --watch &
    local prewarm=$!
    GUNICORN_BIND=${GUNICORN_BIND:-127.0.0.1:8001} "$ROOT/.venv/bin/gunicorn" \
        crimemap.wsgi:application --config deploy/gunicorn.conf.py &
    local app=$!
    echo "$app $worker $prewarm" >"$PIDS"
    # Background jobs ignore Ctrl-C in a script, so every way out goes through here.
    trap 'trap - EXIT INT TERM; stop_pids; wait; "$ROOT/deploy/local/nginx.sh" stop' EXIT INT TERM
    wait "$app"
}

case "${1:-}" in
    run) run ;;
    stop) stop_pids ;;
    *) echo "usage: $0 run | stop" >&2; exit 2 ;;
esac
