"""Fixtures for the crimestats importer tests.

`london_crime` is the real London crime data for the importer integration tests: the shared
`london` fixture (tests/conftest.py, the full `load_london`). TEMPORARY, while the areas loader
is being built: with CRIMESTATS_STANDIN_AREAS=1 it loads only the crime data, over stand-in
areas (square geometries; codes, names, parents and best-fit wards from the census and MPS
files), and removes them afterwards.
"""

import csv
import os
from pathlib import Path

import pytest
from django.conf import settings

from tests.crimestats.factories import make_london, square

FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crimestats"


@pytest.fixture
def tiny_london(db):
    return make_london()


@pytest.fixture
def fixtures_dir() -> Path:
    return FIXTURES


def _standin_areas(data_dir: Path) -> list:
    """Create stand-in London areas when no current LSOA set exists; return what was made."""
    from areas.models import Area, BoundarySet, Level

    if Area.objects.filter(level=Level.LSOA, boundary_set__is_current=True).exists():
        return []
    with open(data_dir / "census2021/london_lsoa21_census2021_population_households.csv") as f:
        lsoas = list(csv.DictReader(f))
    ward_file = data_dir / "crime/mps/MPS Ward Level Crime (most recent 24 months).csv"
    with open(ward_file, encoding="utf-8-sig", newline="") as f:
        wards = {row["WardCode"]: row["WardName"] for row in csv.DictReader(f)}
    ward_borough = {row["wd24cd"]: row["lad24cd"] for row in lsoas}
    sets = {
        level: BoundarySet.objects.create(
            level=level, name="stand-in", vintage="x", is_current=True
        )
        for level in Level
    }

    def area(level, code, name, n, **extra):
        slug = name.lower().replace(" ", "-")[:200]
        return Area(
            boundary_set=sets[level],
            level=level,
            code=code,
            name=name,
            slug=slug,
            geometry=square(n),
            **extra,
        )

    london = area(Level.REGION, "E12000007", "London", 0)
    london.save()
    boroughs = {row["lad24cd"]: row["lad24nm"] for row in lsoas}
    borough_areas = Area.objects.bulk_create(
        [
            area(Level.BOROUGH, c, n, i, parent=london)
            for i, (c, n) in enumerate(sorted(boroughs.items()))
        ]
    )
    by_code = {a.code: a for a in borough_areas}
    ward_areas = Area.objects.bulk_create(
        [
            area(Level.WARD, c, n, i, parent=by_code[ward_borough[c]])
            for i, (c, n) in enumerate(sorted(wards.items()))
        ]
    )
    ward_by_code = {a.code: a for a in ward_areas}
    Area.objects.bulk_create(
        [
            area(
                Level.LSOA,
                r["lsoa21cd"],
                r["lsoa21nm"],
                i,
                parent=by_code[r["lad24cd"]],
                best_fit_ward=ward_by_code.get(r["wd24cd"]),
            )
            for i, r in enumerate(lsoas)
        ],
        batch_size=1000,
    )
    return list(sets.values())


@pytest.fixture(scope="session")
def london_crime(request, django_db_setup, django_db_blocker):
    import time

    from crimestats.models import Category, MonthlyCount, Release
    from crimestats.services.london import load_london_crime

    if not os.environ.get("CRIMESTATS_STANDIN_AREAS"):
        request.getfixturevalue("london")
        yield None
        return

    data_dir = settings.CRIMEMAP_DATA_DIR
    with django_db_blocker.unblock():
        last_category = Category.objects.order_by("-id").values_list("id", flat=True).first() or 0
        last_release = Release.objects.order_by("-id").values_list("id", flat=True).first() or 0
        sets = _standin_areas(data_dir)
        started = time.perf_counter()
        summary = load_london_crime(data_dir=data_dir, progress=False)
        summary["seconds"] = round(time.perf_counter() - started, 1)
        print(f"\nload_london_crime: {summary}")
    yield summary
    with django_db_blocker.unblock():
        new_releases = Release.objects.filter(id__gt=last_release)
        MonthlyCount.objects.filter(release__in=new_releases).delete()
        new_releases.delete()
        Category.objects.filter(id__gt=last_category, parent__isnull=False).delete()
        Category.objects.filter(id__gt=last_category).delete()
        for bset in sets:  # areas cascade, with their denominators
            bset.areas.update(parent=None, best_fit_ward=None)
        for bset in sets:
            bset.delete()
