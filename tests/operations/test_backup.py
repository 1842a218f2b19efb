"""`make backup` then `make restore` into an empty database of its own: the restored site serves
the same figures, pages, uploads, audit log and feedback. Child processes do the work, as an
operator would: a test's own data is never committed, so it could not be dumped."""

import json
import os
import subprocess
import sys
import uuid
from pathlib import Path

import pytest
from django.conf import settings

ROOT = Path(__file__).resolve().parents[2]
PROBE = str(ROOT / "tests" / "operations" / "probe.py")


def _url(name: str) -> str:
    db = settings.DATABASES["default"]
    auth = db["USER"] + (f":{db['PASSWORD']}" if db.get("PASSWORD") else "")
    return f"postgis://{auth}@{db['HOST']}:{db['PORT']}/{name}"


def _admin_sql(sql: str) -> None:
    db = settings.DATABASES["default"]
    url = _url("postgres").replace("postgis://", "postgresql://")
    subprocess.run(["psql", "-qtAX", "-c", sql, url], check=True, env={**os.environ, **_pg(db)})


def _pg(db: dict) -> dict:
    return {"PGPASSWORD": db.get("PASSWORD") or ""}


@pytest.fixture
def databases():
    """Two throwaway databases beside the test database: one to back up, one empty."""
    stem = f"{settings.DATABASES['default']['NAME']}_bk_{uuid.uuid4().hex[:6]}"
    names = (f"{stem}_src", f"{stem}_dst")
    for name in names:
        _admin_sql(f'CREATE DATABASE "{name}"')
    yield names
    for name in names:
        _admin_sql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def run(database: str, tmp: Path, *args: str, media: str) -> str:
    env = {
        **os.environ,
        "DATABASE_URL": _url(database),
        "CACHE_KEY_PREFIX": f"bk-{database}",  # the page cache must not answer for the other
        "MEDIA_ROOT": str(tmp / media),
        "OPEN_DATA_ROOT": str(tmp / f"{media}-opendata"),
        "BACKUP_DIR": str(tmp / "backups"),
    }
    done = subprocess.run(
        [sys.executable, *args], env=env, cwd=ROOT, capture_output=True, text=True, timeout=600
    )
    assert done.returncode == 0, done.stderr[-3000:]
    return done.stdout


def test_backup_restores_into_an_empty_database_with_the_same_figures(databases, tmp_path):
    source, target = databases
    run(source, tmp_path, "manage.py", "migrate", "--noinput", "-v", "0", media="src")
    run(source, tmp_path, PROBE, "seed", media="src")
    before = json.loads(run(source, tmp_path, PROBE, "figures", media="src"))

    archive = Path(run(source, tmp_path, "deploy/backup.py", "backup", media="src").strip())
    assert archive.parent == tmp_path / "backups" and archive.name.startswith("crimemap-")
    run(target, tmp_path, "deploy/backup.py", "restore", str(archive), media="dst")
    after = json.loads(run(target, tmp_path, PROBE, "figures", media="dst"))

    assert len(before["figures"]) > 20 and before["page"][0] == 200
    assert before["counts"]["Feedback"] == 1 and before["media"]
    assert after == before
    # A second restore would merge into live data: refused.
    again = subprocess.run(
        [sys.executable, "deploy/backup.py", "restore", str(archive)],
        env={**os.environ, "DATABASE_URL": _url(target), "MEDIA_ROOT": str(tmp_path / "dst")},
        cwd=ROOT,
        capture_output=True,
        text=True,
    )
    assert again.returncode != 0 and "already has" in again.stderr
