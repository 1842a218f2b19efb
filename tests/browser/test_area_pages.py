"""The ward page in a real browser: it renders, its map and table show the same areas."""

import pytest

pytestmark = [pytest.mark.london, pytest.mark.browser, pytest.mark.django_db]

WARD = "E05013570"  # Heathrow Villages, Hillingdon


def test_ward_page_map_and_table_agree(site, page, screenshots):
    response = page.goto(f"{site}/ward/{WARD}/heathrow-villages/")
    assert response.status == 200
    assert page.locator("h1").inner_text() == "Burglary in Heathrow Villages"

    shapes = page.locator("svg.choropleth a.area")
    rows = page.locator("table.figures tbody tr")
    shape_names = sorted(
        shapes.nth(i).get_attribute("aria-label").split(":")[0] for i in range(shapes.count())
    )
    row_names = sorted(rows.nth(i).locator("th").inner_text() for i in range(rows.count()))
    assert shapes.count() >= 2  # the ward and at least one neighbour
    assert shape_names == row_names
    assert page.locator("svg.choropleth path").count() == shapes.count()
    assert page.locator("table.figures tr.focus th").inner_text() == "Heathrow Villages"

    page.screenshot(path=screenshots / "ward-heathrow-villages.png", full_page=True)


def test_london_page_has_33_boroughs(site, page, screenshots):
    page.goto(site + "/")
    assert page.locator("svg.choropleth a.area").count() == 33
    assert page.locator("table.figures tbody tr").count() == 33
    page.screenshot(path=screenshots / "london.png", full_page=True)
