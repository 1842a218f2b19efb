"""Census denominators: LSOAs exact, wards by best fit, boroughs and London summed."""

import csv

import pytest

from areas.importers.errors import UploadError
from crimestats.importers.census import import_census
from crimestats.models import Denominator


def load(*paths):
    return import_census(paths=list(paths), log=lambda _: None, progress=False)


def denominators() -> dict[str, tuple[int, int]]:
    current = Denominator.objects.filter(area__boundary_set__is_current=True)
    return {d.area.code: (d.residents, d.households) for d in current.select_related("area")}


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
            "no residents figure for a current LSOA",
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
            "usual_residents",
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
