"""Every level × crime × period on the real data: statuses, canonical URLs, figures and words."""

import re

import pytest
from bs4 import BeautifulSoup

from areas.models import Area, Level
from crimestats.models import Category, PublishedFigure
from crimestats.selectors import current_publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]

PAGES = {
    "london": "/",
    "borough": "/borough/E09000017/hillingdon/",
    "ward": "/ward/E05013570/heathrow-villages/",
}
CRIMES = ["burglary", "robbery", "vehicle-offences"]
PERIODS = ["r12", "fytd", "month", "fy"]
SMALL_AREA_PERIODS = {"r12", "fy"}  # wards and LSOAs publish no months and no year to date


def _soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def _lsoa_url() -> str:
    lsoa = (
        Area.objects.filter(
            level=Level.LSOA, parent__code="E09000017", boundary_set__is_current=True
        )
        .order_by("code")
        .first()
    )
    return lsoa.get_absolute_url()


@pytest.mark.parametrize("crime", CRIMES)
@pytest.mark.parametrize("period", PERIODS)
def test_every_level_crime_and_period_renders(london, client, crime, period):
    # Wards and LSOAs show the default period, with a notice, for one they do not publish
    # (see test_small_area_pages_offer_no_single_months_or_year_to_date).
    for level, url in [*PAGES.items(), ("lsoa", _lsoa_url())]:
        response = client.get(url, {"crime": crime, "period": period})
        assert response.status_code == 200, url
        soup = _soup(response)
        category = Category.objects.get(slug=crime)
        assert soup.h1.get_text().startswith(category.public_name)
        shown = period if level not in ("ward", "lsoa") or period in SMALL_AREA_PERIODS else "r12"
        assert bool(soup.select(".notice")) == (shown != period)
        canonical = soup.find("link", rel="canonical")["href"]
        query = {k: v for k, v in (("crime", crime), ("period", shown))}
        if crime == "burglary":
            query.pop("crime")
        if shown == "r12":
            query.pop("period")
        assert canonical.endswith(
            url + ("?" if query else "") + "&".join(f"{k}={v}" for k, v in query.items())
        )


def test_default_view_canonical_has_no_query(london, client):
    soup = _soup(client.get(PAGES["ward"] + "?crime=burglary&period=r12"))
    assert soup.find("link", rel="canonical")["href"] == "http://testserver" + PAGES["ward"]


@pytest.mark.parametrize(
    ("query", "choice"),
    [("crime=arson", "?crime=burglary"), ("period=forever", "?period=fytd"), ("map=moon", "?map=")],
)
def test_bad_parameters_are_400_with_choices(london, client, query, choice):
    response = client.get(PAGES["borough"] + "?" + query)
    assert response.status_code == 400
    assert choice in response.content.decode()


def test_headline_shows_published_figures_for_all_three_crimes(london, client):
    publication = current_publication()
    ward = Area.objects.get(code="E05013570", boundary_set__is_current=True)
    soup = _soup(client.get(PAGES["ward"]))
    cards = soup.select(".headlines article.card")
    assert len(cards) == 3
    for card, slug in zip(cards, CRIMES, strict=True):
        figure = PublishedFigure.objects.get(
            block__publications=publication,
            area=ward,
            category__slug=slug,
            period="r12",
            end_month=publication.latest_month,
        )
        big = card.select_one(".big-number")
        if figure.withheld:
            assert (big["data-status"], big.get_text(strip=True)) == ("withheld", "Not shown")
        elif figure.suppressed:
            assert (big["data-status"], big.get_text(strip=True)) == ("small", "Fewer than 5")
        else:
            assert big.get_text(strip=True) == f"{figure.count:,}"


def test_comparison_sentences_name_both_numbers(london, client):
    soup = _soup(client.get(PAGES["ward"]))
    items = [
        li.get_text(" ", strip=True) for li in soup.select(".card")[0].select(".comparisons li")
    ]
    assert any("Hillingdon" in text for text in items)
    assert any("London" in text for text in items)
    made = [t for t in items if not t.startswith("No comparison")]
    for text in made[:2]:  # the two parents, by rate
        assert re.match(
            r"(Statistically (higher|lower) than (Hillingdon|London): unlikely to be chance"
            r"|No clear difference from (Hillingdon|London): the difference could be chance)\.",
            text,
        )
        assert re.search(
            r"\d+ burglar(y|ies) \([\d.]+ per 1,000 households\); (Hillingdon|London) [\d.]+", text
        )


@pytest.mark.parametrize(("withheld", "words"), [(False, "fewer than 5"), (True, "not shown")])
def test_no_rate_or_comparison_for_a_suppressed_figure(london, client, withheld, words):
    publication = current_publication()
    hidden = (
        PublishedFigure.objects.filter(
            block__publications=publication,
            suppressed=True,
            withheld=withheld,
            area__level=Level.LSOA,
            area__boundary_set__is_current=True,
            period="r12",
            end_month=publication.latest_month,
        )
        .select_related("area", "category")
        .first()
    )
    assert hidden is not None
    response = client.get(hidden.area.get_absolute_url(), {"crime": hidden.category.slug})
    soup = _soup(response)
    card = soup.select_one(".card.current")
    assert card.select_one(".big-number").get_text(strip=True) == words.capitalize()
    assert "per 1,000" not in card.get_text()
    assert "Statistically" not in card.get_text() and "No clear" not in card.get_text()
    row = soup.select_one(f'table.figures tr[data-code="{hidden.area.code}"]')
    assert [td.get_text(strip=True) for td in row.select("td")] == [words, "–", "Not compared"]
    shape = soup.select_one(f'svg.choropleth a[data-code="{hidden.area.code}"] path')
    assert shape["fill"] == ("url(#withheld-hatch)" if withheld else "url(#hatch)")


@pytest.mark.parametrize(
    "url", [PAGES["london"], PAGES["borough"], PAGES["borough"] + "?map=lsoas"]
)
def test_every_area_on_the_map_is_in_the_table_with_the_same_value(london, client, url):
    soup = _soup(client.get(url))
    shapes = {
        a["data-code"]: re.sub(r", [a-z ]+ London$", "", a["aria-label"].split(": ", 1)[1])
        for a in soup.select("svg.choropleth a.area")
    }
    rows = {
        tr["data-code"]: tr.select("td")[0].get_text(strip=True)
        for tr in soup.select("table.figures tbody tr[data-code]")
    }
    assert shapes and shapes == rows
    for a in soup.select("svg.choropleth a.area"):
        assert a["href"].startswith("/") and a["aria-label"]


def test_map_options(london, client):
    lsoas = _soup(client.get(PAGES["borough"] + "?map=lsoas"))
    hillingdon = Area.objects.get(code="E09000017", boundary_set__is_current=True)
    expected = hillingdon.children.filter(level=Level.LSOA).count()
    assert len(lsoas.select("svg.choropleth a.area")) == expected
    wards = _soup(client.get("/?map=wards"))
    assert len(wards.select("svg.choropleth a.area")) == 679


@pytest.mark.parametrize(("page", "period"), [("borough", "month"), ("ward", "r12")])
def test_trend_has_24_points_in_chart_and_table(london, client, page, period):
    from crimestats.periods import add_months

    publication = current_publication()
    soup = _soup(client.get(PAGES[page]))
    rows = soup.select("table.trend-figures tbody tr")
    # One point per end month published in the last 24: a month the Met has not published (the
    # ward file's incomplete March 2024 leaves out every 12-month total that contains it).
    code = PAGES[page].split("/")[2]
    published = PublishedFigure.objects.of(publication).filter(
        area__code=code,
        area__boundary_set__is_current=True,
        category__slug="burglary",
        period=period,
        end_month__gt=add_months(publication.latest_month, -24),
    )
    assert len(rows) == published.count() >= 12
    assert len(soup.select("svg.trend-chart rect.bar")) == len(rows)
    assert bool(soup.select(".trend-gaps")) == (len(rows) < 24)
    header = soup.select_one("table.trend-figures thead th").get_text()
    assert header == ("Month" if page == "borough" else "12 months ending")


def test_small_area_trends_are_12_months_ending_each_month(london, client):
    publication = current_publication()
    for url in (PAGES["ward"], _lsoa_url()):
        soup = _soup(client.get(url))
        assert soup.select_one("table.trend-figures thead th").get_text() == "12 months ending"
        assert "Crimes recorded in the 12 months ending each month" in soup.get_text()
        labels = [th.get_text() for th in soup.select("table.trend-figures tbody th")]
        assert labels[-1] == f"{publication.latest_month:%B %Y}"
        assert soup.select("table.trend-figures tbody td.num")


def test_team_reporting_and_feedback_on_ward_page(london, client):
    soup = _soup(client.get(PAGES["ward"]))
    team = soup.select_one("section.team")
    assert "Heathrow Villages" in team.h2.get_text()
    assert team.select_one(
        'a[href="https://www.met.police.uk/a/your-area/met/hillingdon/heathrow-villages/"]'
    )
    assert "Phone" not in team.get_text()  # empty fields are hidden
    report = soup.select_one("section.help").get_text()
    assert "999" in report and "101" in report and "Crimestoppers" in report
    form = soup.select_one("section.feedback form")
    # Cached pages carry no CSRF token: the anonymous form needs none (tests/caching/).
    assert form.select_one('input[name="csrfmiddlewaretoken"]') is None
    assert (
        'src="http://testserver/embed/ward/E05013570/"' in soup.select_one("#embed-code").get_text()
    )


def test_context_note_shows_on_its_area_only(london, client):
    from crimestats.content_models import PageContent

    PageContent.objects.create(
        kind="note", area_code="E09000017", title="About Hillingdon", body="Heathrow airport."
    )
    assert "Heathrow airport." in client.get(PAGES["borough"]).content.decode()
    assert "Heathrow airport." not in client.get(PAGES["ward"]).content.decode()


def test_unknown_area_is_a_404_with_a_search_box(london, client):
    response = client.get("/ward/E05999999/nowhere/")
    assert response.status_code == 404
    soup = _soup(response)
    assert soup.select_one('form[role="search"] input[name="q"]')


def test_london_compares_with_a_year_earlier(london, client):
    """London's figures are exact, so the year-on-year sentence always has both numbers."""
    publication = current_publication()
    from crimestats.periods import add_months

    now = PublishedFigure.objects.get(
        block__publications=publication,
        area__level=Level.REGION,
        area__boundary_set__is_current=True,
        category__slug="robbery",
        period="r12",
        end_month=publication.latest_month,
    )
    before = PublishedFigure.objects.filter(
        block__publications=publication,
        area=now.area,
        category__slug="robbery",
        period="r12",
        end_month=add_months(publication.latest_month, -12),
    ).first()
    soup = _soup(client.get("/?crime=robbery"))
    items = [li.get_text(" ", strip=True) for li in soup.select(".card.current .comparisons li")]
    last = items[-1]
    if before is None:
        assert last.startswith("No comparison with a year earlier")
    else:
        assert f"{now.count:,} robberies; a year earlier {before.count:,}" in last
