"""Two admins publishing at once: one clear winner, no mixed release, pages served throughout.

This test commits for real (threads need their own connections, which cannot see a test
transaction), so it runs outside pytest-django's `db` transaction and puts back exactly what it
changed: it rolls back to the state before, then deletes what it created.
"""

import threading
from datetime import date

import pytest
from django.core.cache import cache
from django.db import connection, transaction
from django.test import Client

from crimestats.models import (
    AuditLog,
    CurrentMonth,
    FigureBlock,
    Publication,
    Release,
    ReleaseState,
    Upload,
)
from crimestats.services.releases import (
    PUBLISH_LOCK,
    current_month_rows,
    lock_publishing,
    rollback_to,
)
from crimestats.services.uploads import (
    acknowledge,
    process_queue,
    publish_upload,
    receive_upload,
    request_publish,
)
from crimestats.sources import CITY_POLICE
from tests.crimestats.uploading import city_file

pytestmark = pytest.mark.london

NEW_MONTH = date(2025, 3, 1)


def _new_month_files(tmp_path):
    """Two different files for the same new City month (the real 2025-02 file, moved on)."""
    lines = city_file("2025-02").read_text(encoding="utf-8-sig").splitlines()
    moved = [lines[0]] + [line.replace(",2025-02,", ",2025-03,", 1) for line in lines[1:]]
    first, second = tmp_path / "a-2025-03.csv", tmp_path / "b-2025-03.csv"
    first.write_text("\n".join(moved) + "\n")
    second.write_text("\n".join(moved[:-1]) + "\n")  # one record fewer: another checksum
    return first, second


def _high_water() -> dict[str, int]:
    def top(model) -> int:
        return model.objects.order_by("-pk").values_list("pk", flat=True).first() or 0

    return {
        model.__name__: top(model)
        for model in (Publication, FigureBlock, Release, ReleaseState, AuditLog, Upload)
    }


def _clean_up(marks: dict[str, int], baseline_rows: list) -> None:
    """Back to exactly what the session had: current months, publication, no new rows."""
    if current_month_rows() != baseline_rows:
        state = ReleaseState.objects.filter(current_months=baseline_rows).order_by("-pk").first()
        rollback_to(state=state, log=lambda _: None)
    new_releases = list(
        Release.objects.filter(pk__gt=marks["Release"]).values_list("pk", flat=True)
    )
    with connection.cursor() as cursor:
        # Raw deletes: a block has up to a million figures, too many for Django's cascade.
        cursor.execute(
            "DELETE FROM crimestats_publishedfigure WHERE block_id > %s", [marks["FigureBlock"]]
        )
        cursor.execute(
            "DELETE FROM crimestats_monthlycount WHERE release_id = ANY(%s)", [new_releases]
        )
    AuditLog.objects.filter(pk__gt=marks["AuditLog"]).delete()
    Upload.objects.filter(pk__gt=marks["Upload"]).delete()
    ReleaseState.objects.filter(pk__gt=marks["ReleaseState"]).delete()
    Publication.objects.filter(pk__gt=marks["Publication"]).delete()
    FigureBlock.objects.filter(pk__gt=marks["FigureBlock"]).delete()
    Release.objects.filter(pk__in=new_releases).delete()
    cache.clear()


def test_two_publishes_at_once_have_one_winner(london, django_db_blocker, settings, tmp_path):
    settings.MEDIA_ROOT = tmp_path / "media"
    first, second = _new_month_files(tmp_path)
    with django_db_blocker.unblock():
        marks = _high_water()
        baseline_rows = current_month_rows()
        baseline_publication = Publication.objects.get(is_current=True).pk
        try:
            uploads = [
                receive_upload(path=path, file_name=path.name)[0] for path in (first, second)
            ]
            process_queue(log=lambda _: None)
            for item in uploads:
                item.refresh_from_db()
                assert item.status == Upload.Status.VALID, item.message
                assert item.preview["months_added"] == [NEW_MONTH.isoformat()]
                acknowledge(item, user=None)  # the City files' usual warnings (unlocated, ...)
                request_publish(item, user=None)

            start = threading.Barrier(3)
            publishing = threading.Event()
            statuses: list[int] = []

            def publish(pk: int) -> None:
                try:
                    start.wait()
                    publish_upload(Upload.objects.get(pk=pk), log=lambda _: None)
                finally:
                    connection.close()

            def browse() -> None:
                try:
                    client = Client()
                    start.wait()
                    while publishing.is_set() or not statuses:
                        for url in ("/", "/borough/E09000001/", "/lsoa/E01000001/"):
                            statuses.append(client.get(url, follow=True).status_code)
                finally:
                    connection.close()

            publishing.set()
            threads = [threading.Thread(target=publish, args=(u.pk,)) for u in uploads]
            reader = threading.Thread(target=browse)
            for thread in [*threads, reader]:
                thread.start()
            for thread in threads:
                thread.join(timeout=300)
            publishing.clear()
            reader.join(timeout=60)

            results = {u.pk: Upload.objects.get(pk=u.pk) for u in uploads}
            states = sorted(r.status for r in results.values())
            assert states == [Upload.Status.FAILED, Upload.Status.PUBLISHED], [
                (r.status, r.message) for r in results.values()
            ]
            winner = next(r for r in results.values() if r.status == Upload.Status.PUBLISHED)
            loser = next(r for r in results.values() if r.status == Upload.Status.FAILED)
            assert "changed since this upload was checked" in loser.message
            assert not loser.releases.exists()
            current = CurrentMonth.objects.get(
                source="police-uk", force=CITY_POLICE, level="lsoa", month=NEW_MONTH
            )
            assert current.release_id in set(winner.releases.values_list("pk", flat=True))
            public = Publication.objects.get(is_current=True)
            assert public.pk != baseline_publication
            in_use = set(public.releases.values_list("pk", flat=True))
            assert set(winner.releases.values_list("pk", flat=True)) <= in_use
            assert Release.objects.filter(pk__gt=marks["Release"]).count() == len(
                winner.releases.all()
            )
            assert statuses and set(statuses) == {200}, sorted(set(statuses))
        finally:
            _clean_up(marks, baseline_rows)
        assert current_month_rows() == baseline_rows
        assert Publication.objects.get(is_current=True).pk == baseline_publication


def test_the_publish_lock_is_held_until_the_transaction_ends(db):
    """(Also makes pytest-django set up the test database when this module runs alone.)"""
    with transaction.atomic():
        lock_publishing()
        with connection.cursor() as cursor:
            cursor.execute(
                "SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND objid = %s",
                [PUBLISH_LOCK],
            )
            assert cursor.fetchone()[0] == 1
