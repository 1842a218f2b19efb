"""Safer Neighbourhoods teams: read and checked from the file; staff edits survive a reload."""

import csv
from pathlib import Path

import pytest
from django.conf import settings

from areas.importers.errors import UploadError
from areas.importers.snt import import_snt_teams, read_snt_file
from areas.models import SaferNeighbourhoodTeam

pytestmark = [pytest.mark.django_db]

FILE = Path(settings.CRIMEMAP_DATA_DIR) / "neighbourhoods" / "met_snt_neighbourhoods_679.csv"


def test_reads_all_679_teams():
    teams = read_snt_file(path=FILE)
    with open(FILE, newline="") as handle:
        rows = list(csv.DictReader(handle))
    assert len(teams) == len(rows) == 679
    assert {t["ward_code"] for t in teams} == {r["ward_code"] for r in rows}


def test_bad_ward_code_is_rejected(tmp_path):
    bad = tmp_path / "snt.csv"
    text = FILE.read_text().splitlines()
    fields = text[3].split(",")
    fields[1] = "X05" + fields[1][3:]
    text[3] = ",".join(fields)
    bad.write_text("\n".join(text))
    with pytest.raises(UploadError) as error:
        read_snt_file(path=bad)
    assert error.value.row == 4 and error.value.column == "ward_code"


def test_links_from_patterns_and_staff_edits_kept():
    import_snt_teams(path=FILE, log=lambda _: None)
    team = SaferNeighbourhoodTeam.objects.get(ward_code="E05009318")
    assert team.met_url == (
        "https://www.met.police.uk/a/your-area/met/tower-hamlets/blackwall-and-cubitt-town/"
    )
    team.met_url, team.phone, team.edited_by_staff = (
        "https://example.org/team/",
        "020 7000 0000",
        True,
    )
    team.save()
    again = import_snt_teams(path=FILE, log=lambda _: None)
    team.refresh_from_db()
    assert team.met_url == "https://example.org/team/" and team.phone == "020 7000 0000"
    assert again["snt_created"] == 0
