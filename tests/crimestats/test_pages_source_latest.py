"""Each area's default view ends at its own source's latest month: the City of London Police
publish on police.uk months after the Met, so the City's pages end earlier and say why.

On the tiny London: the Met's files run April 2024 – June 2025 (15 months), the City's
police.uk files April 2024 – March 2025 (12 months).
"""

from datetime import date

import pytest

from areas.models import Level
from crimestats.models import Category, Publication
from crimestats.periods import add_months
from crimestats.selectors import area_latest
from crimestats.services.publish import build_publication
from crimestats.sources import CITY_POLICE
from tests.crimestats.factories import write_test_release

pytestmark = [pytest.mark.django_db]

APRIL = date(2024, 4, 1)
MET_LATEST, CITY_LATEST = date(2025, 6, 1), date(2025, 3, 1)
CITY, CITY_LSOA, BARKING = "E09000001", "E01000001", "E09000002"
NOTE = "the City of London Police publish later than the Met."


@pytest.fixture
def published(tiny_london) -> Publication:
    areas = tiny_london
    burglary = Category.objects.get(shown=True, parent=None, slug="burglary")
    met = [add_months(APRIL, i) for i in range(15)]
    city = [add_months(APRIL, i) for i in range(12)]
    met_areas = {
        Level.WARD: ["E05000026", "E05000027", "E05000040"],
        Level.BOROUGH: [BARKING, "E09000003"],
        Level.REGION: ["E12000007"],
    }
    for level, codes in met_areas.items():
        counts = {(areas[code].id, burglary.id): [10] * len(met) for code in codes}
        write_test_release(level=level, counts=counts, months=met, name=f"mps-{level}")
    city_areas = {Level.LSOA: ["E01000001", "E01000002"], Level.BOROUGH: [CITY]}
    for level, codes in city_areas.items():
        counts = {(areas[code].id, burglary.id): [2] * len(city) for code in codes}
        write_test_release(
            source="police-uk",
            force=CITY_POLICE,
            level=level,
            counts=counts,
            months=city,
            name=f"police-uk-{level}",
        )
    return build_publication(log=lambda _: None)


def test_the_city_ends_at_its_own_latest_month(published, tiny_london):
    assert published.latest_month == MET_LATEST
    city = area_latest(publication=published, area=tiny_london[CITY])
    lsoa = area_latest(publication=published, area=tiny_london[CITY_LSOA])
    barking = area_latest(publication=published, area=tiny_london[BARKING])

    assert (city.month, lsoa.month, barking.month) == (CITY_LATEST, CITY_LATEST, MET_LATEST)
    assert city.note("12 months to March 2025") == f"12 months to March 2025: {NOTE}"
    assert barking.note("12 months to June 2025") == ""


def test_the_city_page_shows_its_latest_twelve_months(published, client):
    page = client.get(f"/borough/{CITY}/city-of-london/").content.decode()

    assert f'id="source-note">12 months to March 2025: {NOTE}' in page
    assert '<h2 id="headline-heading">12 months to March 2025</h2>' in page
    assert "No data" not in page.split('id="headline-heading"')[1].split("</article>")[0]
    assert ">24<" in page  # 2 burglaries a month for 12 months


def test_a_city_lsoa_page_and_its_map(published, client):
    page = client.get(f"/lsoa/{CITY_LSOA}/city-of-london-001a/").content.decode()
    geojson = client.get(f"/lsoa/{CITY_LSOA}/city-of-london-001a/map.geojson").json()

    assert f"12 months to March 2025: {NOTE}" in page
    assert geojson["period"] == "12 months to March 2025"
    assert geojson["source_note"] == f"12 months to March 2025: {NOTE}"


def test_a_met_page_ends_at_the_mets_latest_month_without_a_note(published, client):
    page = client.get(f"/borough/{BARKING}/barking-and-dagenham/").content.decode()

    assert '<h2 id="headline-heading">12 months to June 2025</h2>' in page
    assert 'id="source-note"' not in page
