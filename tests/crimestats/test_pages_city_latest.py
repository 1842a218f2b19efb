"""On the real London data the City's pages end, by default, at the City of London Police's own
latest month (police.uk, months after the Met), with the twelve months before it."""

import csv

import pytest
from bs4 import BeautifulSoup

from crimestats.selectors import current_publication
from tests.crimestats.uploading import crime_dir

pytestmark = [pytest.mark.london, pytest.mark.django_db]

NOTE = "12 months to February 2025: the City of London Police publish later than the Met."


def city_burglaries(first: str, last: str) -> int:
    """Burglaries in the City's own LSOAs in the police.uk files from ``first`` to ``last``."""
    total = 0
    for path in sorted((crime_dir() / "police-uk" / "city-of-london").glob("*.csv")):
        if first <= path.name[:7] <= last:
            with path.open(newline="") as handle:
                total += sum(
                    1
                    for row in csv.DictReader(handle)
                    if row["Crime type"] == "Burglary"
                    and row["LSOA name"].startswith("City of London ")
                )
    return total


def test_the_citys_page_shows_its_latest_twelve_months_by_default(london, client):
    assert current_publication().latest_month.isoformat() == "2025-11-01"  # the Met's

    soup = BeautifulSoup(client.get("/borough/E09000001/city-of-london/").content, "html.parser")

    assert soup.select_one("#source-note").get_text(" ", strip=True).startswith(NOTE)
    assert soup.select_one("#headline-heading").get_text(strip=True) == "12 months to February 2025"
    burglary = soup.select_one("#card-burglary").find_parent("article")
    shown = burglary.select_one(".big-number").get_text(strip=True)
    assert shown == f"{city_burglaries('2024-03', '2025-02'):,}"


def test_a_city_lsoa_shows_the_same_months_and_a_met_borough_its_own(london, client):
    lsoa = client.get("/lsoa/E01032739/city-of-london-001f/", follow=True).content.decode()
    camden = client.get("/borough/E09000007/camden/").content.decode()

    assert NOTE in lsoa and "No data" not in lsoa.split('id="headline-heading"')[1][:2000]
    assert '<h2 id="headline-heading">12 months to November 2025</h2>' in camden
    assert 'id="source-note"' not in camden
