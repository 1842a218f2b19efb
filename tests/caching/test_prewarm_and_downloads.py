"""Pre-warm and open-data files on the real London data (a few pages, the small files)."""

import gzip
import json

import pytest
from django.test import override_settings

from areas.models import Area, Level
from caching import opendata_files, prewarm
from caching.models import PrewarmRun
from crimestats.models import Publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]


def test_prewarm_renders_the_plan_and_records_progress(london, client):
    current = Publication.objects.get(is_current=True)
    boroughs = prewarm.phases()[1].urls[:6]
    plan = [prewarm.Phase("London", ["/", "/map.geojson"]), prewarm.Phase("boroughs", boroughs)]
    run = prewarm.warm(publication_id=current.pk, fetch=prewarm.in_process("testserver"), plan=plan)
    assert (run.phase, run.done, run.total, run.failed) == ("done", 8, 8, 0)
    assert run.finished_at is not None
    assert PrewarmRun.objects.get(pk=run.pk).percent == 100
    for url in ["/", *boroughs]:
        assert client.get(url, HTTP_ACCEPT_ENCODING="br")["X-Page-Cache"] == "hit", url


def test_the_plan_starts_with_london_boroughs_and_wards(london):
    names = [phase.name for phase in prewarm.phases()]
    assert names == ["London", "boroughs", "wards", "open data", "LSOAs"]
    wards = prewarm.phases()[2].urls
    count = Area.objects.filter(level=Level.WARD, boundary_set__is_current=True).count()
    assert len(wards) == 2 * count  # the page and the map of every ward
    assert wards[0].startswith("/ward/") and wards[1] == wards[0] + "map.geojson"


def test_download_is_served_from_its_file_with_the_views_bytes(london, client, tmp_path):
    current = Publication.objects.get(is_current=True)
    url = f"/data/{current.pk}/borough.geojson"
    with override_settings(OPEN_DATA_ROOT=tmp_path):
        streamed = client.get(url)  # no file yet: streamed from the database as before
        body = b"".join(streamed.streaming_content)
        path = opendata_files.write(current.pk, "borough.geojson")
        assert gzip.decompress(path.read_bytes()) == body
        assert path.stat().st_mode & 0o777 == 0o644  # nginx's workers run as another user
        served = client.get(url, HTTP_ACCEPT_ENCODING="gzip, br")
        assert served["Content-Encoding"] == "gzip"
        assert gzip.decompress(b"".join(served.streaming_content)) == body
        assert served["Content-Type"] == streamed["Content-Type"]
        assert served["Content-Disposition"] == streamed["Content-Disposition"]
        plain = client.get(url)
        assert b"".join(plain.streaming_content) == body
        assert len(json.loads(body)["features"]) == 33
        with override_settings(OPEN_DATA_ACCEL=True):
            accel = client.get(url)
            assert accel["X-Accel-Redirect"] == f"/_opendata/{current.pk}/borough.geojson"
        assert client.get(f"/data/{current.pk + 1000}/borough.geojson").status_code == 404


def test_a_stopped_job_leaves_its_run_marked_stopped(london):
    """make run's Ctrl-C or TERM ends the job mid-pass: the admin must not show it running."""
    current = Publication.objects.get(is_current=True)

    def fetch(url: str) -> int:
        if url == "/map.geojson":
            raise SystemExit(0)  # what the command's TERM handler raises
        return 200

    with pytest.raises(SystemExit):
        prewarm.warm(
            publication_id=current.pk,
            fetch=fetch,
            plan=[prewarm.Phase("London", ["/", "/map.geojson"])],
        )
    run = PrewarmRun.objects.latest("pk")
    assert (run.phase, run.done, run.finished_at) == (prewarm.STOPPED, 1, None)


def test_a_page_text_edit_mid_run_stops_the_run(london):
    """Every page has a new key after a staff edit: the watch loop must start again (and empty
    nginx) rather than finish warming keys nobody will ask for."""
    from caching import generation

    current = Publication.objects.get(is_current=True)
    fetched = []

    def fetch(url: str) -> int:
        fetched.append(url)
        if len(fetched) == 3:
            generation.bump()
        return 200

    urls = [f"/page/{n}/" for n in range(3 * prewarm.CHECK_EVERY)]
    run = prewarm.warm(
        publication_id=current.pk, fetch=fetch, plan=[prewarm.Phase("boroughs", urls)]
    )
    assert run.phase == "stopped: the pages changed meanwhile"
    assert len(fetched) == prewarm.CHECK_EVERY  # stopped at the first look after the edit
    assert run.finished_at is None
