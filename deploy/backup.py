"""`make backup` / `make restore`: the whole database and the files beside it, in one dated file.

A backup is a tar holding `database.dump` (pg_dump's custom format: every table, so releases,
publications, uploads, the audit log, feedback and page text), `media/` (uploaded files) and
`opendata/` (the written downloads, which the pre-warm job would otherwise write again), with
a manifest. It is written beside its final name and renamed, so a file under BACKUP_DIR is
always whole. Restore goes into an EMPTY database only: it never merges into live data.

    python deploy/backup.py backup [--dir DIR]
    python deploy/backup.py restore FILE [--database-url URL]
"""

import argparse
import json
import os
import subprocess
import sys
import tarfile
import tempfile
from datetime import UTC, datetime
from pathlib import Path
from urllib.parse import quote, urlsplit

ROOT = Path(__file__).resolve().parent.parent
# Tables PostGIS creates itself: an "empty" database may already hold them.
EXTENSION_TABLES = {"spatial_ref_sys"}


def _setup_django() -> None:
    sys.path.insert(0, str(ROOT))
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crimemap.settings")
    import django

    django.setup()


def libpq_url(database: dict) -> str:
    """A postgresql:// address for pg_dump and pg_restore from Django's database settings."""
    user = quote(database.get("USER") or "", safe="")
    password = quote(database.get("PASSWORD") or "", safe="")
    auth = f"{user}:{password}@" if password else (f"{user}@" if user else "")
    host = database.get("HOST") or ""
    port = f":{database['PORT']}" if database.get("PORT") else ""
    return f"postgresql://{auth}{host}{port}/{quote(database['NAME'], safe='')}"


def from_database_url(url: str) -> str:
    """DATABASE_URL spells the scheme postgis://; libpq wants postgresql://."""
    parts = urlsplit(url)
    return parts._replace(scheme="postgresql").geturl()


def backup(directory: Path) -> Path:
    """Write one dated backup file under ``directory`` and return its path."""
    from django.conf import settings

    directory.mkdir(parents=True, exist_ok=True)
    stamp = datetime.now(UTC).strftime("%Y%m%d-%H%M%S")
    final = directory / f"crimemap-{stamp}.tar"
    partial = final.with_suffix(".tar.partial")
    with tempfile.TemporaryDirectory(dir=directory) as work:
        dump = Path(work) / "database.dump"
        subprocess.run(
            [
                "pg_dump",
                "--format=custom",
                "--file",
                str(dump),
                libpq_url(settings.DATABASES["default"]),
            ],
            check=True,
        )
        manifest = {
            "created": stamp,
            "database": settings.DATABASES["default"]["NAME"],
            "files": ["database.dump", "media/", "opendata/"],
        }
        (Path(work) / "manifest.json").write_text(json.dumps(manifest, indent=1))
        with tarfile.open(partial, "w") as tar:
            tar.add(Path(work) / "manifest.json", arcname="manifest.json")
            tar.add(dump, arcname="database.dump")
            for name, folder in (
                ("media", settings.MEDIA_ROOT),
                ("opendata", settings.OPEN_DATA_ROOT),
            ):
                if Path(folder).is_dir():
                    tar.add(folder, arcname=name)
    partial.rename(final)
    return final


def _user_tables(url: str) -> list[str]:
    query = (
        "SELECT tablename FROM pg_tables WHERE schemaname NOT IN ('pg_catalog', "
        "'information_schema', 'tiger', 'topology')"
    )
    out = subprocess.run(
        ["psql", "-qtAX", "-c", query, url], check=True, capture_output=True, text=True
    ).stdout
    return [t for t in out.split() if t not in EXTENSION_TABLES]


def restore(archive: Path, *, url: str) -> None:
    """Restore a backup into an empty database at ``url`` and its files into MEDIA_ROOT and
    OPEN_DATA_ROOT; refuses a database that already has tables."""
    from django.conf import settings

    tables = _user_tables(url)
    if tables:
        raise SystemExit(
            f"refusing to restore: the database already has {len(tables)} table(s) "
            f"(e.g. {tables[0]}); restore into a new, empty database"
        )
    with tempfile.TemporaryDirectory() as work, tarfile.open(archive) as tar:
        tar.extractall(work, filter="data")
        subprocess.run(
            [
                "pg_restore",
                "--no-owner",
                "--exit-on-error",
                "--dbname",
                url,
                f"{work}/database.dump",
            ],
            check=True,
        )
        for name, folder in (("media", settings.MEDIA_ROOT), ("opendata", settings.OPEN_DATA_ROOT)):
            source = Path(work) / name
            if source.is_dir():
                Path(folder).mkdir(parents=True, exist_ok=True)
                subprocess.run(["cp", "-a", f"{source}/.", str(folder)], check=True)


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = parser.add_subparsers(dest="command", required=True)
    make = sub.add_parser("backup")
    make.add_argument("--dir", default=os.environ.get("BACKUP_DIR", str(ROOT / "var" / "backups")))
    back = sub.add_parser("restore")
    back.add_argument("file", type=Path)
    back.add_argument("--database-url", default="", help="default: DATABASE_URL's database")
    args = parser.parse_args(argv)
    _setup_django()
    if args.command == "backup":
        print(backup(Path(args.dir)))
        return
    from django.conf import settings

    url = from_database_url(args.database_url) if args.database_url else None
    restore(args.file, url=url or libpq_url(settings.DATABASES["default"]))
    print(f"restored {args.file}")


if __name__ == "__main__":
    main()
