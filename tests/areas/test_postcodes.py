"""Postcodes on the real data: each lands on the ward PostGIS places its Code-Point point in."""

import csv
from pathlib import Path

import pytest
from django.conf import settings
from django.db import connection

from areas.importers.errors import UploadError
from areas.importers.postcodes import import_postcodes, normalise, read_file
from areas.models import Postcode, PostcodeLoad

pytestmark = [pytest.mark.django_db]

DATA = Path(settings.CRIMEMAP_DATA_DIR) / "postcodes" / "codepoint-open-2025-10"


def test_normalise():
    assert normalise("sw1a 1aa") == normalise("SW1A1AA") == normalise(" Sw1A 1aA ") == "SW1A 1AA"
    assert normalise("e16an") == "E1 6AN"
    assert normalise("sw1a") == "SW1A"


def test_bad_row_is_rejected_with_its_place(tmp_path):
    bad = tmp_path / "x.csv"
    bad.write_text(
        '"SW1A 1AA",10,529090,179645,"E92000001","","","","E09000033","E05013806"\n'
        '"NOT A PC",10,1,2,"E92000001","","","","E09000033","E05013806"\n'
    )
    with pytest.raises(UploadError) as error:
        read_file(bad)
    assert (error.value.row, error.value.column, error.value.value) == (2, "Postcode", "NOT A PC")


def _sample(n: int = 40) -> list[tuple[str, int, int]]:
    rows = []
    for path in sorted((DATA / "Data" / "CSV").glob("*.csv")):
        with open(path, newline="") as handle:
            london = [r for r in csv.reader(handle) if r[8].startswith("E09")]
        rows += [(r[0], int(r[2]), int(r[3])) for r in london[:: max(1, len(london) // 3)][:3]]
    return rows[:n]


def _ward_by_sql(easting: int, northing: int) -> str | None:
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT a.code FROM areas_area a JOIN areas_boundaryset s ON s.id = a.boundary_set_id "
            "WHERE s.is_current AND a.level = 'ward' AND "
            "ST_Contains(a.geometry, ST_SetSRID(ST_MakePoint(%s, %s), 27700))",
            [easting, northing],
        )
        row = cursor.fetchone()
    return row[0] if row else None


@pytest.mark.london
def test_search_lands_on_the_ward_postgis_gives(london, client):
    sample = _sample()
    assert len(sample) >= 30
    checked = 0
    for postcode, easting, northing in sample:
        ward = _ward_by_sql(easting, northing)
        response = client.get("/search/", {"q": postcode.lower().replace(" ", "")})
        if ward is None:  # the City, or a point on no Met ward: goes to its LSOA
            assert response.status_code == 302 and "/lsoa/" in response["Location"], postcode
            continue
        assert response.status_code == 302, postcode
        assert response["Location"].startswith(f"/ward/{ward}/"), postcode
        checked += 1
    assert checked >= 25


@pytest.mark.london
@pytest.mark.parametrize("text", ["sw1a 1aa", "SW1A1AA", " Sw1A 1aA "])
def test_postcode_spellings(london, client, text):
    response = client.get("/search/", {"q": text})
    expected = Postcode.objects.get(postcode="SW1A 1AA").ward_code
    assert response.status_code == 302 and response["Location"].startswith(f"/ward/{expected}/")


@pytest.mark.london
def test_partial_postcode_lists_matches(london, client):
    response = client.get("/search/", {"q": "sw1a 1"})
    assert response.status_code == 200
    text = response.content.decode()
    assert "SW1A 1AA" in text
    expected = Postcode.objects.filter(compact__startswith="SW1A1").count()
    assert text.count('href="/search/?q=SW1A') == min(expected, 20)


@pytest.mark.london
@pytest.mark.parametrize("text", ["SL4 1NJ", "ZZ99 9ZZ", "sw1a 9zz"])
def test_outside_london_or_unknown_gets_a_message(london, client, text):
    response = client.get("/search/", {"q": text})
    assert response.status_code == 404
    assert "not a London postcode we know" in response.content.decode()


@pytest.mark.london
def test_every_london_postcode_loaded_once(london):
    expected = 0
    for path in sorted((DATA / "Data" / "CSV").glob("*.csv")):
        with open(path, newline="") as handle:
            expected += sum(
                1 for r in csv.reader(handle) if r[8].startswith("E09") and r[1] != "90"
            )
    assert Postcode.objects.count() == expected
    assert PostcodeLoad.objects.get().postcodes == expected
    again = import_postcodes(path=DATA, log=lambda _: None, progress=False)
    assert again["postcodes_loaded"] == 0


@pytest.mark.london
def test_use_my_location(london, client):
    # Buckingham Palace, roughly: St James's ward, by PostGIS on the full boundaries.
    response = client.get("/locate/", {"lat": "51.5014", "lon": "-0.1419"})
    assert response.status_code == 302 and response["Location"].startswith("/ward/E05013806/")
    assert client.post("/locate/", {"lat": "48.85", "lon": "2.35"}).status_code == 404
    assert client.get("/locate/", {"lat": "x"}).status_code == 400
    assert client.get("/locate/", {"lat": "95", "lon": "0"}).status_code == 400
