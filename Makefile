# crimemap: `make run` serves the site on http://127.0.0.1:8000, `make test` runs the whole suite.
SHELL := /bin/bash
UV ?= $(shell command -v uv 2>/dev/null || echo python3 -m uv)
PY := .venv/bin/python
HOST ?= 127.0.0.1
PORT ?= 8000
export CRIMEMAP_DATA_DIR ?= $(abspath ../shared/data/london)

.PHONY: run test bench bench-releases stop setup system venv services migrate load lint format

system:
	@deploy/local/system-packages.sh

venv: system
	@$(UV) sync --frozen --quiet

services: system
	@deploy/local/services.sh start

setup: venv services
	@$(PY) manage.py migrate --noinput -v 0
	@$(PY) manage.py collectstatic --noinput -v 0

load: setup
	@$(PY) manage.py load_london --if-empty

# The upload worker (checks and publishes admin uploads) runs beside gunicorn and stops with it.
run: load
	@echo "crimemap on http://$(HOST):$(PORT)/"
	@$(PY) manage.py process_uploads & worker=$$!; trap 'kill $$worker 2>/dev/null' EXIT INT TERM; \
	.venv/bin/gunicorn crimemap.wsgi:application --bind $(HOST):$(PORT) --workers 3 \
		--timeout 120 --access-logfile - --log-level warning

test: setup
	@$(PY) -m pytest $(PYTEST_ARGS)

bench: load
	@$(PY) -m tests.load.bench

# Replays the monthly releases 2025-06 … 2025-11 in a database of its own (issue 10); a long run.
# BENCH_ARGS="--months 1 --boroughs E09000001,E09000017,E09000030" for a shorter one.
bench-releases: setup
	@$(PY) -m tests.load.bench_releases $(BENCH_ARGS)

lint: venv
	@.venv/bin/ruff check . && .venv/bin/ruff format --check .

format: venv
	@.venv/bin/ruff check --fix . && .venv/bin/ruff format .

stop:
	@deploy/local/services.sh stop
