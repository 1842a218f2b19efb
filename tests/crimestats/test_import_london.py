"""The real London load: stored counts equal sums the test computes from the source files."""

import csv
from collections import Counter
from datetime import date
from pathlib import Path

import pytest
from django.conf import settings

from areas.models import Area
from crimestats.models import Category, Denominator, Release
from crimestats.services.counts import covered_months, current_counts
from crimestats.services.london import load_london_crime
from crimestats.sources import CITY_POLICE, CITY_SOURCE, MPS_SOURCE

pytestmark = [pytest.mark.london, pytest.mark.django_db]

DATA = Path(settings.CRIMEMAP_DATA_DIR)
MPS = DATA / "crime" / "mps"
SHOWN = ("BURGLARY", "ROBBERY", "VEHICLE OFFENCES")
MAR_2024, FEB_2025 = date(2024, 3, 1), date(2025, 2, 1)


def month(yyyymm: str) -> date:
    return date(int(yyyymm[:4]), int(yyyymm[4:]), 1)


def file_sums(name: str, code_column: str | None) -> Counter:
    """(area code or name, major, month) → count, straight from an MPS file with the csv module."""
    sums: Counter = Counter()
    with open(MPS / name, encoding="utf-8-sig", newline="") as f:
        reader = csv.reader(f)
        header = reader.__next__()
        major = next(i for i, h in enumerate(header) if h in ("Major Category", "MajorText"))
        area = header.index(code_column)
        months = [(i, month(h)) for i, h in enumerate(header) if h.isdigit() and len(h) == 6]
        for row in reader:
            for i, m in months:
                if row[i] != "0":
                    sums[(row[area], row[major], m)] += int(row[i])
    return sums


def simple(name: str) -> str:
    return name.lower().replace("&", "and").replace("-", " ")


def stored(level: str, sources=(MPS_SOURCE,)) -> Counter:
    """(area code, major name, month) → current count, through the selector."""
    codes = dict(
        Area.objects.filter(level=level, boundary_set__is_current=True).values_list("id", "code")
    )
    majors = dict(Category.objects.filter(parent=None).values_list("id", "name"))
    counts = current_counts(level=level, sources=sources)
    return Counter({(codes[a], majors[c], m): n for (a, c, m), n in counts.items()})


def london_totals(sums: Counter) -> Counter:
    totals: Counter = Counter()
    for (_, major, m), n in sums.items():
        totals[(major, m)] += n
    return totals


def test_lsoa_london_totals_match_the_readme(london):
    totals = london_totals(stored("lsoa"))

    assert [totals[(c, MAR_2024)] for c in SHOWN] == [4612, 2747, 8390]
    assert [totals[(c, FEB_2025)] for c in SHOWN] == [3710, 2440, 7048]


def test_lsoa_counts_equal_the_file(london):
    expected = file_sums("MPS LSOA Level Crime (most recent 24 months).csv", "LSOA Code")

    assert stored("lsoa") == expected
    assert covered_months(level="lsoa", source="mps")[0] == MAR_2024


def test_ward_counts_equal_the_files(london):
    expected = file_sums("MPS Ward Level Crime (Historical).csv", "WardCode")
    recent = file_sums("MPS Ward Level Crime (most recent 24 months).csv", "WardCode")
    # 2024-03 is incomplete in the ward file (47 crimes): reported, not current.
    expected.update({k: n for k, n in recent.items() if k[2] != MAR_2024})

    assert stored("ward") == expected
    months = covered_months(level="ward", source="mps")
    assert MAR_2024 not in months
    assert (months[0], months[-1], len(months)) == (date(2010, 4, 1), date(2025, 11, 1), 187)
    release = Release.objects.get(file_name="MPS Ward Level Crime (most recent 24 months).csv")
    assert release.warnings[0].startswith("2024-03: total 47 is far below")


def test_borough_and_london_counts_equal_the_files(london):
    boroughs = Area.objects.filter(level="borough", boundary_set__is_current=True)
    names = {simple(name): code for name, code in boroughs.values_list("name", "code")}
    expected_boroughs, expected_london = Counter(), Counter()
    for name in (
        "MPS Borough Level Crime (Historical).csv",
        "MPS Borough Level Crime (most recent 24 months).csv",
    ):
        for (borough, major, m), n in file_sums(name, "BoroughName").items():
            expected_london[("E12000007", major, m)] += n  # every row, "Unknown" included
            if simple(borough) in names:
                expected_boroughs[(names[simple(borough)], major, m)] += n

    assert stored("borough") == expected_boroughs
    assert stored("region") == expected_london


def test_city_counts_equal_the_police_uk_files(london):
    city_lsoas = set(
        Area.objects.filter(
            level="lsoa", parent__code="E09000001", boundary_set__is_current=True
        ).values_list("code", flat=True)
    )
    aliases = {"Burglary": "BURGLARY", "Robbery": "ROBBERY", "Vehicle crime": "VEHICLE OFFENCES"}
    expected_lsoa, expected_borough = Counter(), Counter()
    files = sorted((DATA / "crime" / "police-uk" / "city-of-london").glob("*.csv"))
    for path in files:
        with open(path, encoding="utf-8-sig", newline="") as f:
            for row in csv.DictReader(f):
                if row["LSOA code"] in city_lsoas:
                    major = aliases.get(row["Crime type"], row["Crime type"])
                    m = month(row["Month"].replace("-", ""))
                    expected_lsoa[(row["LSOA code"], major, m)] += 1
                    expected_borough[("E09000001", major, m)] += 1

    assert len(city_lsoas) == 6
    assert stored("lsoa", sources=[CITY_SOURCE]) == expected_lsoa
    assert stored("borough", sources=[CITY_SOURCE]) == expected_borough
    months = covered_months(level="lsoa", source="police-uk", force=CITY_POLICE)
    assert (months[0], months[-1], len(months)) == (date(2023, 1, 1), FEB_2025, 26)


def test_denominators(london):
    london = Denominator.objects.get(area__code="E12000007")

    assert (london.residents, london.households) == (8_799_631, 3_423_904)
    assert Denominator.objects.filter(area__level="lsoa").count() == 4994
    assert Denominator.objects.filter(area__level="borough").count() == 33


def test_second_load_changes_nothing(london):
    releases = Release.objects.count()

    summary = load_london_crime(data_dir=DATA, log=lambda _: None, progress=False)

    assert summary["files_loaded"] == 0 and summary["files_skipped"] == 31
    assert summary["denominators_written"] == 0
    assert Release.objects.count() == releases
