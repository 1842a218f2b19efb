"""The MPS London Datastore importer on tiny hand-made files and their broken variants."""

from datetime import date
from pathlib import Path

import pytest

from areas.importers.errors import UploadError
from crimestats.importers.mps import import_mps_file
from crimestats.models import Category, CategoryAlias, CurrentMonth, MonthlyCount, Release
from crimestats.services.counts import covered_months, current_counts

TABLES = (Release, MonthlyCount, CurrentMonth, Category, CategoryAlias)


def table_counts() -> dict[str, int]:
    return {model.__name__: model.objects.count() for model in TABLES}


def stored(release: Release) -> dict[tuple[str, str, date], int]:
    """A release's counts as (area code, "MAJOR / MINOR", month) → count."""
    return {
        (mc.area.code, str(mc.category), mc.month): mc.count
        for mc in MonthlyCount.objects.filter(release=release).select_related(
            "area", "category__parent"
        )
    }


def load(path: Path, **kwargs):
    return import_mps_file(path=path, log=lambda _: None, progress=False, **kwargs)


def m(yyyymm: str) -> date:
    return date(int(yyyymm[:4]), int(yyyymm[4:]), 1)


def major(name: str) -> Category:
    return Category.objects.get(name=name, parent=None)


def test_lsoa_file(tiny_london, fixtures_dir):
    result = load(fixtures_dir / "mps_lsoa.csv")

    assert result.created and result.rows_read == 6
    (release,) = result.releases
    assert (release.source, release.force, release.level) == (
        "mps",
        "Metropolitan Police Service",
        "lsoa",
    )
    assert (release.first_month, release.last_month) == (m("202401"), m("202404"))
    assert release.layout == "mps-24-months" and release.row_count == 6
    assert len(release.checksum) == 64
    # Only non-zero cells are stored, at the minor category the file gives.
    assert stored(release) == {
        ("E01000006", "BURGLARY / RES BURGLARY OF A HOME", m("202401")): 1,
        ("E01000006", "BURGLARY / RES BURGLARY OF A HOME", m("202403")): 2,
        ("E01000006", "BURGLARY / BURGLARY - RESIDENTIAL", m("202402")): 1,
        ("E01000007", "VEHICLE OFFENCES / THEFT FROM A VEHICLE", m("202401")): 3,
        ("E01000007", "VEHICLE OFFENCES / THEFT FROM A VEHICLE", m("202402")): 1,
        ("E01000007", "VEHICLE OFFENCES / THEFT FROM A VEHICLE", m("202404")): 2,
        ("E01000007", "THEFT / OTHER THEFT", m("202401")): 5,
        ("E01000007", "THEFT / OTHER THEFT", m("202402")): 4,
        ("E01000007", "THEFT / OTHER THEFT", m("202403")): 6,
        ("E01000007", "THEFT / OTHER THEFT", m("202404")): 3,
        ("E01000100", "BURGLARY / RES BURGLARY OF A HOME", m("202402")): 2,
        ("E01000100", "BURGLARY / RES BURGLARY OF A HOME", m("202403")): 1,
        ("E01000100", "BURGLARY / RES BURGLARY OF A HOME", m("202404")): 1,
    }
    assert result.counts_written == 13
    assert covered_months(level="lsoa") == [m("202401"), m("202402"), m("202403"), m("202404")]
    assert covered_months(level="ward") == []


def test_new_categories_are_created_hidden_and_reported(tiny_london, fixtures_dir):
    result = load(fixtures_dir / "mps_lsoa.csv")

    assert result.new_categories == ["THEFT", "THEFT / OTHER THEFT"]
    theft = major("THEFT")
    assert theft.shown is False
    assert Category.objects.get(name="OTHER THEFT", parent=theft).shown is False
    assert any("new categories" in w for w in result.releases[0].warnings)
    # Seeded categories are reused, not duplicated.
    assert major("BURGLARY").shown is True
    assert Category.objects.filter(name="BURGLARY - RESIDENTIAL").count() == 1


def test_current_counts_sum_minors_into_majors(tiny_london, fixtures_dir):
    load(fixtures_dir / "mps_lsoa.csv")
    burglary = major("BURGLARY")
    a = tiny_london

    counts = current_counts(level="lsoa", categories=[burglary])

    assert counts == {
        (a["E01000006"].id, burglary.id, m("202401")): 1,
        (a["E01000006"].id, burglary.id, m("202402")): 1,  # BURGLARY - RESIDENTIAL
        (a["E01000006"].id, burglary.id, m("202403")): 2,
        (a["E01000100"].id, burglary.id, m("202402")): 2,
        (a["E01000100"].id, burglary.id, m("202403")): 1,
        (a["E01000100"].id, burglary.id, m("202404")): 1,
    }
    everything = current_counts(level="lsoa")
    assert sum(everything.values()) == 1 + 1 + 2 + 6 + 18 + 4
    with pytest.raises(ValueError):
        current_counts(level="lsoa", categories=[Category.objects.filter(parent=burglary)[0]])


def test_ward_file_with_crlf_and_heathrow_rule(tiny_london, fixtures_dir):
    assert b"\r\n" in (fixtures_dir / "mps_ward.csv").read_bytes()

    result = load(fixtures_dir / "mps_ward.csv")

    (release,) = result.releases
    assert release.level == "ward"
    assert stored(release) == {
        ("E05000026", "BURGLARY / RES BURGLARY OF A HOME", m("202402")): 2,
        ("E05000026", "BURGLARY / RES BURGLARY OF A HOME", m("202403")): 1,
        ("E05000026", "ROBBERY / ROBBERY OF PERSONAL PROPERTY", m("202402")): 1,
        ("E05000026", "ROBBERY / ROBBERY OF PERSONAL PROPERTY", m("202404")): 3,
        # Alibon's two rows under different borough names are summed.
        ("E05000027", "BURGLARY / RES BURGLARY OF A HOME", m("202402")): 1,
        ("E05000027", "BURGLARY / RES BURGLARY OF A HOME", m("202404")): 4,
        ("E05000040", "VEHICLE OFFENCES / THEFT FROM A VEHICLE", m("202403")): 5,
        ("E05000040", "VEHICLE OFFENCES / THEFT FROM A VEHICLE", m("202404")): 1,
    }
    assert any(w.startswith("E05000027: 1 rows repeat") for w in release.warnings)


def test_borough_file_maps_names_and_writes_london(tiny_london, fixtures_dir):
    result = load(fixtures_dir / "mps_borough.csv")

    borough, region = result.releases
    assert (borough.level, region.level) == ("borough", "region")
    assert borough.checksum == region.checksum
    assert stored(borough) == {
        ("E09000002", "BURGLARY / RES BURGLARY OF A HOME", m("202401")): 3,
        ("E09000002", "BURGLARY / RES BURGLARY OF A HOME", m("202402")): 4,
        ("E09000002", "BURGLARY / RES BURGLARY OF A HOME", m("202403")): 5,
        ("E09000002", "ROBBERY / ROBBERY OF PERSONAL PROPERTY", m("202401")): 2,
        ("E09000002", "ROBBERY / ROBBERY OF PERSONAL PROPERTY", m("202403")): 1,
        ("E09000003", "BURGLARY / RES BURGLARY OF A HOME", m("202401")): 1,
        ("E09000003", "BURGLARY / RES BURGLARY OF A HOME", m("202402")): 1,
        ("E09000003", "BURGLARY / RES BURGLARY OF A HOME", m("202403")): 1,
    }
    # London = every row, "Unknown" included.
    assert stored(region) == {
        ("E12000007", "BURGLARY / RES BURGLARY OF A HOME", m("202401")): 4,
        ("E12000007", "BURGLARY / RES BURGLARY OF A HOME", m("202402")): 7,
        ("E12000007", "BURGLARY / RES BURGLARY OF A HOME", m("202403")): 6,
        ("E12000007", "ROBBERY / ROBBERY OF PERSONAL PROPERTY", m("202401")): 3,
        ("E12000007", "ROBBERY / ROBBERY OF PERSONAL PROPERTY", m("202403")): 1,
    }
    assert "'Unknown' is not a borough: its 3 crimes count in London only" in borough.warnings
    assert covered_months(level="region") == [m("202401"), m("202402"), m("202403")]
    burglary = major("BURGLARY")
    london = current_counts(level="region", categories=[burglary])
    assert london == {
        (tiny_london["E12000007"].id, burglary.id, m("202401")): 4,
        (tiny_london["E12000007"].id, burglary.id, m("202402")): 7,
        (tiny_london["E12000007"].id, burglary.id, m("202403")): 6,
    }


def test_import_is_idempotent(tiny_london, fixtures_dir):
    first = load(fixtures_dir / "mps_lsoa.csv")
    before = table_counts()

    again = load(fixtures_dir / "mps_lsoa.csv")

    assert not again.created
    assert again.message == "mps_lsoa.csv: already loaded"
    assert again.releases == first.releases
    assert table_counts() == before


def test_bom_and_crlf_are_accepted(tiny_london, fixtures_dir, tmp_path):
    text = (fixtures_dir / "mps_lsoa.csv").read_text()
    variant = tmp_path / "lsoa-bom-crlf.csv"
    variant.write_bytes(b"\xef\xbb\xbf" + text.replace("\n", "\r\n").encode())

    plain = load(fixtures_dir / "mps_lsoa.csv")
    bom = load(variant)

    assert bom.created
    assert stored(bom.releases[0]) == stored(plain.releases[0])


def test_second_release_replaces_the_months_it_covers(tiny_london, fixtures_dir, tmp_path):
    first = load(fixtures_dir / "mps_lsoa.csv").releases[0]
    restated = tmp_path / "lsoa-later.csv"
    restated.write_text(
        "LSOA Code,LSOA Name,Borough,Major Category,Minor Category,202403,202404,202405\n"
        "E01000006,B&D 016A,E09000002,BURGLARY,RES BURGLARY OF A HOME,7,8,9\n"
    )

    second = load(restated).releases[0]

    current = dict(CurrentMonth.objects.filter(level="lsoa").values_list("month", "release"))
    assert current == {
        m("202401"): first.id,
        m("202402"): first.id,
        m("202403"): second.id,
        m("202404"): second.id,
        m("202405"): second.id,
    }
    burglary = major("BURGLARY")
    counts = current_counts(level="lsoa", categories=[burglary])
    e06, e100 = tiny_london["E01000006"].id, tiny_london["E01000100"].id
    assert counts == {
        (e06, burglary.id, m("202401")): 1,
        (e06, burglary.id, m("202402")): 1,
        (e06, burglary.id, m("202403")): 7,
        (e06, burglary.id, m("202404")): 8,
        (e06, burglary.id, m("202405")): 9,
        (e100, burglary.id, m("202402")): 2,
        # E01000100's 2024-03/04 came from the first release, which is no longer current.
    }
    # The old release is kept for the record.
    assert MonthlyCount.objects.filter(release=first).count() == 13


def test_incomplete_month_is_warned_and_not_made_current(tiny_london, tmp_path):
    path = tmp_path / "ward-incomplete.csv"
    path.write_text(
        "MajorText,MinorText,WardName,WardCode,LookUp_BoroughName,"
        "202401,202402,202403,202404,202405\n"
        "BURGLARY,RES BURGLARY OF A HOME,Abbey,E05000026,B&D,1,30,28,31,33\n"
        "ROBBERY,ROBBERY OF PERSONAL PROPERTY,Abbey,E05000026,B&D,0,12,15,11,10\n"
    )

    release = load(path).releases[0]

    assert release.warnings == [
        "2024-01: total 1 is far below its neighbouring months' (median 42); "
        "treated as incomplete and not made current"
    ]
    assert covered_months(level="ward") == [m("202402"), m("202403"), m("202404"), m("202405")]
    # Its counts are stored for the record, but no current figure reads them.
    assert MonthlyCount.objects.filter(release=release, month=m("202401")).count() == 1
    assert all(month != m("202401") for (_, _, month) in current_counts(level="ward"))


def test_layout_detected_from_header_not_file_name(tiny_london, tmp_path):
    path = tmp_path / "MPS LSOA Level Crime (Historical).csv"
    months = [f"{y}{mo:02d}" for y in (2020, 2021, 2022) for mo in range(1, 13)]
    path.write_text(
        "major text,MINOR TEXT,Borough Name," + ",".join(months) + "\n"
        "BURGLARY,RES BURGLARY OF A HOME,Barnet," + ",".join(["1"] * 36) + "\n"
    )

    borough, region = load(path).releases

    assert borough.level == "borough" and borough.layout == "mps-historical"
    assert (borough.first_month, borough.last_month) == (m("202001"), m("202212"))


# Broken variants: each raises UploadError naming file, row and column, and writes nothing.

GOOD_LSOA = (
    "LSOA Code,LSOA Name,Borough,Major Category,Minor Category,202401,202402\n"
    "E01000006,B&D 016A,E09000002,BURGLARY,RES BURGLARY OF A HOME,1,2\n"
    "E01000007,B&D 015B,E09000002,ROBBERY,ROBBERY OF PERSONAL PROPERTY,3,4\n"
)
BAD_FILES = {
    "missing-column": (
        GOOD_LSOA.replace(",Minor Category", "").replace(",RES BURGLARY OF A HOME", "")
        .replace(",ROBBERY OF PERSONAL PROPERTY", ""),
        "missing column 'Minor Category'", 1, None, None,
    ),
    "unknown-code": (
        GOOD_LSOA.replace("E01000007", "E01999999"),
        "unknown LSOA code", 3, "LSOA Code", "E01999999",
    ),
    "wrong-level": (
        GOOD_LSOA.replace("E01000007", "E05000026"),
        "a Ward code where LSOA codes (E01…) are expected", 3, "LSOA Code", "E05000026",
    ),
    "not-a-code": (
        GOOD_LSOA.replace("E01000007", "Barnet"), "not an area code", 3, "LSOA Code", "Barnet",
    ),
    "non-numeric": (
        GOOD_LSOA.replace(",3,4", ",3,x"), "the count is not a number", 3, "202402", "x",
    ),
    "negative": (
        GOOD_LSOA.replace(",1,2", ",-1,2"), "a count cannot be negative", 2, "202401", "-1",
    ),
    "fractional": (
        GOOD_LSOA.replace(",3,4", ",3.5,4"), "a count must be a whole number", 3, "202401",
        "3.5",
    ),
    "empty-count": (GOOD_LSOA.replace(",3,4", ",,4"), "the count is empty", 3, "202401", ""),
    "month-not-yyyymm": (
        GOOD_LSOA.replace("202402", "2024-02"),
        "a month column must be named YYYYMM", 1, "2024-02", None,
    ),
    "months-not-contiguous": (
        GOOD_LSOA.replace("202402", "202404"),
        "months must be consecutive and in order", 1, "202404", None,
    ),
    "duplicate-row": (
        GOOD_LSOA + "E01000006,B&D 016A,E09000002,BURGLARY,RES BURGLARY OF A HOME,0,0\n",
        "duplicate row: the same area and category as row 2", 4, "LSOA Code", "E01000006",
    ),
    "short-row": (
        GOOD_LSOA + "E01000006,B&D 016A,E09000002,BURGLARY\n",
        "the row has 4 fields where the header has 7", 4, None, None,
    ),
    "empty-category": (
        GOOD_LSOA.replace("ROBBERY,ROBBERY", ",ROBBERY"), "empty value", 3, "Major Category", "",
    ),
    "no-rows": (GOOD_LSOA.splitlines()[0] + "\n", "no data rows", 2, None, None),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_FILES))
def test_errors_name_file_row_and_column_and_write_nothing(tiny_london, tmp_path, case):
    text, reason, row, column, value = BAD_FILES[case]
    path = tmp_path / f"{case}.csv"
    path.write_text(text)
    before = table_counts()

    with pytest.raises(UploadError) as raised:
        load(path)

    error = raised.value
    assert error.file == f"{case}.csv"
    assert reason in error.reason
    assert (error.row, error.column, error.value) == (row, column, value)
    message = str(error)
    assert message.startswith(f"{case}.csv") and (row is None or f"row {row}" in message)
    assert column is None or repr(column) in message
    assert table_counts() == before


def test_error_late_in_file_writes_nothing(tiny_london, fixtures_dir, tmp_path):
    """A bad last row (after new categories were seen) leaves no release, count or category."""
    text = (fixtures_dir / "mps_lsoa.csv").read_text()
    path = tmp_path / "late.csv"
    path.write_text(text + "E01000100,Barnet 030A,E09000003,DRUGS,NEW MINOR,0,1,2,x\n")
    before = table_counts()

    with pytest.raises(UploadError, match=r"late.csv, row 8, column '202404'"):
        load(path)

    assert table_counts() == before


def test_not_utf8_is_an_error(tiny_london, tmp_path):
    path = tmp_path / "latin1.csv"
    path.write_bytes(GOOD_LSOA.replace("B&D 015B", "Bärking").encode("latin-1"))

    with pytest.raises(UploadError, match="not UTF-8") as raised:
        load(path)

    assert raised.value.row == 3


def test_several_non_boroughs_add_up_into_london(tiny_london, tmp_path):
    path = tmp_path / "borough-historical.csv"
    path.write_text(
        "MajorText,MinorText,BoroughName,202401\n"
        "BURGLARY,RES BURGLARY OF A HOME,Barnet,5\n"
        "BURGLARY,RES BURGLARY OF A HOME,Unknown,2\n"
        "BURGLARY,RES BURGLARY OF A HOME,London Heathrow and London City Airports,3\n"
    )

    borough, region = load(path).releases

    assert stored(region) == {("E12000007", "BURGLARY / RES BURGLARY OF A HOME", m("202401")): 10}
    assert stored(borough) == {("E09000003", "BURGLARY / RES BURGLARY OF A HOME", m("202401")): 5}
    assert borough.warnings == [
        "'London Heathrow and London City Airports' is not a borough: its 3 crimes count in "
        "London only",
        "'Unknown' is not a borough: its 2 crimes count in London only",
        "Met boroughs with no rows in this file: E09000002",
    ]


def test_counts_read_through_the_query_cache_are_fresh_after_copy(tiny_london, fixtures_dir):
    tiny = MonthlyCount.objects.filter(area__boundary_set__is_current=True)
    assert tiny.count() == 0  # cached by django-cachalot

    load(fixtures_dir / "mps_lsoa.csv")

    assert tiny.all().count() == 13
