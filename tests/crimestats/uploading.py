"""Helpers for the upload tests: real files, users in the admin roles, and an upload round trip."""

from pathlib import Path

from django.conf import settings
from django.contrib.auth.models import Group, User
from django.urls import reverse

from crimestats.models import MonthlyCount, Publication, Release, Upload
from crimestats.services.uploads import process_queue


def crime_dir() -> Path:
    return Path(settings.CRIMEMAP_DATA_DIR) / "crime"


def lsoa_file() -> Path:
    return crime_dir() / "mps" / "MPS LSOA Level Crime (most recent 24 months).csv"


def ward_file() -> Path:
    return crime_dir() / "mps" / "MPS Ward Level Crime (most recent 24 months).csv"


def borough_file() -> Path:
    return crime_dir() / "mps" / "MPS Borough Level Crime (most recent 24 months).csv"


def city_file(month: str = "2025-02") -> Path:
    return crime_dir() / "police-uk" / "city-of-london" / f"{month}-city-of-london-street.csv"


def user_in(group: str, name: str | None = None) -> User:
    user = User.objects.create_user(name or group.replace(" ", "-"), password="x", is_staff=True)
    user.groups.add(Group.objects.get(name=group))
    return user


def upload(client, path: Path, *, name: str | None = None, kind: str = "auto"):
    """POST a file to the admin upload page, then let a burst worker check it."""
    with path.open("rb") as handle:
        if name:
            handle.name = name
        response = client.post(
            reverse("admin:crimestats_upload_add"), {"files": handle, "kind": kind}
        )
    process_queue(log=lambda _: None)
    return response


def latest_upload() -> Upload:
    return Upload.objects.order_by("-pk").first()


def written_state() -> tuple:
    """What an upload must not change unless published: releases, counts, the publication."""
    last_count = MonthlyCount.objects.order_by("-pk").values_list("pk", flat=True).first()
    current = Publication.objects.filter(is_current=True).values_list("pk", flat=True).first()
    return Release.objects.count(), last_count, current
