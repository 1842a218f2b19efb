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
PERIODS = ["r12", "fytd", "month"]


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
    # LSOAs publish no single months (see test_lsoa_pages_offer_no_single_months).
    for url in [*PAGES.values(), *([_lsoa_url()] if period != "month" else [])]:
        response = client.get(url, {"crime": crime, "period": period})
        assert response.status_code == 200, url
        soup = _soup(response)
        category = Category.objects.get(slug=crime)
        assert soup.h1.get_text().startswith(category.public_name)
        canonical = soup.find("link", rel="canonical")["href"]
        query = {k: v for k, v in (("crime", crime), ("period", period))}
        if crime == "burglary":
            query.pop("crime")
        if period == "r12":
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
        big = card.select_one(".big-number").get_text(strip=True)
        assert big == ("Fewer than 5" if figure.suppressed else f"{figure.count:,}")


def test_comparison_sentences_name_both_numbers(london, client):
    soup = _soup(client.get(PAGES["ward"]))
    items = [
        li.get_text(" ", strip=True) for li in soup.select(".card")[0].select(".comparisons li")
    ]
    assert any("Hillingdon" in text for text in items)
    assert any("London" in text for text in items)
    made = [t for t in items if t.startswith("The rate is")]
    for text in made:
        assert re.search(r"(higher than|lower than|about the same as) (Hillingdon|London)", text)
        assert re.search(
            r"\d+ burglar(y|ies) \([\d.]+ per 1,000 households\); (Hillingdon|London) [\d.]+", text
        )


def test_no_rate_or_comparison_for_a_suppressed_figure(london, client):
    publication = current_publication()
    hidden = (
        PublishedFigure.objects.filter(
            block__publications=publication,
            suppressed=True,
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
    assert card.select_one(".big-number").get_text(strip=True) == "Fewer than 5"
    assert "per 1,000" not in card.get_text()
    assert "The rate is" not in card.get_text()
    row = soup.select_one(f'table.figures tr[data-code="{hidden.area.code}"]')
    assert [td.get_text(strip=True) for td in row.select("td")] == [
        "fewer than 5",
        "–",
        "Not compared",
    ]
    shape = soup.select_one(f'svg.choropleth a[data-code="{hidden.area.code}"] path')
    assert shape["fill"] == "url(#hatch)"


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


def test_trend_has_24_points_in_chart_and_table(london, client):
    soup = _soup(client.get(PAGES["ward"]))
    rows = soup.select("table.trend-figures tbody tr")
    assert 20 <= len(rows) <= 24  # a month the Met has not published is left out
    assert len(soup.select("svg.trend-chart rect.bar")) == len(rows)


def test_lsoa_trend_uses_rolling_totals_where_months_are_hidden(london, client):
    soup = _soup(client.get(_lsoa_url()))
    assert soup.select_one("table.trend-figures thead th").get_text() == "12 months to"
    assert "rolling 12-month totals" in soup.get_text()
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
    assert form.select_one('input[name="csrfmiddlewaretoken"]')
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
