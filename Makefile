# crimemap: `make run` serves the site on http://127.0.0.1:8000, `make test` runs the whole suite.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export CRIMEMAP_DATA_DIR ?= $(abspath ../shared/data/london)

.PHONY: run test bench bench-load bench-releases stop setup system venv services migrate load lint format \
	audit-deps backup restore

system:
	@deploy/local/system-packages.sh

venv: system
	@$(UV) sync --frozen --quiet

services: system
	@deploy/local/services.sh start

# The local secret key: random, made once, never in git (production gives SECRET_KEY instead).
var/secret-key:
	@mkdir -p var && (umask 077 && python3 -c "import secrets; print(secrets.token_urlsafe(64))" > $@)

setup: venv services var/secret-key
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0

load: setup
	@$(PY) manage.py load_london --if-empty

# nginx (deploy/nginx/) on $(PORT) in front of gunicorn on $(APP_PORT), as in production; the
# upload worker (checks and publishes admin uploads) and the pre-warm job (renders the pages
# people hit first after every publish or rollback) run beside them and stop with them.
APP_PORT ?= 8001
run: load
	@echo "crimemap on http://$(HOST):$(PORT)/"
	@NGINX_LISTEN=$(HOST):$(PORT) GUNICORN_ADDR=127.0.0.1:$(APP_PORT) deploy/local/nginx.sh start
	@OPEN_DATA_ACCEL=1 PREWARM_URL=http://$(HOST):$(PORT) TRUSTED_PROXY_COUNT=1 \
		FRONT_PROXY_DIR=$(CURDIR)/var/nginx \
		GUNICORN_BIND=127.0.0.1:$(APP_PORT) deploy/local/app.sh run

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: load
	@$(PY) -m tests.load.bench

# Requests per second through nginx and straight to gunicorn with wrk (issue 11), on a stack
# of its own against the database `make bench` loads. Report in docs/benchmarks/.
bench-load:
	@$(PY) -m tests.load.bench_load $(BENCH_ARGS)

# Replays the monthly releases 2025-06 … 2025-11 in a database of its own (issue 10); a long run.
# BENCH_ARGS="--months 1 --boroughs E09000001,E09000017,E09000030" for a shorter one.
bench-releases: setup
	@$(PY) -m tests.load.bench_releases $(BENCH_ARGS)

# Known vulnerabilities in every locked package (runtime and dev), from the PyPI/OSV advisory
# database: it needs the network, so it is not part of `make test` (CI runs offline). Run it
# before each deploy and when an advisory names one of our packages.
audit-deps: venv
	@mkdir -p var
	@$(UV) export --frozen --format requirements-txt --all-groups --no-emit-project \
		--quiet -o var/requirements-audit.txt
	@.venv/bin/pip-audit --requirement var/requirements-audit.txt --require-hashes \
		--disable-pip --strict --progress-spinner off

# The whole database (pg_dump custom format) and var/media + var/opendata, in one dated file
# under BACKUP_DIR (default var/backups). Restore goes into an EMPTY database only:
#   make restore BACKUP=var/backups/crimemap-YYYYMMDD-HHMMSS.tar [RESTORE_DATABASE_URL=postgis://…]
backup: venv
	@$(PY) deploy/backup.py backup

restore: venv
	@test -n "$(BACKUP)" || { echo "usage: make restore BACKUP=FILE" >&2; exit 2; }
	@$(PY) deploy/backup.py restore "$(BACKUP)" --database-url "$(RESTORE_DATABASE_URL)"

lint: venv
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: venv
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

stop:
	@deploy/local/app.sh stop
	@deploy/local/nginx.sh stop
	@deploy/local/services.sh stop
