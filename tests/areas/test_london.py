"""The real London geography, checked against the source files read here with GDAL and csv."""

import csv
import gzip
import json
from pathlib import Path

import pytest
import shapely
from django.conf import settings
from django.contrib.gis.gdal import DataSource
from django.db import connection
from django.db.models import F

from areas.models import Area, BoundarySet, Level
from areas.services.london import load_london_areas
from areas.services.neighbours import neighbour_pairs

pytestmark = [pytest.mark.london, pytest.mark.django_db]

DATA = Path(settings.CRIMEMAP_DATA_DIR)
LOOKUP = DATA / "lookups" / "LSOA_(2021)_to_Electoral_Ward_(2024)_to_LAD_(2024).csv"
WARD_DIR = DATA / "boundaries" / "wards" / "policeuk-neighbourhoods-2025-02" / "metropolitan"
GEOJSON_LIMIT = 600 * 1024


def current(level: str):
    return Area.objects.filter(boundary_set__is_current=True, level=level)


def lookup_rows() -> list[dict[str, str]]:
    with open(LOOKUP, encoding="utf-8-sig", newline="") as f:
        return [row for row in csv.DictReader(f) if row["LAD24CD"].startswith("E09")]


def sql(query: str, params=()) -> list[tuple]:
    with connection.cursor() as cursor:
        cursor.execute(query, params)
        return cursor.fetchall()


def test_exact_codes_and_names_of_every_level(london):
    assert list(current(Level.REGION).values_list("code", "name", "parent")) == [
        ("E12000007", "London", None)
    ]
    boroughs = {}
    for feature in DataSource(str(DATA / "boundaries/boroughs/london-2021-lad22-gen20.shp"))[0]:
        boroughs[feature.get("LAD22CD")] = feature.get("LAD22NM")
    assert len(boroughs) == 33
    assert dict(current(Level.BOROUGH).values_list("code", "name")) == boroughs
    assert set(current(Level.BOROUGH).values_list("parent__code", flat=True)) == {"E12000007"}

    lsoas = {}
    for path in sorted((DATA / "boundaries/lsoa/LB_shp").glob("*.shp")):
        for feature in DataSource(str(path))[0]:
            lsoas[feature.get("lsoa21cd")] = (feature.get("lsoa21nm"), feature.get("lad22cd"))
    assert len(lsoas) == 4994
    assert {
        code: (name, parent)
        for code, name, parent in current(Level.LSOA).values_list("code", "name", "parent__code")
    } == lsoas

    names = {row["WD24CD"]: (row["WD24NM"], row["LAD24CD"]) for row in lookup_rows()}
    ward_codes = {p.stem.removesuffix("N") for p in WARD_DIR.glob("*.kml")}
    assert len(ward_codes) == 679
    assert {
        code: (name, parent)
        for code, name, parent in current(Level.WARD).values_list("code", "name", "parent__code")
    } == {code: names[code] for code in ward_codes}


def test_heathrow_villages_is_in_hillingdon(london):
    ward = current(Level.WARD).get(code="E05013570")
    assert (ward.name, ward.slug, ward.parent.code) == (
        "Heathrow Villages",
        "heathrow-villages",
        "E09000017",
    )


def test_best_fit_wards_follow_the_lookup(london):
    loaded = set(current(Level.WARD).values_list("code", flat=True))
    expected = {
        row["LSOA21CD"]: row["WD24CD"] if row["WD24CD"] in loaded else None for row in lookup_rows()
    }
    stored = dict(current(Level.LSOA).values_list("code", "best_fit_ward__code"))
    assert stored == expected
    # The City's LSOAs point at its five wards, which have no boundaries here.
    assert sorted(code for code, ward in stored.items() if ward is None) == sorted(
        row["LSOA21CD"] for row in lookup_rows() if row["LAD24CD"] == "E09000001"
    )


def test_every_geometry_is_valid(london):
    rows = sql(
        "SELECT a.level, count(*), "
        "count(*) FILTER (WHERE NOT ST_IsValid(a.geometry)), "
        "count(*) FILTER (WHERE a.display_geometry IS NULL OR NOT ST_IsValid(a.display_geometry)), "
        "count(*) FILTER (WHERE a.svg_path NOT LIKE 'M%%z') "
        "FROM areas_area a JOIN areas_boundaryset s ON s.id = a.boundary_set_id "
        "WHERE s.is_current GROUP BY a.level ORDER BY a.level"
    )
    assert rows == [
        ("borough", 33, 0, 0, 0),
        ("lsoa", 4994, 0, 0, 0),
        ("region", 1, 0, 0, 0),
        ("ward", 679, 0, 0, 0),
    ]


def test_every_lsoa_is_inside_its_borough_and_boroughs_inside_london(london):
    assert sql(
        "SELECT count(*) FROM areas_area l JOIN areas_area b ON b.id = l.parent_id "
        "JOIN areas_boundaryset s ON s.id = l.boundary_set_id "
        "WHERE s.is_current AND l.level = 'lsoa' AND ST_CoveredBy(l.geometry, b.geometry)"
    ) == [(4994,)]
    assert sql(
        "SELECT count(*) FROM areas_area b JOIN areas_area r ON r.id = b.parent_id "
        "JOIN areas_boundaryset s ON s.id = b.boundary_set_id "
        "WHERE s.is_current AND b.level = 'borough' AND ST_CoveredBy(b.geometry, r.geometry)"
    ) == [(33,)]
    # A borough is exactly its LSOAs: same area, to the square metre.
    rows = sql(
        "SELECT b.code, ST_Area(b.geometry), sum(ST_Area(l.geometry)) FROM areas_area l "
        "JOIN areas_area b ON b.id = l.parent_id JOIN areas_boundaryset s "
        "ON s.id = l.boundary_set_id WHERE s.is_current AND l.level = 'lsoa' GROUP BY b.id"
    )
    assert len(rows) == 33
    assert all(abs(borough - lsoas) < 1 for _, borough, lsoas in rows)


def test_wards_are_a_clean_coverage(london):
    wkb = sql(
        "SELECT ST_AsBinary(a.geometry) FROM areas_area a JOIN areas_boundaryset s "
        "ON s.id = a.boundary_set_id WHERE s.is_current AND a.level = 'ward'"
    )
    wards = shapely.from_wkb([bytes(row[0]) for row in wkb])
    assert len(wards) == 679
    assert bool(shapely.coverage_is_valid(wards))


@pytest.mark.parametrize("level", [Level.BOROUGH, Level.WARD, Level.LSOA])
def test_display_neighbours_equal_full_neighbours(london, level):
    boundary_set = BoundarySet.objects.get(level=level, is_current=True)
    full = neighbour_pairs(boundary_set=boundary_set)
    assert neighbour_pairs(boundary_set=boundary_set, column="display_geometry") == full
    stored = set(
        Area.neighbours.through.objects.filter(
            from_area__boundary_set=boundary_set, from_area_id__lt=F("to_area_id")
        ).values_list("from_area_id", "to_area_id")
    )
    assert stored == full
    # Every area of these levels has a neighbour (none is an island in London).
    assert len({a for pair in full for a in pair}) == boundary_set.areas.count()


def test_london_wide_lsoa_geojson_is_small_enough(london):
    features = [
        {"type": "Feature", "properties": {"code": code, "name": name}, "geometry": json.loads(g)}
        for code, name, g in sql(
            "SELECT a.code, a.name, ST_AsGeoJSON(a.display_geometry, 5) FROM areas_area a "
            "JOIN areas_boundaryset s ON s.id = a.boundary_set_id "
            "WHERE s.is_current AND a.level = 'lsoa' ORDER BY a.code"
        )
    ]
    assert len(features) == 4994
    body = json.dumps({"type": "FeatureCollection", "features": features}, separators=(",", ":"))
    size = len(gzip.compress(body.encode(), compresslevel=6))
    print(f"London-wide LSOA GeoJSON: {len(body):,} bytes, {size:,} gzipped")
    assert size <= GEOJSON_LIMIT


def test_a_second_load_changes_nothing(london):
    before = list(BoundarySet.objects.order_by("id").values_list("id", "is_current", "checksum"))
    summary = load_london_areas(data_dir=DATA, log=lambda _: None, progress=False)
    assert summary == {
        "region": 1,
        "boroughs": 33,
        "wards": 679,
        "lsoas": 4994,
        "loaded_sets": 0,
        "skipped_sets": 4,
        "display_neighbour_mismatches": 0,
    }
    after = list(BoundarySet.objects.order_by("id").values_list("id", "is_current", "checksum"))
    assert after == before
