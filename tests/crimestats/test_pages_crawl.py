"""A crawl of the real site: no withheld figure is ever described as "fewer than 5".

London, every borough (ward and LSOA maps), at least 60 wards and 60 LSOAs with withheld
figures (or beside ones) with their embeds, the map data and every download. Each figure's
element carries its status, checked against the publication; every "fewer than 5" on a page is
a small figure or a key explaining the words (tests/crimestats/words.py). Counts of withheld
figures change with the protection, so nothing here depends on them, only on the rules.
"""

import csv
import io
import json
from collections import Counter

import pytest
from django.db.models import Q

from areas.models import Area, Level
from crimestats.models import PublishedFigure
from crimestats.selectors import area_latest, current_publication
from tests.crimestats.words import EXACT, SMALL, WITHHELD, check_page, soup_of

pytestmark = [pytest.mark.london, pytest.mark.django_db]

SAMPLE = 60
WORDS = {SMALL: "fewer than 5", WITHHELD: "not shown"}


def _status(suppressed: bool, withheld: bool) -> str:
    return EXACT if not suppressed else WITHHELD if withheld else SMALL


def _published(publication, condition: Q, end=None) -> dict[tuple[str, str], str]:
    """Statuses by (area code, category slug) of r12 figures ending in ``end`` (default: the
    publication's latest month)."""
    rows = (
        PublishedFigure.objects.of(publication)
        .filter(condition, period="r12", end_month=end or publication.latest_month)
        .values_list("area__code", "category__slug", "suppressed", "withheld")
    )
    return {(code, slug): _status(s, w) for code, slug, s, w in rows}


def _sample(publication, level: str) -> list[tuple[Area, str]]:
    """At least SAMPLE areas of a level, with the crime to show: areas with withheld figures
    (spread over London), then areas beside them (their maps show them), then areas with small
    figures."""
    hidden = PublishedFigure.objects.of(publication).filter(
        area__level=level, area__boundary_set__is_current=True, suppressed=True
    )
    withheld: dict[int, str] = {}
    for area_id, slug in (
        hidden.filter(withheld=True)
        .order_by("area__code", "-end_month")
        .values_list("area_id", "category__slug")
    ):
        withheld.setdefault(area_id, slug)
    step = max(1, len(withheld) // (SAMPLE + SAMPLE // 3))
    chosen = dict(list(withheld.items())[::step])
    if len(chosen) < SAMPLE:
        beside = (
            Area.objects.filter(neighbours__in=list(withheld), boundary_set__is_current=True)
            .exclude(pk__in=list(chosen))
            .order_by("code")
            .values_list("id", flat=True)
            .distinct()
        )
        chosen.update(dict.fromkeys(beside[: SAMPLE - len(chosen)], "burglary"))
    small = hidden.filter(withheld=False).order_by("area__code")
    for area_id, slug in small.values_list("area_id", "category__slug").iterator():
        if len(chosen) >= SAMPLE:
            break
        chosen.setdefault(area_id, slug)
    areas = Area.objects.in_bulk(list(chosen))
    assert len(chosen) >= SAMPLE, f"only {len(chosen)} {level}s with hidden figures"
    return [(areas[pk], slug) for pk, slug in chosen.items()]


def _check_area_page(client, publication, area: Area, crime: str) -> dict[str, int]:
    response = client.get(area.get_absolute_url(), {"crime": crime})
    assert response.status_code == 200, area.code
    soup = soup_of(response)
    seen = check_page(soup)
    # What the map and table say is what the publication says, for every area on the map.
    codes = [tr["data-code"] for tr in soup.select("table.figures tbody tr[data-code]")]
    # The default view ends at the area's own source's latest month (the City's is earlier).
    end = area_latest(publication=publication, area=area).month
    expected = _published(publication, Q(area__code__in=codes, category__slug=crime), end)
    for tr in soup.select("table.figures tbody tr[data-code]"):
        cell = tr.select_one("td[data-status]")
        status = expected.get((tr["data-code"], crime), "no-data")
        assert cell["data-status"] == status, (area.code, tr["data-code"])
        assert cell.get_text(strip=True) == WORDS.get(status, cell.get_text(strip=True))
    # And the headline cards, for all three crimes.
    cards = _published(publication, Q(area=area), end)
    for card in soup.select(".headlines article.card"):
        slug = card.h3["id"].removeprefix("card-")
        status = cards.get((area.code, slug), "no-data")
        assert card.select_one(".big-number")["data-status"] == status, (area.code, slug)
    if area.level in (Level.WARD, Level.LSOA):
        periods = {a["href"] for a in soup.select('nav[aria-label="Period"] a')}
        assert all("period=month" not in h and "period=fytd" not in h for h in periods)
        assert not soup.select('a[href*="period=month"], a[href*="period=fytd"]')
        assert soup.select_one("table.trend-figures thead th").get_text() == "12 months ending"
    return seen


def test_crawl_never_calls_a_withheld_figure_small(london, client):
    publication = current_publication()
    seen: Counter = Counter()
    seen.update(check_page(soup_of(client.get("/"))))
    seen.update(check_page(soup_of(client.get("/?map=wards"))))
    boroughs = Area.objects.filter(level=Level.BOROUGH, boundary_set__is_current=True)
    assert boroughs.count() == 33
    for borough in boroughs:
        seen.update(_check_area_page(client, publication, borough, "burglary"))
        for crime in ("robbery", "vehicle-offences"):
            response = client.get(borough.get_absolute_url(), {"crime": crime, "map": "lsoas"})
            seen.update(check_page(soup_of(response)))
    for level in (Level.WARD, Level.LSOA):
        for area, crime in _sample(publication, level):
            seen.update(_check_area_page(client, publication, area, crime))
            if level == Level.WARD:
                embed = client.get(f"/embed/ward/{area.code}/", {"crime": crime})
                assert embed.status_code == 200 and len(embed.content) <= 30 * 1024
                seen.update(check_page(soup_of(embed)))
            data = client.get(area.get_absolute_url() + "map.geojson", {"crime": crime}).json()
            for feature in data["features"]:
                p = feature["properties"]
                assert p["shown_as"] == WORDS.get(p["status"], p["shown_as"]), p
                assert "fewer" not in p["note"] or p["status"] == SMALL, p
    # The crawl met both kinds of hidden figure, and said each one's word.
    assert seen[WITHHELD] > 0 and seen[SMALL] > 0, seen


def test_downloads_say_which_hidden_figures_are_small(london, client):
    publication = current_publication()
    text = b"".join(client.get(f"/data/{publication.pk}/figures.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    statuses = Counter(row["status"] for row in rows)
    for row in rows:
        if row["status"] == EXACT:
            assert row["shown_as"] == row["count"] != ""
        else:
            assert row["shown_as"] == WORDS[row["status"]] and row["count"] == ""
        if row["level"] in (Level.WARD, Level.LSOA):
            assert row["period"] in ("r12", "fy"), row
    figures = PublishedFigure.objects.of(publication)
    assert statuses[WITHHELD] == figures.filter(withheld=True).count() > 0
    assert statuses[SMALL] == figures.filter(suppressed=True, withheld=False).count() > 0
    for level in (Level.WARD, Level.LSOA):
        body = b"".join(client.get(f"/data/{publication.pk}/{level}.geojson").streaming_content)
        for feature in json.loads(body)["features"]:
            for key, figure in feature["properties"]["figures"].items():
                assert key.endswith(("_r12", "_fy")), key
                assert figure["shown_as"] == WORDS.get(figure["status"], figure["count"])
