"""The police.uk street-level importer: counting records by LSOA, and the City of London rule."""

from datetime import date

import pytest

from areas.importers.errors import UploadError
from crimestats.importers.mps import import_mps_file
from crimestats.importers.policeuk import COLUMNS, import_policeuk_file
from crimestats.models import Category, CategoryAlias, CurrentMonth, MonthlyCount, Release
from crimestats.services.counts import covered_months, current_counts
from crimestats.sources import CITY_POLICE, MET

JAN = date(2024, 1, 1)
TABLES = (Release, MonthlyCount, CurrentMonth, Category, CategoryAlias)


def table_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def load(path):
    return import_policeuk_file(path=path, log=lambda _: None, progress=False)


def stored(release: Release) -> dict[tuple[str, str], int]:
    return {
        (mc.area.code, str(mc.category)): mc.count
        for mc in MonthlyCount.objects.filter(release=release).select_related(
            "area", "category__parent"
        )
    }


def record(
    month="2024-01",
    force=MET,
    code="E01000006",
    name="B&D 016A",
    crime="Burglary",
    lonlat="0.1,51.5",
):
    return f"x,{month},{force},{force},{lonlat},On or near X,{code},{name},{crime},Outcome,\n"


def record_2011(lonlat: str) -> str:
    """A City record with a 2011 LSOA code that is not in the tiny London's current set."""
    return record(force=CITY_POLICE, code="E01000003", name="City of London 001C", lonlat=lonlat)


HEADER = ",".join(COLUMNS) + "\n"


def test_city_file(tiny_london, fixtures_dir):
    result = load(fixtures_dir / "2024-01-city-of-london-street.csv")

    lsoa, borough = result.releases
    assert (lsoa.source, lsoa.force, lsoa.level) == ("police-uk", CITY_POLICE, "lsoa")
    assert (lsoa.first_month, lsoa.last_month, lsoa.row_count) == (JAN, JAN, 14)
    assert stored(lsoa) == {
        ("E01000001", "BURGLARY"): 3,
        ("E01000002", "BURGLARY"): 1,
        ("E01000001", "ROBBERY"): 2,
        ("E01000002", "VEHICLE OFFENCES"): 1,
        ("E01000001", "Other theft"): 2,
    }
    # The City's borough figure is the sum of its LSOAs, as a release of its own.
    assert (borough.level, borough.force, borough.checksum) == (
        "borough",
        CITY_POLICE,
        lsoa.checksum,
    )
    assert stored(borough) == {
        ("E09000001", "BURGLARY"): 4,
        ("E09000001", "ROBBERY"): 2,
        ("E09000001", "VEHICLE OFFENCES"): 1,
        ("E09000001", "Other theft"): 2,
    }
    assert covered_months(level="lsoa", source="police-uk", force=CITY_POLICE) == [JAN]
    assert covered_months(level="borough", source="police-uk", force=CITY_POLICE) == [JAN]


def test_city_file_reports_what_it_does_not_store(tiny_london, fixtures_dir):
    result = load(fixtures_dir / "2024-01-city-of-london-street.csv")

    assert result.warnings == [
        "2 records have no location (unlocated)",
        "1 record in LSOAs policed by another force, not stored (E09000002: 1)",
        "1 record with LSOA codes outside London",
        "1 record with 2011 LSOA codes not in the current (2021) set could not be placed, not "
        "stored (0 without coordinates, 1 in no current LSOA)",
        "new categories (hidden until shown): Other theft",
    ]
    assert result.releases[0].warnings == result.warnings
    other = Category.objects.get(name="Other theft", parent=None)
    assert other.shown is False


def test_2011_codes_are_placed_by_their_coordinates(tiny_london, fixtures_dir):
    """A pre-2022 file: records whose 2011 code is gone land in the current LSOA under their
    point; the force check still applies, and records that cannot be placed are counted."""
    result = load(fixtures_dir / "2021-06-city-of-london-street.csv")

    lsoa, borough = result.releases
    assert stored(lsoa) == {("E01000001", "BURGLARY"): 3, ("E01000002", "ROBBERY"): 1}
    assert stored(borough) == {("E09000001", "BURGLARY"): 3, ("E09000001", "ROBBERY"): 1}
    assert result.warnings == [
        "1 record in LSOAs policed by another force, not stored (E09000002: 1)",
        "4 records with 2011 LSOA codes not in the current (2021) set placed in current LSOAs "
        "by their coordinates (3 stored, 1 in LSOAs policed by another force)",
        "2 records with 2011 LSOA codes not in the current (2021) set could not be placed, not "
        "stored (1 without coordinates, 1 in no current LSOA)",
    ]


def test_crime_types_map_through_aliases(tiny_london, fixtures_dir):
    load(fixtures_dir / "2024-01-city-of-london-street.csv")
    burglary = Category.objects.get(name="BURGLARY", parent=None)
    a = tiny_london

    counts = current_counts(level="lsoa", categories=[burglary])

    assert counts == {
        (a["E01000001"].id, burglary.id, JAN): 3,
        (a["E01000002"].id, burglary.id, JAN): 1,
    }
    assert current_counts(level="borough", categories=[burglary]) == {
        (a["E09000001"].id, burglary.id, JAN): 4
    }


def test_idempotent(tiny_london, fixtures_dir):
    load(fixtures_dir / "2024-01-city-of-london-street.csv")
    before = table_counts()

    again = load(fixtures_dir / "2024-01-city-of-london-street.csv")

    assert not again.created and table_counts() == before


def test_a_later_download_of_the_same_month_replaces_it(tiny_london, fixtures_dir, tmp_path):
    first = load(fixtures_dir / "2024-01-city-of-london-street.csv").releases
    text = (fixtures_dir / "2024-01-city-of-london-street.csv").read_text()
    later = tmp_path / "2024-01-city-of-london-street.csv"
    later.write_text(text.replace("Under investigation", "Investigation complete"))

    second = load(later).releases

    current = dict(CurrentMonth.objects.filter(source="police-uk").values_list("level", "release"))
    assert current == {"lsoa": second[0].id, "borough": second[1].id}
    assert {r.id for r in first}.isdisjoint(current.values())


def test_met_file_stores_only_met_lsoas_and_leaves_mps_data_current(
    tiny_london, fixtures_dir, tmp_path
):
    mps = import_mps_file(path=fixtures_dir / "mps_lsoa.csv", log=lambda _: None, progress=False)
    path = tmp_path / "2024-01-metropolitan-street.csv"
    path.write_text(
        HEADER
        + record() * 3
        + record(code="E01000001", name="City of London 001A")  # the City's, not the Met's
        + record(crime="Robbery")
    )
    mps_before = current_counts(level="lsoa")

    result = load(path)

    (release,) = result.releases  # no borough release for the Met
    assert (release.force, release.level) == (MET, "lsoa")
    assert stored(release) == {("E01000006", "BURGLARY"): 3, ("E01000006", "ROBBERY"): 1}
    assert result.warnings == [
        "1 record in LSOAs policed by another force, not stored (E09000001: 1)"
    ]
    # The MPS release is still current for January: CurrentMonth is per source + force + level.
    assert (
        CurrentMonth.objects.get(source="mps", level="lsoa", month=JAN).release == (mps.releases[0])
    )
    assert current_counts(level="lsoa") == mps_before


BAD = {
    "missing-column": (
        HEADER.replace(",Crime type", ""),
        "missing column 'Crime type'",
        1,
        "Crime type",
        None,
    ),
    "two-months": (HEADER + record() + record(month="2024-02"), "one month", 3, "Month", "2024-02"),
    "bad-month": (HEADER + record(month="Jan 2024"), "YYYY-MM", 2, "Month", "Jan 2024"),
    "two-forces": (
        HEADER + record() + record(force=CITY_POLICE),
        "one force",
        3,
        "Reported by",
        CITY_POLICE,
    ),
    "bad-lsoa-code": (HEADER + record(code="E0100"), "not an LSOA code", 2, "LSOA code", "E0100"),
    "empty-type": (HEADER + record(crime=""), "empty value", 2, "Crime type", ""),
    "bad-longitude": (
        HEADER + record_2011("west,51.5"),
        "not a longitude",
        2,
        "Longitude",
        "west",
    ),
    "latitude-out-of-range": (
        HEADER + record_2011("-0.09,95"),
        "not a latitude",
        2,
        "Latitude",
        "95",
    ),
    "one-coordinate": (HEADER + record_2011(",51.5"), "empty value", 2, "Longitude", ""),
    "other-force": (
        HEADER + record(force="Kent Police"),
        "polices no London borough",
        2,
        "Reported by",
        "Kent Police",
    ),
}


@pytest.mark.parametrize("case", sorted(BAD))
def test_errors_write_nothing(tiny_london, tmp_path, case):
    text, reason, row, column, value = BAD[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    before = table_counts()

    with pytest.raises(UploadError) as raised:
        load(path)

    error = raised.value
    assert error.file == f"{case}.csv" and reason in error.reason
    assert (error.row, error.column, error.value) == (row, column, value)
    assert table_counts() == before
