"""The words for hidden figures, on a tiny hand-made publication.

Abbey's burglary (12 months to November 2025) is withheld ("not shown", any size); its robbery
and Alibon's burglary are small ("fewer than 5", 1 to 4). Every output must tell them apart:
headline, comparisons, map, legend, table, trend, embed, map data and downloads. Wards publish
only 12-month totals and whole financial years.
"""

import csv
import io
import json
from datetime import date

import pytest

from areas.models import Area
from crimestats.models import Category, Denominator, FigureBlock, Publication, PublishedFigure
from crimestats.periods import add_months
from tests.crimestats.factories import make_london
from tests.crimestats.words import SMALL, WITHHELD, check_page, soup_of

pytestmark = [pytest.mark.django_db]

LATEST = date(2025, 11, 1)
YEAR_BEFORE = date(2024, 11, 1)
FY, FY_BEFORE = date(2025, 3, 1), date(2024, 3, 1)
ABBEY, ALIBON, BARNET_VALE = "E05000026", "E05000027", "E05000040"
LONDON, BARKING = "E12000007", "E09000002"
ABBEY_URL = f"/ward/{ABBEY}/abbey/"
BARKING_URL = f"/borough/{BARKING}/barking-and-dagenham/"
WITHHELD_REASON = "not shown, so that a small number elsewhere cannot be worked out"


class Publisher:
    def __init__(self, areas: dict[str, Area]):
        self.areas = areas
        self.categories = {c.slug: c for c in Category.objects.filter(shown=True, parent=None)}
        self.block = FigureBlock.objects.create()
        self.rows: list[PublishedFigure] = []

    def add(self, code, slug, period, end, count=None, *, status="exact", rate=None, band=None):
        hidden = status != "exact"
        self.rows.append(
            PublishedFigure(
                block=self.block,
                area=self.areas[code],
                category=self.categories[slug],
                period=period,
                end_month=end,
                count=None if hidden else count,
                suppressed=hidden,
                withheld=status == WITHHELD,
                rate=None if hidden else rate,
                band=None if hidden else band,
            )
        )

    def publish(self) -> Publication:
        PublishedFigure.objects.bulk_create(self.rows)
        Publication.objects.filter(is_current=True).update(is_current=False)
        publication = Publication.objects.create(latest_month=LATEST, is_current=True)
        publication.blocks.add(self.block)
        return publication


@pytest.fixture
def words_london(db):
    areas = make_london()
    for n, area in enumerate(areas.values()):
        area.svg_path = f"M{n * 100} 0 l100 0 0 100 -100 0 z"
        area.save(update_fields=["svg_path"])
        people = {LONDON: 8_000_000, BARKING: 300_000}.get(area.code, 10_000)
        Denominator.objects.create(
            area=area, residents=people, households=people // 2, source="test"
        )
    areas[ABBEY].neighbours.add(areas[ALIBON])
    areas[ALIBON].neighbours.add(areas[BARNET_VALE])
    p = Publisher(areas)
    slugs = ("burglary", "robbery", "vehicle-offences")
    # London and Barking and Dagenham: exact, every period. Barking's vehicle crime is 1.2
    # times London's rate ("0.8 to 1.25 times" band) and, with thousands of crimes, statistically
    # higher: the card must not read as "about the same" and "higher" at once.
    london = {
        "burglary": (40_000, 10.0),
        "robbery": (30_000, 3.3),
        "vehicle-offences": (90_000, 9.9),
    }
    barking = {"burglary": (1_500, 10.0), "robbery": (900, 3.0), "vehicle-offences": (3_570, 11.9)}
    for slug in slugs:
        for period in ("r12", "fytd", "month"):
            for end in (LATEST, YEAR_BEFORE):
                p.add(LONDON, slug, period, end, london[slug][0], rate=london[slug][1])
                p.add(BARKING, slug, period, end, barking[slug][0], rate=barking[slug][1], band=2)
        for end in (FY, FY_BEFORE):
            p.add(LONDON, slug, "fy", end, london[slug][0], rate=london[slug][1])
            p.add(BARKING, slug, "fy", end, barking[slug][0], rate=barking[slug][1], band=2)
    # Wards: 12 months to November 2025 and a year earlier, and whole financial years.
    for code in (ABBEY, ALIBON, BARNET_VALE):
        for slug in slugs:
            if (code, slug) not in {(ABBEY, "burglary"), (ABBEY, "robbery"), (ALIBON, "burglary")}:
                p.add(code, slug, "r12", LATEST, 60, rate=6.0, band=1)
            p.add(code, slug, "r12", YEAR_BEFORE, 50, rate=5.0, band=1)
            p.add(code, slug, "fy", FY, 28, rate=5.6, band=1)
            p.add(code, slug, "fy", FY_BEFORE, None, status=WITHHELD)
    p.add(ABBEY, "burglary", "r12", LATEST, status=WITHHELD)
    p.add(ABBEY, "robbery", "r12", LATEST, status=SMALL)
    p.add(ALIBON, "burglary", "r12", LATEST, status=SMALL)
    # Abbey's burglary trend: 12 months ending each month, one small, the latest withheld.
    for i in range(1, 24):
        end = add_months(LATEST, -i)
        if end == YEAR_BEFORE:
            continue
        if end == date(2024, 6, 1):
            p.add(ABBEY, "burglary", "r12", end, status=SMALL)
        else:
            p.add(ABBEY, "burglary", "r12", end, 30 + i, rate=6.0, band=1)
    return p.publish()


def test_headline_tells_withheld_from_small(words_london, client):
    soup = soup_of(client.get(ABBEY_URL))
    seen = check_page(soup)
    assert seen[SMALL] and seen[WITHHELD]
    burglary = soup.select_one("#card-burglary").parent
    big = burglary.select_one(".big-number")
    assert (big["data-status"], big.get_text(strip=True)) == (WITHHELD, "Not shown")
    text = burglary.get_text(" ", strip=True)
    assert "Not shown, so that a small number elsewhere cannot be worked out" in text
    assert "fewer than" not in text.lower() and "per 1,000" not in text
    assert "the figure for Abbey is not shown, so it is not compared" in text
    robbery = soup.select_one("#card-robbery").parent
    big = robbery.select_one(".big-number")
    assert (big["data-status"], big.get_text(strip=True)) == (SMALL, "Fewer than 5")
    assert "1 to 4 crimes were recorded" in robbery.get_text(" ", strip=True)
    assert "the figure for Abbey is fewer than 5" in robbery.get_text(" ", strip=True)


def test_map_legend_and_table_tell_withheld_from_small(words_london, client):
    soup = soup_of(client.get(ABBEY_URL))
    areas = {a["data-code"]: a for a in soup.select("svg.choropleth a.area")}
    assert areas[ABBEY]["data-status"] == WITHHELD
    assert areas[ABBEY]["aria-label"] == "Abbey: not shown"
    assert areas[ABBEY].path["fill"] == "url(#withheld-hatch)"
    assert areas[ALIBON]["aria-label"] == "Alibon: fewer than 5"
    assert areas[ALIBON].path["fill"] == "url(#hatch)"
    keys = {
        li["data-key"]: li.get_text(" ", strip=True) for li in soup.select(".legend li[data-key]")
    }
    assert keys[SMALL].startswith("Fewer than 5 (hatched): 1 to 4 crimes")
    assert keys[WITHHELD].startswith(f"Not shown (cross-hatched): {WITHHELD_REASON}")
    rows = {
        tr["data-code"]: [td.get_text(strip=True) for td in tr.select("td")]
        for tr in soup.select("table.figures tbody tr[data-code]")
    }
    assert rows == {
        ABBEY: ["not shown", "–", "Not compared"],
        ALIBON: ["fewer than 5", "–", "Not compared"],
    }


def test_legend_lists_only_the_kinds_shown(words_london, client):
    soup = soup_of(client.get(f"/ward/{BARNET_VALE}/barnet-vale/?crime=robbery"))
    check_page(soup)
    assert not soup.select(".legend li[data-key]")
    soup = soup_of(client.get(f"/ward/{ALIBON}/alibon/"))  # Alibon small, Abbey withheld
    check_page(soup)
    assert {li["data-key"] for li in soup.select(".legend li[data-key]")} == {SMALL, WITHHELD}


def test_trend_is_twelve_months_ending_each_month_with_both_words(words_london, client):
    soup = soup_of(client.get(ABBEY_URL))
    assert soup.select_one("table.trend-figures thead th").get_text() == "12 months ending"
    bars = soup.select("svg.trend-chart rect.bar")
    rows = soup.select("table.trend-figures tbody tr")
    assert len(bars) == len(rows) == 24
    statuses = [bar["data-status"] for bar in bars]
    assert statuses.count(WITHHELD) == 1 and statuses.count(SMALL) == 1
    cells = {tr.th.get_text(strip=True): tr.td.get_text(strip=True) for tr in rows}
    assert cells["November 2025"] == "not shown" and cells["June 2024"] == "fewer than 5"
    caption = soup.select_one(".trend figcaption").get_text(" ", strip=True)
    assert "Hatched stubs: fewer than 5 (1 to 4 crimes" in caption
    assert f"Cross-hatched columns: {WITHHELD_REASON}" in caption
    long_run = {
        tr.th.get_text(strip=True): tr.td.get_text(strip=True)
        for tr in soup.select("table.long-run tbody tr")
    }
    assert long_run == {"Financial year 2023/24": "not shown", "Financial year 2024/25": "28"}


def test_ward_pages_offer_only_what_wards_publish(words_london, client):
    soup = soup_of(client.get(ABBEY_URL))
    periods = [a["href"] for a in soup.select('nav[aria-label="Period"] a')]
    assert periods == [ABBEY_URL, ABBEY_URL + "?period=fy"]
    assert not soup.select('a[href*="period=month"], a[href*="period=fytd"]')
    borough = [
        a["href"] for a in soup_of(client.get(BARKING_URL)).select('nav[aria-label="Period"] a')
    ]
    assert borough == [BARKING_URL + q for q in ("", "?period=fytd", "?period=month", "?period=fy")]


@pytest.mark.parametrize("period", ["month", "fytd"])
def test_a_period_wards_do_not_publish_shows_the_default_view_with_a_notice(
    words_london, client, period
):
    response = client.get(ABBEY_URL, {"period": period, "crime": "robbery"})
    assert response.status_code == 200
    soup = soup_of(response)
    notice = soup.select_one(".notice").get_text(" ", strip=True)
    assert "not published for wards" in notice and "last 12 months instead" in notice
    assert soup.select_one("#headline-heading").get_text() == "12 months to November 2025"
    canonical = soup.find("link", rel="canonical")["href"]
    assert canonical == f"http://testserver{ABBEY_URL}?crime=robbery"
    check_page(soup)
    embed = client.get(f"/embed/ward/{ABBEY}/", {"period": period})
    assert embed.status_code == 200 and b"not published for wards" in embed.content
    data = client.get(ABBEY_URL + "map.geojson", {"period": period}).json()
    assert "not published for wards" in data["notice"]
    assert data["period"] == "12 months to November 2025"
    # An unknown period is still a 400 that lists what a ward has.
    bad = client.get(ABBEY_URL, {"period": "forever"})
    assert bad.status_code == 400
    assert b"?period=r12" in bad.content and b"?period=fy" in bad.content
    assert b"?period=month" not in bad.content


def test_whole_financial_year_view(words_london, client):
    soup = soup_of(client.get(ABBEY_URL, {"period": "fy"}))
    assert soup.select_one("#headline-heading").get_text() == "Financial year 2024/25"
    card = soup.select_one("#card-burglary").parent
    assert card.select_one(".big-number").get_text(strip=True) == "28"
    assert "the figure for a year earlier is not shown" in card.get_text(" ", strip=True)
    check_page(soup)


def test_embed_tells_withheld_from_small(words_london, client):
    response = client.get(f"/embed/ward/{ABBEY}/")
    assert len(response.content) <= 30 * 1024
    soup = soup_of(response)
    check_page(soup)
    figures = {n.parent.get_text(" ", strip=True).split(":")[0]: n for n in soup.select(".n")}
    assert figures["Burglary"]["data-status"] == WITHHELD
    assert figures["Burglary"].get_text() == "not shown"
    assert figures["Robbery"].get_text() == "fewer than 5"
    keys = [k.get_text(" ", strip=True) for k in soup.select(f'.status-key[data-key="{WITHHELD}"]')]
    assert f"“Not shown”: {WITHHELD_REASON}; it may be any size." in keys
    paths = {p["data-code"]: p["fill"] for p in soup.select("svg path[data-code]")}
    assert paths == {ABBEY: "url(#w)", ALIBON: "url(#h)"}


def test_map_data_for_leaflet_has_status_and_reason(words_london, client):
    data = client.get(ABBEY_URL + "map.geojson").json()
    properties = {f["properties"]["code"]: f["properties"] for f in data["features"]}
    abbey, alibon = properties[ABBEY], properties[ALIBON]
    assert (abbey["shown_as"], abbey["status"], abbey["note"]) == (
        "not shown",
        WITHHELD,
        WITHHELD_REASON,
    )
    assert (alibon["shown_as"], alibon["status"]) == ("fewer than 5", SMALL)
    assert "fewer" not in abbey["note"]


def test_downloads_have_a_status_column(words_london, client):
    publication = words_london
    text = b"".join(client.get(f"/data/{publication.pk}/figures.csv").streaming_content).decode()
    rows = list(csv.DictReader(io.StringIO(text)))
    assert len(rows) == PublishedFigure.objects.filter(block__publications=publication).count()
    by_key = {(r["area_code"], r["category"], r["period"], r["end_month"]): r for r in rows}
    abbey = by_key[(ABBEY, "burglary", "r12", "2025-11")]
    alibon = by_key[(ALIBON, "burglary", "r12", "2025-11")]
    assert (abbey["shown_as"], abbey["status"], abbey["count"]) == ("not shown", WITHHELD, "")
    assert (alibon["shown_as"], alibon["status"], alibon["count"]) == ("fewer than 5", SMALL, "")
    for row in rows:
        expected = {"small": "fewer than 5", "withheld": "not shown"}.get(row["status"])
        assert row["shown_as"] == (expected or row["count"])
    assert not [
        r for r in rows if r["area_code"].startswith("E05") and r["period"] in ("month", "fytd")
    ]
    body = b"".join(client.get(f"/data/{publication.pk}/figures.json").streaming_content)
    figures = json.loads(body)["figures"]
    assert {(f["shown_as"], f["status"]) for f in figures if f["count"] is None} == {
        ("fewer than 5", SMALL),
        ("not shown", WITHHELD),
    }
    body = b"".join(client.get(f"/data/{publication.pk}/ward.geojson").streaming_content)
    features = {f["properties"]["code"]: f["properties"] for f in json.loads(body)["features"]}
    assert features[ABBEY]["figures"]["burglary_r12"]["status"] == WITHHELD
    assert features[ABBEY]["figures"]["burglary_r12"]["shown_as"] == "not shown"
    assert features[ALIBON]["figures"]["burglary_r12"]["shown_as"] == "fewer than 5"
    assert set(features[ABBEY]["figures"]) == {
        "burglary_r12",
        "robbery_r12",
        "vehicle-offences_r12",
    }


def test_data_dictionary_explains_both_words(words_london, client):
    soup = soup_of(client.get("/data/"))
    meanings = {
        tr.th.get_text(strip=True): tr.td.get_text(" ", strip=True)
        for tr in soup.select("#dictionary ~ table tbody tr")
    }
    assert "small: shown as “fewer than 5”, the count is 1 to 4" in meanings["status"]
    assert "withheld: shown as “not shown”, so that a small number elsewhere" in meanings["status"]
    assert "says nothing about its own size" in meanings["status"]
    assert "for boroughs and London only, also month" in meanings["period"]


def test_card_says_what_colour_and_test_each_measure(words_london, client):
    """Barking and Dagenham's vehicle crime: 11.9 against London's 9.9 (the 0.8–1.25 band) and
    statistically higher: no "about the same" beside "higher"."""
    soup = soup_of(client.get(BARKING_URL, {"crime": "vehicle-offences"}))
    card = soup.select_one("#card-vehicle-offences").parent
    text = card.get_text(" ", strip=True)
    assert "Map colour: 0.8 to 1.25 times the London rate." in text
    assert "Statistically higher than London: unlikely to be chance." in text
    assert "about the same" not in text.lower()


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        (
            "/",
            "Each figure is compared with the same period a year earlier "
            "(12 months to November 2024).",
        ),
        (BARKING_URL, "Each figure is compared with London and the same period a year earlier"),
        (
            ABBEY_URL,
            "Each figure is compared with Barking and Dagenham, London and the same period",
        ),
    ],
)
def test_compared_with_lists_every_comparison(words_london, client, url, expected):
    note = " ".join(soup_of(client.get(url)).select_one(".compared-with").get_text().split())
    assert note.startswith(expected)
    assert "with and" not in note and ", and" not in note and ": and" not in note
