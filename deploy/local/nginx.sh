#!/usr/bin/env bash
# Render deploy/nginx/crimemap.conf.template under var/nginx/ and start, test or stop nginx.
#   nginx.sh render DIR | test [DIR] | start | stop | foreground DIR (containers)
# NGINX_LISTEN (127.0.0.1:8000) and GUNICORN_ADDR (127.0.0.1:8001) can be set.
set -euo pipefail

ROOT=$(cd "$(dirname "$0")/../.." && pwd)
export CRIMEMAP_ROOT="$ROOT"
export NGINX_LISTEN=${NGINX_LISTEN:-127.0.0.1:8000}
export GUNICORN_ADDR=${GUNICORN_ADDR:-127.0.0.1:8001}
export OPEN_DATA_ROOT=${OPEN_DATA_ROOT:-$ROOT/var/opendata}
export NGINX_USER=${NGINX_USER:-$( [ "$(id -u)" -eq 0 ] && echo www-data || id -un )}
VARS='${CRIMEMAP_ROOT} ${NGINX_VAR} ${NGINX_LISTEN} ${GUNICORN_ADDR} ${OPEN_DATA_ROOT} ${NGINX_USER}'

render() {
    export NGINX_VAR="$1"
    mkdir -p "$NGINX_VAR"/tmp/{body,proxy,fastcgi,uwsgi,scgi} "$NGINX_VAR/cache" "$OPEN_DATA_ROOT"
    if [ "$(id -u)" -eq 0 ]; then chown -R "$NGINX_USER" "$NGINX_VAR/tmp" "$NGINX_VAR/cache"; fi
    envsubst "$VARS" <"$ROOT/deploy/nginx/crimemap.conf.template" >"$NGINX_VAR/nginx.conf"
}

case "${1:-start}" in
    render) render "$2" ;;
    test)
        dir=${2:-$ROOT/var/nginx}
        render "$dir"
        nginx -t -q -p "$dir" -c "$dir/nginx.conf"
        ;;
    start)
        render "$ROOT/var/nginx"
        nginx -s quit -p "$ROOT/var/nginx" -c "$ROOT/var/nginx/nginx.conf" 2>/dev/null || true
        nginx -p "$ROOT/var/nginx" -c "$ROOT/var/nginx/nginx.conf"
        ;;
    foreground)
        render "$2"
        exec nginx -p "$2" -c "$2/nginx.conf" -g "daemon off;"
        ;;
    stop) nginx -s quit -p "$ROOT/var/nginx" -c "$ROOT/var/nginx/nginx.conf" 2>/dev/null || true ;;
    *) echo "usage: $0 render DIR | test [DIR] | start | stop | foreground DIR" >&2; exit 2 ;;
esac
