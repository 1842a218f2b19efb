"""Area pages on the real London data: URLs, statuses, and figures read back from the HTML."""

import re

import pytest
from bs4 import BeautifulSoup

from areas.models import Area, Level
from crimestats.models import Category, PublishedFigure
from crimestats.selectors import current_publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]

WARD = "E05013570"


def _soup(response) -> BeautifulSoup:
    return BeautifulSoup(response.content, "html.parser")


def _table(soup) -> dict[str, str]:
    rows = soup.select("table.figures tbody tr[data-code]")
    return {row["data-code"]: row.select("td")[0].get_text(strip=True) for row in rows}


def test_ward_url_by_code_and_slug(london, client):
    assert client.get(f"/ward/{WARD}/heathrow-villages/").status_code == 200
    wrong = client.get(f"/ward/{WARD}/wrong-slug/")
    assert wrong.status_code == 301 and wrong["Location"] == f"/ward/{WARD}/heathrow-villages/"
    assert client.get(f"/ward/{WARD}/").status_code == 301
    assert client.get("/ward/E05999999/nowhere/").status_code == 404
    assert client.get("/planet/E05013570/x/").status_code == 404


def test_bad_parameters_get_a_400_offering_choices(london, client):
    response = client.get(f"/ward/{WARD}/heathrow-villages/?crime=arson")
    assert response.status_code == 400
    assert b"?crime=burglary" in response.content
    assert client.get("/?period=forever").status_code == 400


def test_ward_page_shows_published_figures_for_its_map(london, client):
    response = client.get(f"/ward/{WARD}/heathrow-villages/")
    soup = _soup(response)
    ward = Area.objects.get(code=WARD, boundary_set__is_current=True)
    assert ward.parent.code == "E09000017"
    shown = _table(soup)
    expected_codes = {WARD, *ward.neighbours.values_list("code", flat=True)}
    assert set(shown) == expected_codes
    publication = current_publication()
    burglary = Category.objects.get(slug="burglary")
    for code, text in shown.items():
        figure = PublishedFigure.objects.get(
            block__publications=publication,
            area__code=code,
            area__boundary_set__is_current=True,
            category=burglary,
            period="r12",
            end_month=publication.latest_month,
        )
        if figure.withheld:
            expected = "not shown"
        else:
            expected = "fewer than 5" if figure.suppressed else f"{figure.count:,}"
        assert text == expected


def test_small_counts_never_appear_on_ward_and_lsoa_pages(london, client):
    """Parse the pages themselves: no count of 1-4 in any table cell at protected levels."""
    publication = current_publication()
    suppressed = PublishedFigure.objects.filter(
        block__publications=publication,
        suppressed=True,
        withheld=False,
        area__level=Level.LSOA,
        period="r12",
        end_month=publication.latest_month,
    ).select_related("area", "category")[:5]
    assert suppressed, "expected some LSOA figures under the threshold"
    for figure in suppressed:
        area = figure.area
        response = client.get(f"{area.get_absolute_url()}?crime={figure.category.slug}")
        assert response.status_code == 200
        for cell in _soup(response).select("table.figures td.num"):
            assert not re.fullmatch(r"[1-4]", cell.get_text(strip=True))
        assert "fewer than 5" in _table(_soup(response))[area.code]


def test_cold_ward_page_uses_few_queries(london, client, django_assert_max_num_queries):
    from django.core.cache import cache

    cache.clear()
    # The page cache's one read of the current publication (once a second per process outside
    # tests), which the view renders from, then the view's five: the ward with its parents, the
    # map's shapes, every figure, the team and the page text. The shown categories are read
    # once per publication per process (here by the borough's page).
    with django_assert_max_num_queries(7):
        assert client.get("/borough/E09000017/hillingdon/").status_code == 200
    with django_assert_max_num_queries(6):
        assert client.get(f"/ward/{WARD}/heathrow-villages/").status_code == 200


def test_london_page_lists_boroughs(london, client):
    soup = _soup(client.get("/"))
    codes = set(_table(soup))
    assert len(codes) == 33 and all(code.startswith("E09") for code in codes)


@pytest.mark.parametrize("level", [Level.WARD, Level.LSOA])
def test_small_area_pages_offer_no_single_months_or_year_to_date(london, client, level):
    """Wards and LSOAs publish 12-month totals and whole financial years only; an old link to a
    month or the financial year to date shows the default view with a notice."""
    area = Area.objects.filter(level=level, boundary_set__is_current=True).order_by("code").first()
    url = area.get_absolute_url()
    page = client.get(url)
    assert page.status_code == 200
    assert b"period=month" not in page.content and b"period=fytd" not in page.content
    assert b"?period=fy" in page.content
    for period in ("month", "fytd"):
        response = client.get(url, {"period": period})
        assert response.status_code == 200
        soup = _soup(response)
        assert "not published for" in soup.select_one(".notice").get_text()
        assert soup.find("link", rel="canonical")["href"] == "http://testserver" + url
    borough = client.get("/borough/E09000017/hillingdon/").content
    assert b"period=month" in borough and b"period=fytd" in borough
