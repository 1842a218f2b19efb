"""The open-data CSV never hands a spreadsheet a formula: text cells that start with = + - @ get
a leading apostrophe; numbers stay numbers."""

import csv
import io

import pytest

from areas.models import Area
from crimestats import opendata
from crimestats.models import Publication

pytestmark = [pytest.mark.london, pytest.mark.django_db]

NAMES = {
    "E05013570": '=HYPERLINK("http://evil.example","x")',
    "E09000017": "+cmd|' /C calc'!A0",
    "E01002473": "-2+3",
    "E09000007": "@SUM(A1:A9)",
}


def _rows(rf, pk: int, codes: set[str]) -> list[dict]:
    response = opendata.figures_csv(rf.get("/"), pk)
    text = io.StringIO(b"".join(response.streaming_content).decode())
    return [row for row in csv.DictReader(text) if row["area_code"] in codes]


def test_formula_like_names_are_neutralised_and_numbers_kept(london, rf):
    for code, name in NAMES.items():
        Area.objects.filter(code=code, boundary_set__is_current=True).update(name=name)
    pk = Publication.objects.get(is_current=True).pk
    rows = _rows(rf, pk, set(NAMES))
    assert {row["area_code"] for row in rows} == set(NAMES)
    for row in rows:
        assert row["area_name"] == "'" + NAMES[row["area_code"]]
        for column in ("area_code", "level", "period", "end_month", "status"):
            assert not row[column].startswith("'"), (column, row[column])
        for column in ("count", "rate"):
            assert row[column] == "" or float(row[column]) >= 0, (column, row[column])
