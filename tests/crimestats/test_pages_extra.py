"""Embed, open data, feedback and the static pages on the real data."""

import csv
import io
import json
import os

import pytest
from django.core.cache import cache

from crimestats.content_models import Feedback
from crimestats.models import PublishedFigure
from crimestats.selectors import current_publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]

WARD = "/ward/E05013570/heathrow-villages/"


def test_embed_is_small_frameable_and_script_free(london, client):
    response = client.get("/embed/ward/E05013570/")
    assert response.status_code == 200
    assert len(response.content) <= 30 * 1024
    assert "X-Frame-Options" not in response
    assert "frame-ancestors *" in response["Content-Security-Policy"]
    assert b"<script" not in response.content and b"leaflet" not in response.content.lower()
    assert client.get(WARD)["X-Frame-Options"] == "DENY"
    assert client.get("/embed/ward/E05999999/").status_code == 404


def test_ward_page_is_small_enough(london, client):
    assert len(client.get(WARD).content) <= 120 * 1024


def test_open_data_csv_has_every_figure_and_hides_suppressed(london, client):
    publication = current_publication()
    response = client.get(f"/data/{publication.pk}/figures.csv")
    assert response.status_code == 200 and response.streaming
    text = b"".join(response.streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == PublishedFigure.objects.filter(block__publications=publication).count()
    hidden = [r for r in rows if r["suppressed"] == "true"]
    assert hidden and all(r["count"] == "" and r["rate"] == "" for r in hidden)
    words = {"small": "fewer than 5", "withheld": "not shown"}
    assert all(r["shown_as"] == words[r["status"]] for r in hidden)
    assert client.get(f"/data/{publication.pk + 1000}/figures.csv").status_code == 404


def test_open_data_geojson_and_json(london, client):
    publication = current_publication()
    response = client.get(f"/data/{publication.pk}/borough.geojson")
    data = json.loads(b"".join(response.streaming_content))
    assert len(data["features"]) == 33
    assert data["features"][0]["geometry"]["type"] in {"Polygon", "MultiPolygon"}
    assert client.get(f"/data/{publication.pk}/planet.geojson").status_code == 404
    page = client.get("/data/").content.decode()
    assert "Open Government Licence" in page and "Data dictionary" in page


def test_feedback_is_stored_with_its_page(london, client):
    cache.clear()
    client.get(WARD)  # sets the CSRF cookie
    response = client.post(
        "/feedback/", {"page": WARD, "area_code": "E05013570", "useful": "yes", "message": "ok"}
    )
    assert response.status_code == 302 and response["Location"].startswith("/feedback/thanks/")
    assert Feedback.objects.filter(page=WARD, useful="yes", message="ok").exists()
    assert client.get(response["Location"]).status_code == 200


def test_feedback_honeypot_and_rate_limit(london, client):
    # Our own client address and message: the limit is per client, and other suites share the
    # test cache and the browser tests' live server commits feedback of its own.
    client.defaults["REMOTE_ADDR"] = f"10.9.{os.getpid() % 250}.7"
    marker = f"rate-limit-{os.getpid()}"
    cache.clear()
    client.post("/feedback/", {"page": WARD, "message": marker, "website": "spam.example"})
    assert not Feedback.objects.filter(message=marker).exists()
    statuses = [
        client.post("/feedback/", {"page": WARD, "message": marker}).status_code for _ in range(6)
    ]
    assert statuses == [302, 302, 302, 302, 429, 429]
    assert Feedback.objects.filter(message=marker).count() == 4
    assert client.post("/feedback/", {"page": WARD}).status_code in (400, 429)


def test_feedback_needs_no_session_or_csrf_cookie(london):
    """The form is on cached pages, which set no cookie; the anonymous POST still works."""
    from django.test import Client

    strict = Client(enforce_csrf_checks=True)
    assert strict.post("/feedback/", {"page": WARD, "useful": "yes"}).status_code == 302


@pytest.mark.parametrize("url", ["/about/", "/methodology/", "/data/", "/search/", "/feedback/"])
def test_static_pages(london, client, url):
    response = client.get(url)
    assert response.status_code == 200
    if url == "/methodology/":
        text = response.content.decode()
        assert "Poisson" in text and "fewer than 5" in text and "West End" in text
