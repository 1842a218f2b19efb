"""Run in a child process against one database: `seed` it with the tiny London and a published
upload (committed, unlike a test's data), `queue` a checked upload for the worker to publish, or
print its `figures` as JSON to compare two copies."""

import json
import os
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "crimemap.settings")

import django  # noqa: E402

django.setup()

from django.test import Client  # noqa: E402

from crimestats.models import (  # noqa: E402
    AuditLog,
    Feedback,
    PageContent,
    Publication,
    PublishedFigure,
    Release,
    Upload,
)


def seed() -> None:
    from crimestats.services.uploads import receive_files
    from tests.crimestats.factories import make_london
    from tests.crimestats.test_upload_bundle import checked_and_published, mps_files

    make_london()

    (upload,) = receive_files(files=mps_files(ROOT / "fixtures" / "crimestats"))
    checked_and_published(upload)
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    Feedback.objects.create(page="/", message="kept in the backup?")


def queue() -> None:
    """A City of London month, checked and waiting for the worker (as the admin leaves it)."""
    from crimestats.services.uploads import receive_files
    from crimestats.services.uploads.checking import validate_upload
    from crimestats.services.uploads.publishing import acknowledge, request_publish

    name = "2024-01-city-of-london-street.csv"
    (upload,) = receive_files(files=[(ROOT / "fixtures" / "crimestats" / name, name)])
    validate_upload(upload)
    assert upload.status == Upload.Status.VALID, upload.message
    if upload.warnings or upload.new_categories:
        acknowledge(upload, user=None)
    request_publish(upload, user=None)
    print(upload.pk)


def figures() -> dict:
    current = Publication.objects.get(is_current=True)
    rows = PublishedFigure.objects.of(current).order_by(
        "area__code", "category__slug", "period", "end_month"
    )
    page = Client(HTTP_HOST="localhost").get("/borough/E09000002/barking-and-dagenham/")
    media = sorted(p.name for p in Path(os.environ["MEDIA_ROOT"]).rglob("*") if p.is_file())
    return {
        "publication": current.pk,
        "categories": sorted(c.slug for c in current.categories.all()),
        "figures": [
            [r.area.code, r.category.slug, r.period, str(r.end_month), r.count, r.suppressed]
            for r in rows.select_related("area", "category")
        ],
        "counts": {
            m.__name__: m.objects.count()
            for m in (Release, Upload, AuditLog, Feedback, PageContent, Publication)
        },
        "page": [page.status_code, page.content.decode().count('data-status="exact"')],
        "media": media,
    }


if __name__ == "__main__":
    if sys.argv[1] == "seed":
        seed()
    elif sys.argv[1] == "queue":
        queue()
    else:
        print(json.dumps(figures()))
