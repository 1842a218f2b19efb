"""gunicorn settings, sized from the machine: `make run` and the compose file both use them.

Sync workers, one more than the cores: rendering is CPU work and a hit is one Redis read, so
threads only wait on Python's lock, and nginx in front buffers slow clients. Measured with
`make bench-load` on 2 cores, cold caches, the first 5 s: gthread 4 workers × 4 threads had a
p99 of 2.1 s, sync with 3 workers 1.0 s. Sync workers take requests from one queue (the
listen socket) in turn, where each gthread worker kept its own, so a request could wait behind
a busy worker while another was idle. GUNICORN_WORKER_CLASS=gthread (and GUNICORN_THREADS)
where requests wait on slow I/O instead.

Every worker thread may hold one PostgreSQL connection (Django keeps them open, CONN_MAX_AGE),
so workers × threads is capped by what the server allows, less what the upload worker, the
pre-warm job and people at psql need (DATABASE_RESERVED_CONNECTIONS).
"""

import multiprocessing
import os

RESERVED = int(os.environ.get("DATABASE_RESERVED_CONNECTIONS", "20"))


def database_connection_budget() -> int:
    """Connections this server may open: max_connections less the reserved ones, as the
    database says (GUNICORN_DB_CONNECTIONS overrides; 80 if the database cannot be asked)."""
    if "GUNICORN_DB_CONNECTIONS" in os.environ:
        return int(os.environ["GUNICORN_DB_CONNECTIONS"])
    try:
        import dj_database_url
        import psycopg

        config = dj_database_url.parse(
            os.environ.get("DATABASE_URL", "postgis://crimemap@127.0.0.1:55432/crimemap")
        )
        with psycopg.connect(
            host=config["HOST"],
            port=config["PORT"] or 5432,
            user=config["USER"],
            password=config["PASSWORD"] or None,
            dbname=config["NAME"],
            connect_timeout=3,
        ) as connection:
            allowed = int(connection.execute("SHOW max_connections").fetchone()[0])
            reserved = int(connection.execute("SHOW superuser_reserved_connections").fetchone()[0])
        return max(allowed - reserved - RESERVED, 2)
    except Exception:
        return 80


cores = multiprocessing.cpu_count()
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8001")
worker_class = os.environ.get("GUNICORN_WORKER_CLASS", "sync")
threads = int(os.environ.get("GUNICORN_THREADS", "4")) if worker_class == "gthread" else 1
budget = database_connection_budget()
workers = int(os.environ.get("GUNICORN_WORKERS", max(1, min(cores + 1, budget // threads))))
threads = max(1, min(threads, budget // workers))
preload_app = True
# A cold page renders in tens of milliseconds; the longest request is a download streamed
# from the database before the pre-warm job has written its file (the 22 MB CSV: 6 s on a quiet
# machine; nginx buffers it and keeps it). A sync worker busy longer than this is killed.
timeout = 60
graceful_timeout = 30
keepalive = 75  # gthread only: longer than nginx keeps an idle upstream connection (60 s)
# Recycle workers now and then, so memory never creeps; rarely, because a fresh worker opens
# its database connections again: at 5,000 a worker was replaced every few seconds at launch
# rates, and each replacement showed in the p99 (docs/benchmarks/load-latest.md).
max_requests = 200_000
max_requests_jitter = 20_000
backlog = 2048
accesslog = os.environ.get("GUNICORN_ACCESS_LOG") or None
errorlog = "-"
loglevel = "warning"


def when_ready(server) -> None:
    """In the master, once, before the first worker is forked (caching/prefork.py says why)."""
    from caching.prefork import load_before_fork

    load_before_fork()
