"""Small reads of the current geography for the pages (current boundary sets only)."""

from collections.abc import Iterable
from dataclasses import dataclass

from django.db import connection
from django.db.models import QuerySet

from areas.models import Area, Level, area_url
from areas.services.display import svg_extent


@dataclass(frozen=True)
class DisplayShape:
    """What a server-drawn SVG map needs of an area; extent is of the full geometry, y = -north."""

    id: int
    code: str
    name: str
    slug: str
    level: str
    svg_path: str
    extent: tuple[float, float, float, float]  # min x, min y, max x, max y in SVG coordinates

    @property
    def url(self) -> str:
        return area_url(level=self.level, code=self.code, slug=self.slug)


def current_areas() -> QuerySet[Area]:
    return Area.objects.filter(boundary_set__is_current=True)


def area_by_code(*, level: str, code: str) -> Area | None:
    """The current area with this official code (any case), or None."""
    return (
        current_areas()
        .filter(level=level, code=code.strip().upper())
        .select_related("parent__parent", "best_fit_ward", "boundary_set")
        .first()
    )


def children(*, area: Area, level: str) -> QuerySet[Area]:
    """Current areas of a level whose parent is this area (a borough's wards or LSOAs), by name."""
    return current_areas().filter(parent=area, level=level).order_by("name")


def neighbours(*, area: Area) -> QuerySet[Area]:
    """Areas sharing a stretch of boundary with this one (same level and set), by name."""
    return area.neighbours.filter(boundary_set__is_current=True).order_by("name")


def display_shapes(*, areas: Iterable[Area] | QuerySet[Area]) -> list[DisplayShape]:
    """Display outlines of many areas in one query, in the order of codes. Extents are read from
    the SVG paths, so a page never reads the full-resolution geometries."""
    ids = areas.values("id") if isinstance(areas, QuerySet) else [a.pk for a in areas]
    rows = (
        Area.objects.filter(pk__in=ids)
        .order_by("code")
        .values_list("id", "code", "name", "slug", "level", "svg_path")
    )
    return [
        DisplayShape(
            id=pk,
            code=code,
            name=name,
            slug=slug,
            level=level,
            svg_path=svg,
            extent=svg_extent(svg),
        )
        for pk, code, name, slug, level, svg in rows
    ]


LSOAS_AT_POINTS_SQL = """
SELECT DISTINCT ON (p.i) p.i, a.code
FROM unnest(%s::float8[], %s::float8[]) WITH ORDINALITY AS p(lon, lat, i)
JOIN areas_area a ON a.level = %s
    AND ST_Intersects(a.geometry, ST_Transform(ST_SetSRID(ST_MakePoint(p.lon, p.lat), 4326), 27700))
JOIN areas_boundaryset s ON s.id = a.boundary_set_id AND s.is_current
ORDER BY p.i, a.code
"""


def lsoas_at_points(*, points: list[tuple[float, float]]) -> list[str | None]:
    """The current LSOA code at each (longitude, latitude) point (WGS84), None where no LSOA is.

    One query for all points, so a file's records are placed together. A point exactly on a
    boundary between two LSOAs goes to the lower code, so the answer never varies between runs.
    """
    if not points:
        return []
    with connection.cursor() as cursor:
        cursor.execute(
            LSOAS_AT_POINTS_SQL,
            [[lon for lon, _ in points], [lat for _, lat in points], Level.LSOA],
        )
        found = dict(cursor.fetchall())
    return [found.get(i) for i in range(1, len(points) + 1)]
