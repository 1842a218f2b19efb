"""Census denominators: LSOAs exact, wards by best fit, boroughs and London summed."""

import csv

import pytest

from areas.importers.errors import UploadError
from crimestats.importers.census import import_census
from crimestats.models import Denominator
from tests.crimestats.factories import LSOAS


def load(*paths):
    return import_census(paths=list(paths), log=lambda _: None, progress=False)


def denominators() -> dict[str, tuple[int, int]]:
    current = Denominator.objects.filter(area__boundary_set__is_current=True)
    return {d.area.code: (d.residents, d.households) for d in current.select_related("area")}


def source_of(code: str) -> str:
    return Denominator.objects.get(area__code=code, area__boundary_set__is_current=True).source


def test_prepared_file(tiny_london, fixtures_dir):
    path = fixtures_dir / "census_prepared.csv"
    with open(path) as f:
        rows = {
            r["lsoa21cd"]: (int(r["usual_residents"]), int(r["households"]))
            for r in csv.DictReader(f)
        }

    result = load(path)

    def total(*codes):
        return tuple(sum(rows[c][i] for c in codes) for i in (0, 1))

    assert denominators() == {
        **rows,
        "E05000026": rows["E01000006"],  # best-fit LSOAs
        "E05000027": rows["E01000007"],
        "E05000040": rows["E01000100"],
        "E09000001": total("E01000001", "E01000002"),
        "E09000002": total("E01000006", "E01000007"),
        "E09000003": rows["E01000100"],
        "E12000007": total(*rows),
    }
    assert (result.london_residents, result.london_households) == total(*rows)
    assert result.written == {"lsoa": 5, "ward": 3, "borough": 3, "region": 1}
    assert Denominator.objects.get(area__code="E05000026").source.startswith(
        "sum of best-fit LSOAs, Census 2021"
    )


def test_reimport_is_unchanged(tiny_london, fixtures_dir):
    load(fixtures_dir / "census_prepared.csv")
    ids = set(Denominator.objects.values_list("id", flat=True))

    again = load(fixtures_dir / "census_prepared.csv")

    assert again.unchanged and again.message.endswith("already loaded (census_prepared.csv)")
    assert set(Denominator.objects.values_list("id", flat=True)) == ids


def test_nomis_bulk_files_keep_only_our_lsoas(tiny_london, fixtures_dir):
    result = load(fixtures_dir / "nomis_ts007a.csv", fixtures_dir / "nomis_ts054.csv")

    values = denominators()
    assert values["E01000002"] == (1384, 826)  # TS054's households, not the prepared median
    assert values["E12000007"] == (1473 + 1384 + 1800 + 1650 + 2010, 837 + 826 + 611 + 580 + 790)
    assert result.skipped_codes == 4  # Hartlepool and Anglesey, in each file
    assert "W01000001" not in values


def test_replacing_with_other_figures(tiny_london, fixtures_dir):
    load(fixtures_dir / "census_prepared.csv")

    result = load(fixtures_dir / "nomis_ts007a.csv", fixtures_dir / "nomis_ts054.csv")

    assert not result.unchanged
    assert denominators()["E01000002"] == (1384, 826)
    assert len(denominators()) == 12


@pytest.mark.parametrize(
    "text, reason, row, column",
    [
        (
            "lsoa21cd,usual_residents,households\nE01000001,1473,837\n",
            "no residents figure for 4 current LSOAs: the file must cover every LSOA",
            None,
            None,
        ),
        ("code,people\nE01000001,1\n", "missing column", 1, None),
        (
            "lsoa21cd,usual_residents,households\nE01000001,14x,837\n",
            "the count is not a number",
            2,
            "usual_residents",
        ),
        (
            "lsoa21cd,usual_residents,households\nE01000001,1,2\nE01000001,1,2\n",
            "already given by bad.csv row 2",
            3,
            "lsoa21cd",
        ),
    ],
)
def test_errors_write_nothing(tiny_london, fixtures_dir, tmp_path, text, reason, row, column):
    load(fixtures_dir / "census_prepared.csv")
    before = denominators()
    path = tmp_path / "bad.csv"
    path.write_text(text)

    with pytest.raises(UploadError) as raised:
        load(path)

    assert reason in raised.value.reason
    assert (raised.value.row, raised.value.column) == (row, column)
    assert denominators() == before


def nomis(path, measure_column: str, values: dict[str, int]) -> None:
    """A tiny file in the Nomis bulk layout, with one more (ignored) measure column."""
    lines = [f"date,geography,geography code,{measure_column},Other: Something"]
    lines += [f"2021,{LSOAS[code][0]},{code},{n},0" for code, n in values.items()]
    path.write_text("\n".join(lines) + "\n")


AGE_TOTAL = "Age: Total"
ALL_HOUSEHOLDS = "Tenure of household: Total: All households"


def test_one_nomis_measure_replaces_only_that_measure(tiny_london, fixtures_dir, tmp_path):
    load(fixtures_dir / "census_prepared.csv")
    before = denominators()
    residents = {code: 1000 + i for i, code in enumerate(LSOAS)}
    path = tmp_path / "census2021-ts007a-lsoa.csv"
    nomis(path, AGE_TOTAL, residents)

    result = load(path)

    after = denominators()
    assert {c: after[c] for c in LSOAS} == {c: (residents[c], before[c][1]) for c in LSOAS}
    assert after["E12000007"] == (sum(residents.values()), before["E12000007"][1])
    assert after["E09000002"] == (residents["E01000006"] + residents["E01000007"],) + (
        before["E09000002"][1],
    )
    assert after["E05000040"] == (residents["E01000100"], before["E05000040"][1])
    assert result.given == ["residents"] and result.kept == ["households"]
    assert result.changed == {"residents": 5, "households": 0}
    assert result.london_before == before["E12000007"]
    assert source_of("E01000001") == (
        "Census 2021 (residents: census2021-ts007a-lsoa.csv; households: census_prepared.csv)"
    )


def test_households_alone_after_residents_alone_keeps_both_sources(tiny_london, tmp_path):
    both = tmp_path / "both.csv"
    both.write_text(
        "lsoa21cd,usual_residents,households\n" + "".join(f"{code},10,5\n" for code in LSOAS)
    )
    load(both)
    ts007a, ts054 = tmp_path / "ts007a.csv", tmp_path / "ts054.csv"
    nomis(ts007a, AGE_TOTAL, dict.fromkeys(LSOAS, 20))
    nomis(ts054, ALL_HOUSEHOLDS, dict.fromkeys(LSOAS, 8))

    load(ts007a)
    result = load(ts054)

    assert denominators()["E01000001"] == (20, 8)
    assert denominators()["E12000007"] == (100, 40)
    assert result.changed == {"residents": 0, "households": 5}
    assert source_of("E09000001") == (
        "sum of LSOAs, Census 2021 (residents: ts007a.csv; households: ts054.csv)"
    )


@pytest.mark.parametrize(
    "column, given, missing, table",
    [
        (AGE_TOTAL, "residents", "households", "TS054"),
        (ALL_HOUSEHOLDS, "households", "residents", "TS007A"),
    ],
)
def test_one_measure_on_empty_denominators_says_which_table_to_add(
    tiny_london, tmp_path, column, given, missing, table
):
    Denominator.objects.all().delete()
    path = tmp_path / "nomis.csv"
    nomis(path, column, dict.fromkeys(LSOAS, 100))

    with pytest.raises(UploadError) as raised:
        load(path)

    error = raised.value
    assert error.file == "nomis.csv" and error.column == missing
    assert error.reason.startswith(f"the upload gives no {missing} figures")
    assert f"no current {missing} figure for 5 current LSOAs to keep" in error.reason
    assert f"upload Nomis table {table} " in error.reason
    assert error.value == ", ".join(sorted(LSOAS))
    assert not Denominator.objects.exists()


@pytest.mark.parametrize(
    "text, reason, row, column, value",
    [
        (
            "date,geography,Age: Total\n2021,City of London 001A,1473\n",
            "missing column: a Nomis file needs its LSOA codes in a 'geography code' column",
            1,
            "geography code",
            None,
        ),
        (
            "date,geography,geography code,Age: Total\n"
            "2021,City of London 001A,E01000001,1473\n"
            "2021,City of London 001B,E01000002,1 384\n",
            "the count is not a number",
            3,
            "Age: Total",
            "1 384",
        ),
        (
            "date,geography,geography code,Age: Total\n"
            "2021,City of London 001A,E01000001,1473\n"
            "2021,City of London 001A,E01000001,1473\n",
            "residents for this LSOA were already given by nomis-bad.csv row 2",
            3,
            "geography code",
            "E01000001",
        ),
        (
            "date,geography,geography code\n2021,City of London 001A,E01000001\n",
            "missing column: neither 'Age: Total' (TS007A) nor '...: All households' (TS054)",
            1,
            None,
            None,
        ),
    ],
)
def test_malformed_nomis_file_writes_nothing(
    tiny_london, fixtures_dir, tmp_path, text, reason, row, column, value
):
    load(fixtures_dir / "census_prepared.csv")
    before = denominators()
    path = tmp_path / "nomis-bad.csv"
    path.write_text(text)

    with pytest.raises(UploadError) as raised:
        load(path)

    error = raised.value
    assert (error.file, error.reason, error.row, error.column, error.value) == (
        "nomis-bad.csv",
        reason,
        row,
        column,
        value,
    )
    assert denominators() == before


def test_every_bad_row_of_a_nomis_file_is_reported(tiny_london, tmp_path):
    path = tmp_path / "nomis-bad.csv"
    nomis(path, AGE_TOTAL, dict.fromkeys(LSOAS, 100))
    path.write_text(path.read_text().replace(",100,", ",x,", 2))

    with pytest.raises(UploadError) as raised:
        load(path)

    assert [(e.row, e.value) for e in raised.value.errors] == [(2, "x"), (3, "x")]
