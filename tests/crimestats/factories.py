"""A tiny London for importer tests: London, three boroughs, three wards, five LSOAs.

Geometries are simple squares (the importers never look at them). The test database may also
hold the session's real London load, so make_london first sets it aside inside the test's
transaction (the rollback restores it): current boundary sets are demoted, current months
forgotten, and categories the real files created (hidden ones) removed.
"""

from hashlib import sha256

from django.contrib.gis.geos import MultiPolygon, Polygon
from django.db import connection

from areas.models import Area, BoundarySet, Level
from crimestats.importers.writer import ReleaseData, write_release
from crimestats.models import CurrentMonth
from crimestats.sources import MET

BOROUGHS = {
    "E09000001": "City of London",
    "E09000002": "Barking and Dagenham",
    "E09000003": "Barnet",
}
WARDS = {  # code: (name, borough)
    "E05000026": ("Abbey", "E09000002"),
    "E05000027": ("Alibon", "E09000002"),
    "E05000040": ("Barnet Vale", "E09000003"),
}
LSOAS = {  # code: (name, borough, best-fit ward)
    "E01000001": ("City of London 001A", "E09000001", None),
    "E01000002": ("City of London 001B", "E09000001", None),
    "E01000006": ("Barking and Dagenham 016A", "E09000002", "E05000026"),
    "E01000007": ("Barking and Dagenham 015B", "E09000002", "E05000027"),
    "E01000100": ("Barnet 030A", "E09000003", "E05000040"),
}


def square(n: int, size: float = 100.0) -> MultiPolygon:
    x, y = 530_000 + n * size, 180_000
    ring = ((x, y), (x + size, y), (x + size, y + size), (x, y + size), (x, y))
    return MultiPolygon(Polygon(ring), srid=27700)


def boundary_set(level: str) -> BoundarySet:
    BoundarySet.objects.filter(level=level, is_current=True).update(is_current=False)
    return BoundarySet.objects.create(
        level=level, name=f"test {level}", vintage="test", is_current=True
    )


def make_area(bset: BoundarySet, code: str, name: str, n: int, **extra) -> Area:
    return Area.objects.create(
        boundary_set=bset,
        level=bset.level,
        code=code,
        name=name,
        slug=name.lower().replace(" ", "-"),
        geometry=square(n),
        **extra,
    )


def set_aside_existing_data() -> None:
    CurrentMonth.objects.all().delete()
    with connection.cursor() as cursor:
        # Raw SQL: the ORM's PROTECT check would scan millions of counts, and the test's
        # rollback puts everything back anyway.
        hidden = "SELECT id FROM crimestats_category WHERE NOT shown"
        cursor.execute(f"DELETE FROM crimestats_categoryalias WHERE category_id IN ({hidden})")
        cursor.execute(f"DELETE FROM crimestats_category WHERE id IN ({hidden})")


def make_london() -> dict[str, Area]:
    """Create the tiny London and return its areas by code."""
    set_aside_existing_data()
    areas: dict[str, Area] = {}
    sets = {level: boundary_set(level) for level in Level}
    london = make_area(sets[Level.REGION], "E12000007", "London", 0)
    areas[london.code] = london
    for n, (code, name) in enumerate(BOROUGHS.items(), start=1):
        areas[code] = make_area(sets[Level.BOROUGH], code, name, n, parent=london)
    for n, (code, (name, borough)) in enumerate(WARDS.items(), start=10):
        areas[code] = make_area(sets[Level.WARD], code, name, n, parent=areas[borough])
    for n, (code, (name, borough, ward)) in enumerate(LSOAS.items(), start=20):
        areas[code] = make_area(
            sets[Level.LSOA],
            code,
            name,
            n,
            parent=areas[borough],
            best_fit_ward=areas[ward] if ward else None,
        )
    return areas


def write_test_release(
    *, level: str, counts: dict, months, name: str, source: str = "mps", force: str = MET
) -> None:
    """A release of `counts` ({(area id, category id): values a month}), current for its
    months, written as the importers write one. `name` is its file name and makes its checksum:
    a new name with the same counts is the same file uploaded again."""
    months = list(months)
    data = ReleaseData(
        source=source,
        force=force,
        level=level,
        layout="test",
        months=months,
        counts=counts,
        current_months=months,
    )
    write_release(data=data, file_name=f"{name}.csv", checksum=sha256(name.encode()).hexdigest())
