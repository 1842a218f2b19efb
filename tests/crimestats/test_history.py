"""The public history on a tiny hand-made London: releases page, each publication's page and
open data, the "what changed" file and the Atom feeds.

Publication 1 is loaded; publication 2 restates Abbey (burglary 31 → withheld, robbery 12 →
14) and leaves Alibon and Barnet Vale as they were; then a rollback returns to publication 1.
"""

import csv
import io
import xml.etree.ElementTree as ET
from datetime import date, timedelta

import pytest
from django.utils import timezone

from areas.models import Area
from crimestats.models import Category, FigureBlock, Publication, PublishedFigure, Revision
from crimestats.services.revisions import record_revision
from tests.crimestats.factories import make_london

pytestmark = [pytest.mark.django_db]

ATOM = "{http://www.w3.org/2005/Atom}"
LATEST = date(2025, 11, 1)
ABBEY, ALIBON, BARNET_VALE = "E05000026", "E05000027", "E05000040"
ABBEY_URL = f"/ward/{ABBEY}/abbey/"
BARNET_VALE_URL = f"/ward/{BARNET_VALE}/barnet-vale/"


def publish(areas: dict[str, Area], figures: dict, *, days_ago: int) -> Publication:
    """A publication of (code, slug) → count | "small" | "withheld" for 12 months to LATEST."""
    categories = {c.slug: c for c in Category.objects.filter(shown=True, parent=None)}
    block = FigureBlock.objects.create()
    PublishedFigure.objects.bulk_create(
        PublishedFigure(
            block=block,
            area=areas[code],
            category=categories[slug],
            period="r12",
            end_month=LATEST,
            count=value if isinstance(value, int) else None,
            suppressed=not isinstance(value, int),
            withheld=value == "withheld",
        )
        for (code, slug), value in figures.items()
    )
    Publication.objects.filter(is_current=True).update(is_current=False)
    publication = Publication.objects.create(
        latest_month=LATEST,
        is_current=True,
        first_public_at=timezone.now() - timedelta(days=days_ago),
    )
    publication.blocks.add(block)
    return publication


FIRST = {
    (ABBEY, "burglary"): 31,
    (ABBEY, "robbery"): 12,
    (ALIBON, "burglary"): "small",
    (BARNET_VALE, "burglary"): 60,
}
SECOND = FIRST | {(ABBEY, "burglary"): "withheld", (ABBEY, "robbery"): 14}


@pytest.fixture
def history_london(db):
    areas = make_london()
    # The session's real London load (if any) is set aside: the test's rollback restores it.
    Revision.objects.all().delete()
    Publication.objects.update(first_public_at=None, is_current=False)
    first = publish(areas, FIRST, days_ago=10)
    second = publish(areas, SECOND, days_ago=5)
    revision = record_revision(
        kind=Revision.Kind.PUBLISH,
        publication=second,
        replaced=first,
        note="The Met reclassified robberies in Abbey.",
    )
    Revision.objects.filter(pk=revision.pk).update(at=second.first_public_at)
    return first, second


def rollback(first: Publication, second: Publication) -> None:
    Publication.objects.filter(pk=second.pk).update(is_current=False)
    Publication.objects.filter(pk=first.pk).update(is_current=True)
    record_revision(kind=Revision.Kind.ROLLBACK, publication=first, replaced=second)


def atom(response) -> ET.Element:
    """Parse a feed and check what RFC 4287 requires of it and of every entry."""
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/atom+xml")
    feed = ET.fromstring(response.content)
    assert feed.tag == f"{ATOM}feed"
    for name in ("id", "title", "updated"):
        assert feed.find(f"{ATOM}{name}") is not None, name
    assert feed.find(f"{ATOM}author/{ATOM}name") is not None
    assert feed.find(f"{ATOM}link[@rel='self']") is not None
    ids = [e.findtext(f"{ATOM}id") for e in feed.findall(f"{ATOM}entry")]
    assert len(ids) == len(set(ids)) and all(ids)
    for entry in feed.findall(f"{ATOM}entry"):
        assert entry.findtext(f"{ATOM}title") and entry.findtext(f"{ATOM}updated")
        assert entry.find(f"{ATOM}link").get("href")
    return feed


def entries(feed: ET.Element) -> list[tuple[str, str]]:
    return [
        (e.findtext(f"{ATOM}title"), e.findtext(f"{ATOM}summary"))
        for e in feed.findall(f"{ATOM}entry")
    ]


def test_releases_page_lists_every_switch_newest_first_with_its_note(history_london, client):
    first, second = history_london
    page = client.get("/releases/").content.decode()

    assert page.index(f'href="/releases/{second.pk}/"') < page.index(
        f'href="/releases/{first.pk}/"'
    )
    assert "The Met reclassified robberies in Abbey." in page
    assert 'type="application/atom+xml"' in page and 'href="/releases/feed.atom"' in page

    rollback(first, second)
    page = client.get("/releases/").content.decode()
    assert page.count('class="release-entry"') == 3
    assert f"Rollback: the figures of {second.first_public_at:%-d %B %Y} withdrawn" in page
    day = f"{second.first_public_at:%-d %B %Y}"
    assert f"The figures published on {day} were withdrawn and the site returned to" in page


def test_each_public_publication_has_a_page_and_an_unpublished_one_none(history_london, client):
    first, second = history_london
    unpublished = Publication.objects.create(latest_month=LATEST)

    page = client.get(f"/releases/{second.pk}/").content.decode()

    assert "Revision note" in page and "reclassified robberies" in page
    assert f'href="/releases/{first.pk}/"' in page
    assert f'href="/data/{second.pk}/changes.csv"' in page
    assert client.get(f"/releases/{unpublished.pk}/").status_code == 404
    assert client.get(f"/data/{unpublished.pk}/figures.csv").status_code == 404
    assert client.get("/releases/999999/").status_code == 404


def test_footer_and_area_page_link_the_history(history_london, client):
    page = client.get(ABBEY_URL).content.decode()
    assert 'href="/releases/"' in page
    link = (
        '<link rel="alternate" type="application/atom+xml" '
        f'title="Changes to the figures for Abbey" href="{ABBEY_URL}feed.atom">'
    )
    assert link in page
    assert f'<a href="{ABBEY_URL}feed.atom">' in page


def test_area_feed_has_an_entry_only_when_its_figures_change(history_london, client):
    first, second = history_london
    abbey = entries(atom(client.get(ABBEY_URL + "feed.atom")))
    barnet = entries(atom(client.get(BARNET_VALE_URL + "feed.atom")))

    assert len(abbey) == 2 and len(barnet) == 1  # Barnet Vale: only its first publication
    newest = abbey[0][1]
    assert "Burglary, 12 months to November 2025: was 31, now not shown." in newest
    assert "Robbery, 12 months to November 2025: was 12, now 14." in newest
    assert "Revision note: The Met reclassified robberies in Abbey." in newest
    assert "New: Burglary, 12 months to November 2025: 31." in abbey[1][1]

    rollback(first, second)
    abbey = entries(atom(client.get(ABBEY_URL + "feed.atom")))
    assert len(abbey) == 3 and abbey[0][0].startswith("Rollback")
    assert "Burglary, 12 months to November 2025: was not shown, now 31." in abbey[0][1]
    assert len(entries(atom(client.get(BARNET_VALE_URL + "feed.atom")))) == 1


def test_feed_words_for_hidden_figures(history_london, client):
    alibon = entries(atom(client.get(f"/ward/{ALIBON}/alibon/feed.atom")))
    assert alibon == [(alibon[0][0], alibon[0][1])]
    assert "Burglary, 12 months to November 2025: fewer than 5." in alibon[0][1]
    assert "fewer than 5" not in entries(atom(client.get(ABBEY_URL + "feed.atom")))[0][1]


def test_releases_feed_and_london_feed_are_valid_atom(history_london, client):
    feed = atom(client.get("/releases/feed.atom"))
    assert len(feed.findall(f"{ATOM}entry")) == 2
    atom(client.get("/feed.atom"))
    assert client.get("/ward/E05999999/nowhere/feed.atom").status_code == 404
    assert client.get("/planet/E05000026/abbey/feed.atom").status_code == 404


def test_old_publication_data_stays_byte_for_byte_and_changes_file(history_london, client):
    first, second = history_london
    before = b"".join(client.get(f"/data/{second.pk}/figures.csv").streaming_content)
    old = b"".join(client.get(f"/data/{first.pk}/figures.csv").streaming_content)
    assert b"E05000026,Abbey,ward,burglary,r12,2025-11,31,exact,31" in old

    third = publish(make_areas(), SECOND | {(BARNET_VALE, "burglary"): 61}, days_ago=1)

    assert b"".join(client.get(f"/data/{second.pk}/figures.csv").streaming_content) == before
    assert b"".join(client.get(f"/data/{first.pk}/figures.csv").streaming_content) == old
    latest = client.get("/data/latest/figures.csv")
    assert b",61,exact,61" in b"".join(latest.streaming_content)
    assert client.get(f"/data/{third.pk}/").status_code == 200
    index = client.get("/data/").content.decode()
    assert all(f'href="/data/{p.pk}/"' in index for p in (first, second, third))

    rows = list(
        csv.DictReader(
            io.StringIO(
                b"".join(client.get(f"/data/{second.pk}/changes.csv").streaming_content).decode()
            )
        )
    )
    assert [(r["area_code"], r["category"]) for r in rows] == [
        (ABBEY, "burglary"),
        (ABBEY, "robbery"),
    ]
    burglary, robbery = rows
    assert (burglary["before_shown_as"], burglary["after_shown_as"]) == ("31", "not shown")
    assert burglary["after_status"] == "withheld" and burglary["change"] == ""
    assert (robbery["before_shown_as"], robbery["after_shown_as"], robbery["change"]) == (
        "12",
        "14",
        "2",
    )


def make_areas() -> dict[str, Area]:
    return {a.code: a for a in Area.objects.filter(boundary_set__is_current=True)}
