"""Faults of PostgreSQL and of the upload worker, on a throwaway cluster of the test's own (never
the shared one on 55432): PostgreSQL restarted under gunicorn, and `process_uploads` SIGKILLed
in the middle of a publish. Real processes throughout; each test prints what was served, what
failed and what was lost, and shows the site (or the worker) recovers without a restart."""

import os
import signal
import subprocess
import sys
import time
import urllib.error
import urllib.request
import uuid
from pathlib import Path

import psycopg
import pytest

from tests.operations.own_postgres import Cluster, free_port, wait_for
from tests.operations.own_redis import start_redis

ROOT = Path(__file__).resolve().parents[2]
PROBE = str(ROOT / "tests" / "operations" / "probe.py")
TEMPLATE = "seeded"


@pytest.fixture(scope="module")
def seeded(tmp_path_factory):
    """One cluster per module, with a migrated database seeded with the tiny London and a first
    publication; each test copies it (CREATE DATABASE … TEMPLATE takes a tenth of a second)."""
    cluster = Cluster()
    media = tmp_path_factory.mktemp("own-pg-media")
    try:
        cluster.start()
        cluster.sql(f"CREATE DATABASE {TEMPLATE}")
        cluster.sql("CREATE EXTENSION postgis; CREATE EXTENSION pg_trgm", TEMPLATE)
        env = child_env(cluster, TEMPLATE, media)
        child(env, "manage.py", "migrate", "--noinput", "-v", "0")
        child(env, PROBE, "seed")
        yield cluster, media
    finally:
        cluster.remove()


@pytest.fixture
def database(seeded):
    cluster, media = seeded
    if not cluster.running():  # a test that failed with PostgreSQL stopped
        cluster.start()
    name = f"fault_{uuid.uuid4().hex[:8]}"
    cluster.sql(f"CREATE DATABASE {name} TEMPLATE {TEMPLATE}")
    return cluster, name, media


def child_env(cluster: Cluster, database: str, media: Path, **extra: str) -> dict:
    return {
        **os.environ,
        "DATABASE_URL": cluster.url(database),
        "MEDIA_ROOT": str(media / "media"),
        "OPEN_DATA_ROOT": str(media / "opendata"),
        "CACHE_KEY_PREFIX": f"fault-{database}",
        **extra,
    }


def child(env: dict, *args: str) -> str:
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def stop(process: subprocess.Popen) -> None:
    """TERM, then KILL the whole group it started (gunicorn's workers too) if it lingers."""
    if process.poll() is None:
        process.terminate()
        try:
            process.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()


def get(base: str, path: str) -> tuple[int, str]:
    """The status, and how the page cache answered, or for a 503 whether it says when to retry
    (only the friendly page does)."""
    try:
        with urllib.request.urlopen(base + path, timeout=10) as response:
            return response.status, response.headers.get("X-Page-Cache", "")
    except urllib.error.HTTPError as error:
        return error.code, f"retry after {error.headers.get('Retry-After')}"


CACHED = ["/", "/borough/E09000002/barking-and-dagenham/", "/ward/E05000026/abbey/"]
UNCACHED = [
    "/borough/E09000002/barking-and-dagenham/?crime=robbery",
    "/ward/E05000026/abbey/?period=fy",
    "/borough/E09000002/barking-and-dagenham/?period=fy",
]


def test_postgres_restarted_during_requests_serves_cached_pages_and_recovers(database, tmp_path):
    cluster, name, media = database
    redis_port, app_port = free_port(), free_port()
    redis = start_redis(redis_port, tmp_path)
    env = child_env(cluster, name, media, REDIS_URL=f"redis://127.0.0.1:{redis_port}/0", DEBUG="0")
    app = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "crimemap.wsgi:application"]
        + ["-b", f"127.0.0.1:{app_port}", "-w", "1", "--threads", "4", "--timeout", "30"],
        env=env,
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=(tmp_path / "gunicorn.log").open("w"),
        start_new_session=True,
    )
    base = f"http://127.0.0.1:{app_port}"
    tally = {"up": [], "down cached": [], "down uncached": [], "down health": [], "after": []}
    tally["quick restart"] = []
    try:
        wait_for(lambda: _answers(base), seconds=20, what="gunicorn to answer /healthz")
        figures = cluster.sql("SELECT count(*) FROM crimestats_publishedfigure", name)
        for _ in range(2):  # the second round comes from Redis
            tally["up"] += [get(base, page) for page in CACHED]
        assert all(state == "hit" for _, state in tally["up"][len(CACHED) :]), tally["up"]

        cluster.stop("fast")
        for _ in range(10):
            tally["down cached"] += [get(base, page) for page in CACHED]
            tally["down uncached"] += [get(base, page) for page in UNCACHED]
            tally["down health"].append(get(base, "/healthz"))
            time.sleep(0.1)  # across several pointer refreshes (one a second)
        cluster.start()

        # No app restart: the first requests may still find the old connections dead.
        started = time.monotonic()
        wait_for(
            lambda: all(get(base, p)[0] == 200 for p in [*CACHED, *UNCACHED, "/healthz"]),
            seconds=20,
            what="every page to answer 200 again",
            step=0.2,
        )
        recovered = time.monotonic() - started
        for _ in range(5):
            tally["after"] += [get(base, page) for page in [*CACHED, *UNCACHED, "/healthz"]]
        # Restarted with no request in between: every thread's kept connection is dead. Each
        # may cost one 503 (never a 500), then the site is whole again by itself.
        cluster.stop("fast")
        cluster.start()
        for _ in range(3):
            tally["quick restart"] += [get(base, p) for p in [*CACHED, *UNCACHED, "/healthz"]]
        tally["after"] += [get(base, page) for page in [*CACHED, *UNCACHED, "/healthz"]]
        lost = int(figures) - int(
            cluster.sql("SELECT count(*) FROM crimestats_publishedfigure", name)
        )
    finally:
        stop(app)
        redis.kill()
        redis.wait()
    log = (tmp_path / "gunicorn.log").read_text()

    statuses = {phase: [status for status, _ in results] for phase, results in tally.items()}
    every = [status for results in statuses.values() for status in results]
    served, unavailable = every.count(200), every.count(503)
    errors = len(every) - served - unavailable
    print(
        f"postgres restarted: {len(every)} requests, {served} served "
        f"({statuses['down cached'].count(200)} from the cache while it was down), "
        f"{unavailable} 503s ({statuses['down health'].count(503)} of them /healthz while it "
        f"was down), {errors} errors, {lost} figures lost; "
        f"all 200 again {recovered:.1f} s after the restart; after a quick restart "
        f"{statuses['quick restart'].count(503)} of {len(statuses['quick restart'])} were 503"
    )
    assert errors == 0, (statuses, log[-3000:])
    assert set(statuses["down cached"]) == {200}
    # Pages that need a query the cache cannot answer (cachalot may answer some: then 200).
    assert set(tally["down uncached"]) == {(503, "retry after 30")}
    assert set(statuses["down health"]) == {503}
    assert set(statuses["after"]) == {200}
    assert set(statuses["quick restart"]) <= {200, 503}
    assert lost == 0


def _answers(base: str) -> bool:
    try:
        return get(base, "/healthz")[0] == 200
    except OSError:
        return False


WORKER = "crimemap-fault-worker"  # its connections' application_name, to find them


def state(cluster: Cluster, name: str) -> dict:
    """What a publish writes, all of it in one transaction: none of it may change half-way."""
    row = cluster.sql(
        "SELECT (SELECT id FROM crimestats_publication WHERE is_current),"
        " (SELECT count(*) FROM crimestats_publication),"
        " (SELECT count(*) FROM crimestats_figureblock),"
        " (SELECT count(*) FROM crimestats_publishedfigure),"
        " (SELECT count(*) FROM crimestats_release),"
        " (SELECT count(*) FROM crimestats_auditlog)",
        name,
    )
    keys = ("current", "publications", "blocks", "figures", "releases", "audit rows")
    return dict(zip(keys, map(int, row.split("|")), strict=True))


def upload_status(cluster: Cluster, name: str, pk: str) -> str:
    return cluster.sql(f"SELECT status FROM crimestats_upload WHERE id = {int(pk)}", name)


def test_worker_killed_mid_publish_writes_nothing_and_publishes_when_started_again(
    database, tmp_path
):
    cluster, name, media = database
    env = child_env(cluster, name, media, PGAPPNAME=WORKER)
    pk = child(env, PROBE, "queue").strip()
    before = state(cluster, name)
    worker = [sys.executable, "manage.py", "process_uploads", "--interval", "0.2"]
    waiting = (
        "SELECT count(*) FROM pg_locks l JOIN pg_class c ON c.oid = l.relation"
        " WHERE NOT l.granted AND c.relname = 'crimestats_publishedfigure'"
    )
    backends = f"SELECT count(*) FROM pg_stat_activity WHERE application_name = '{WORKER}'"
    # The test's own connection holds the figures table: the worker blocks writing figures,
    # inside its publish transaction, after the releases, blocks and publication row.
    holder = psycopg.connect(cluster.url(name).replace("postgis://", "postgresql://"))
    first = second = None
    try:
        holder.execute("LOCK TABLE crimestats_publishedfigure IN SHARE MODE")
        first = subprocess.Popen(worker, env=env, cwd=ROOT, start_new_session=True)
        wait_for(lambda: cluster.sql(waiting, name) == "1", seconds=30, what="the worker to block")
        first.kill()  # SIGKILL: no rollback, no goodbye
        first.wait()
        holder.rollback()
        # Its backend finds the client gone and rolls back: wait for it to leave.
        wait_for(lambda: cluster.sql(backends, name) == "0", seconds=20, what="the backend to go")
        killed = state(cluster, name)
        left = upload_status(cluster, name, pk)

        second = subprocess.Popen(worker, env=env, cwd=ROOT, start_new_session=True)
        started = time.monotonic()
        wait_for(
            lambda: upload_status(cluster, name, pk) == "published",
            seconds=30,
            what="the restarted worker to publish",
        )
        took = time.monotonic() - started
        after = state(cluster, name)
    finally:
        holder.close()
        for process in (first, second):
            if process is not None:
                stop(process)

    lost = [key for key in before if killed[key] != before[key]]
    print(
        f"worker killed mid-publish: upload left {left!r}, "
        f"changed by the kill: {lost or 'nothing'}; "
        f"restarted worker published it in {took:.1f} s (publication {before['current']} -> "
        f"{after['current']}, {after['figures'] - before['figures']} figures written)"
    )
    assert killed == before  # nothing half-written, the site still shows the same publication
    assert left in ("publishing", "publish-queued")  # not lost: the next worker takes it again
    assert after["current"] != before["current"]
    assert after["publications"] == before["publications"] + 1  # published once, not twice
    assert after["releases"] > before["releases"] and after["figures"] > before["figures"]
