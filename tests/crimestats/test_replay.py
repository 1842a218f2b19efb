"""The replay of issue 10 in CI: one real month's MPS files published together on top of the
London data as it was the month before, then the audit of every publication since, on three
boroughs (`make bench-releases` replays six months on all of London).

The session's London load (shared by every `london` test) holds the 24-month files up to 2025-11.
Everything here happens inside this test's transaction, which pytest-django rolls back at the
end, so the shared load is untouched (never `transactional_db`): the load is cut back to 2025-05
by making the 24-month releases' later months not current (the same counts a load of the cut
files gives), the session's publications are set aside as never public, and the cut state is
published as `load_london` would publish it; then 2025-06's LSOA, ward and borough files, cut
from the real ones into tmp_path, are published together with `import_file --publish`.
"""

import io
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings
from django.core.cache import cache
from django.core.management import call_command

from crimestats.models import CurrentMonth, Publication, Release, Upload
from crimestats.services.publish import build_publication
from crimestats.sources import MET
from tests.load.bench_releases import release_files

pytestmark = [pytest.mark.london, pytest.mark.django_db]

BOROUGHS = ["E09000001", "E09000017", "E09000030"]  # City, Hillingdon, Tower Hamlets
LAST_LOADED = date(2025, 5, 1)


@pytest.fixture
def cut_london(london, settings, tmp_path):
    """The London data as loaded from the 24-month files cut at 2025-05, published once."""
    settings.MEDIA_ROOT = tmp_path / "media"
    CurrentMonth.objects.filter(
        source=Release.Source.MPS, force=MET, month__gt=LAST_LOADED
    ).delete()
    Publication.objects.update(first_public_at=None, is_current=False)
    publication = build_publication(log=lambda _: None)
    yield publication
    cache.clear()  # nothing cached from inside this transaction outlives it


def test_one_month_replayed_narrows_nothing_in_the_audit_of_every_publication(cut_london, tmp_path):
    from crimestats.services.union_audit import audit_all_publications

    assert cut_london.latest_month == LAST_LOADED
    source = Path(settings.CRIMEMAP_DATA_DIR)
    files = release_files(source, tmp_path / "2025-06", month="202506")

    call_command("import_file", *map(str, files), "--publish", stdout=io.StringIO())

    upload = Upload.objects.order_by("-pk").first()
    assert upload.status == Upload.Status.PUBLISHED, upload.message
    assert [
        (f["file"], f["months_added"], f["months_restated"]) for f in upload.preview["files"]
    ] == [(path.name, ["2025-06-01"], []) for path in files]
    published = Publication.objects.get(is_current=True)
    assert published.latest_month == date(2025, 6, 1)
    public = set(Publication.objects.exclude(first_public_at=None).values_list("pk", flat=True))
    assert public == {cut_london.pk, published.pk}  # one publication for the three files

    outcome = audit_all_publications(boroughs=BOROUGHS, log=lambda _: None)

    assert outcome.checked > 0 and outcome.pinned == 0
    # Nothing is narrowed by a publication. What may remain (the trade-off reported in the
    # benchmark) are new figures that what was public before they existed already bounded:
    # e.g. two exact 12-month totals 11 months apart that prove the months between add up to
    # at least 2. Those are withheld without "fewer than 5" and narrowed no further.
    narrowed = [str(f) for f in outcome.failures if f.narrowed or not f.bound_before]
    assert narrowed == []
    assert all(f.withheld and f.feasible[1] >= 5 for f in outcome.failures)
