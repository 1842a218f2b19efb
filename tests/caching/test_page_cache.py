"""The page cache on the real London data: keys follow the publication, HTTP caching headers,
304s, no cookies on public pages. Real PostGIS and Redis throughout."""

import re
from pathlib import Path

import brotli
import pytest
from django.test import Client

from areas.models import Area, Level
from caching import encoding, store
from crimestats.models import Publication
from crimestats.services.publish import switch_to

pytestmark = [pytest.mark.london, pytest.mark.django_db]

BR = {"HTTP_ACCEPT_ENCODING": "gzip, deflate, br"}
GZIP = {"HTTP_ACCEPT_ENCODING": "gzip"}


def a_ward(n: int = 0) -> Area:
    return Area.objects.filter(level=Level.WARD, boundary_set__is_current=True).order_by("code")[n]


def twin_of(publication: Publication) -> Publication:
    """A second publication with the same figures: only the page keys tell them apart."""
    twin = Publication.objects.create(
        latest_month=publication.latest_month, figure_count=publication.figure_count
    )
    twin.blocks.set(publication.blocks.all())
    twin.releases.set(publication.releases.all())
    return twin


def test_second_request_is_a_hit_with_the_stored_bytes(london, client):
    url = a_ward(0).get_absolute_url()
    first = client.get(url, **BR)
    second = client.get(url, **BR)
    assert (first.status_code, second.status_code) == (200, 200)
    assert (first["X-Page-Cache"], second["X-Page-Cache"]) == ("miss", "hit")
    assert first["Content-Encoding"] == second["Content-Encoding"] == "br"
    assert first.content == second.content
    assert first["ETag"] == second["ETag"]
    assert second["Vary"] == "Accept-Encoding"
    html = brotli.decompress(second.content)
    assert b"<html" in html
    # gzip and identity are the same page, each with its own strong ETag.
    gzipped = client.get(url, **GZIP)
    plain = client.get(url)
    assert gzipped["X-Page-Cache"] == plain["X-Page-Cache"] == "hit"
    assert encoding.gunzip(gzipped.content) == html == plain.content
    assert "Content-Encoding" not in plain
    assert len({second["ETag"], gzipped["ETag"], plain["ETag"]}) == 3
    assert not second["ETag"].startswith("W/")


def test_cache_control_and_last_modified(london, client):
    response = client.get("/", **BR)
    control = {part.strip().split("=")[0]: part for part in response["Cache-Control"].split(",")}
    assert set(control) == {"public", "max-age", "s-maxage", "stale-while-revalidate"}
    publication = Publication.objects.get(is_current=True)
    from django.utils.http import http_date

    assert response["Last-Modified"] == http_date(publication.first_public_at.timestamp())
    assert response["X-Publication"] == str(publication.pk)


def test_key_changes_with_the_publication_and_a_rollback_serves_the_older_pages(london, client):
    url = a_ward(1).get_absolute_url()
    old = Publication.objects.get(is_current=True)
    before = client.get(url, **BR)
    assert before["X-Publication"] == str(old.pk)

    new = twin_of(old)
    switch_to(publication=new)
    after = client.get(url, **BR)
    assert after["X-Publication"] == str(new.pk)
    assert after["X-Page-Cache"] == "miss"
    assert after["ETag"] != before["ETag"]

    switch_to(publication=old)  # roll back
    back = client.get(url, **BR)
    assert back["X-Publication"] == str(old.pk)
    assert back["X-Page-Cache"] == "hit"
    assert back["ETag"] == before["ETag"]
    assert back.content == before.content


def test_304_on_a_matching_if_none_match_only(london, client):
    url = a_ward(2).get_absolute_url()
    first = client.get(url, **GZIP)
    again = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **GZIP)
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == first["ETag"]
    other = client.get(url, HTTP_IF_NONE_MATCH='"1-0000-gzip"', **GZIP)
    assert other.status_code == 200
    # Another coding is another representation: its ETag does not match.
    brotli_one = client.get(url, HTTP_IF_NONE_MATCH=first["ETag"], **BR)
    assert brotli_one.status_code == 200
    since = client.get(url, HTTP_IF_MODIFIED_SINCE=first["Last-Modified"], **GZIP)
    assert since.status_code == 304


@pytest.mark.parametrize(
    "url",
    ["/", "/about/", "/data/", "/feedback/", "/search/?q=Camden", "/map.geojson", "WARD", "EMBED"],
)
def test_anonymous_pages_set_no_cookie_and_do_not_vary_on_it(london, url):
    ward = a_ward(3)
    url = {"WARD": ward.get_absolute_url(), "EMBED": f"/embed/ward/{ward.code}/"}.get(url, url)
    client = Client(enforce_csrf_checks=True)
    for _ in range(2):  # the render and the hit
        response = client.get(url, **BR)
        assert response.status_code == 200, url
        assert not response.cookies, url
        assert "cookie" not in response.get("Vary", "").lower(), url
        assert "Set-Cookie" not in response


def test_feedback_posts_without_a_session_and_is_never_cached(london):
    client = Client(enforce_csrf_checks=True)  # as a browser with no cookies at all
    ward = a_ward(4)
    page = client.get(ward.get_absolute_url(), **BR)
    assert b"csrfmiddlewaretoken" not in brotli.decompress(page.content)
    data = {"page": ward.get_absolute_url(), "area_code": ward.code, "useful": "yes"}
    response = client.post("/feedback/", data)
    assert response.status_code == 302
    assert "X-Page-Cache" not in response
    assert not response.cookies


def test_postcode_search_redirect_is_cached(london, client):
    from areas.models import Postcode

    postcode = Postcode.objects.order_by("postcode").values_list("postcode", flat=True)[0]
    url = "/search/?q=" + postcode.replace(" ", "+")
    first = client.get(url, **BR)
    second = client.get(url, **BR)
    assert first.status_code == second.status_code == 302
    assert second["X-Page-Cache"] == "hit"
    assert second["Location"] == first["Location"]
    assert "/ward/" in second["Location"] or "/lsoa/" in second["Location"]


def test_parameters_no_view_reads_share_the_page(london, client):
    """Links shared on launch day carry utm_source or fbclid, different on every click: each
    must be a hit on the page without them, never a render of its own."""
    url = a_ward(5).get_absolute_url()
    plain = client.get(url, **BR)
    shared = client.get(url + "?utm_source=twitter&fbclid=IwAR0abc", **BR)
    assert shared["X-Page-Cache"] == "hit"
    assert shared.content == plain.content
    robbery = client.get(url + "?crime=robbery", **BR)
    assert robbery.status_code == 200
    assert robbery["X-Page-Cache"] == "miss"
    assert robbery.content != plain.content
    tagged = client.get(url + "?fbclid=1&crime=robbery", **BR)
    assert (tagged["X-Page-Cache"], tagged.content) == ("hit", robbery.content)
    # Given twice, the views read the last value, and so does the key.
    twice = client.get(url + "?crime=burglary&crime=robbery", **BR)
    assert (twice["X-Page-Cache"], twice.content) == ("hit", robbery.content)
    assert b"fbclid" not in brotli.decompress(tagged.content)  # nor in the feedback form


def test_an_old_slug_redirect_keeps_the_view_and_drops_tracking_parameters(london, client):
    ward = a_ward(6)
    response = client.get(f"/ward/{ward.code}/old-name/?crime=robbery&utm_source=x")
    assert response.status_code == 301
    assert response["Location"] == ward.get_absolute_url() + "?crime=robbery"


def test_every_query_parameter_a_cached_view_reads_is_part_of_the_key():
    """One read by a view but left out of the key would serve one view's page for another."""
    root = Path(__file__).resolve().parents[2]
    source = "".join((root / f).read_text() for f in ("crimestats/views.py", "areas/views.py"))
    read = set(re.findall(r"GET\.get\(\"(\w+)\"", source))
    assert read == set(store.PAGE_PARAMETERS)
