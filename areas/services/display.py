"""Display geometries, made once per boundary set: a coverage simplification in EPSG:27700.

Simplifying the whole set at once (shapely.coverage_simplify, Visvalingam–Whyatt that keeps
shared edges shared) means neighbours still meet exactly: no slivers or gaps on the maps. The
result is stored twice: Area.display_geometry (EPSG:4326, for Leaflet and GeoJSON) and
Area.svg_path (whole metres, y = -northing, for the server-drawn SVG maps).
"""

import re
from collections.abc import Mapping
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection, transaction
from shapely.geometry import MultiPolygon

from areas.models import Area, BoundarySet, Level
from areas.services.boundary_sets import invalidate_cache
from areas.services.geometry import to_multipolygon

BNG_SRID = 27700

# Coverage simplification tolerance per level, in metres: roughly the square root of the
# largest triangle area removed. LSOAs are tuned so the London-wide LSOA GeoJSON stays under
# 600 KB gzipped; wards and boroughs keep more detail for their own pages (see docs/geometry.md).
TOLERANCES: Mapping[str, float] = {
    Level.REGION: 20.0,
    Level.BOROUGH: 20.0,
    Level.WARD: 8.0,
    Level.LSOA: 40.0,
}


@dataclass(frozen=True)
class DisplayResult:
    areas: int
    vertices_full: int
    vertices_display: int
    svg_chars: int


def load_geometries(*, boundary_set: BoundarySet) -> tuple[list[int], np.ndarray]:
    """(ids, shapely geometries in EPSG:27700) of a set's full geometries, in id order."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT id, ST_AsBinary(geometry) FROM {Area._meta.db_table} "
            "WHERE boundary_set_id = %s ORDER BY id",
            [boundary_set.pk],
        )
        rows = cursor.fetchall()
    ids = [row[0] for row in rows]
    return ids, shapely.from_wkb([bytes(row[1]) for row in rows])


def simplify_coverage(*, geometries: np.ndarray, tolerance: float) -> np.ndarray:
    """Coverage simplification; refuses input that is not a clean coverage (it would tear)."""
    if not bool(shapely.coverage_is_valid(geometries)):
        raise ValueError("the geometries are not a clean coverage: clean them before simplifying")
    simplified = shapely.coverage_simplify(geometries, tolerance)
    return np.asarray([to_multipolygon(g) for g in simplified], dtype=object)


def svg_path(geometry: MultiPolygon) -> str:
    """Compact SVG path data: whole metres, y = -northing, `M x y l dx dy … z` per ring.

    Holes wind the other way from their shell, so the default nonzero fill rule shows them.
    """
    parts: list[str] = []
    for polygon in shapely.get_parts(shapely.orient_polygons(geometry)):
        for ring in (polygon.exterior, *polygon.interiors):
            points = np.rint(shapely.get_coordinates(ring)[:-1]).astype(np.int64)
            points[:, 1] = -points[:, 1]
            steps = np.diff(points, axis=0)
            steps = steps[(steps != 0).any(axis=1)]
            if len(steps) < 2:
                continue  # a ring smaller than a metre: nothing to draw
            numbers = " ".join(map(str, steps.ravel().tolist()))
            x, y = points[0].tolist()
            parts.append(f"M{x} {y}l{numbers}z".replace(" -", "-"))
    return "".join(parts)


@transaction.atomic
def store_display(*, ids: list[int], geometries: np.ndarray) -> int:
    """Write display geometries (given in 27700, stored in 4326 by PostGIS) and SVG paths."""
    ewkb = shapely.to_wkb(shapely.set_srid(geometries, BNG_SRID), hex=True, include_srid=True)
    paths = [svg_path(g) for g in geometries]
    with connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE display_stage (id bigint, geom geometry, svg text) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY display_stage (id, geom, svg) FROM STDIN") as copy:
            for row in zip(ids, ewkb, paths, strict=True):
                copy.write_row(row)
        cursor.execute(
            f"UPDATE {Area._meta.db_table} AS a "
            "SET display_geometry = ST_Multi(ST_Transform(s.geom, 4326)), svg_path = s.svg "
            "FROM display_stage AS s WHERE a.id = s.id"
        )
        cursor.execute("DROP TABLE display_stage")
    invalidate_cache(Area)
    return sum(len(p) for p in paths)


def build_display(*, boundary_set: BoundarySet, tolerance: float | None = None) -> DisplayResult:
    """Simplify a set's areas together and store their display geometry and SVG path."""
    if tolerance is None:
        tolerance = TOLERANCES[boundary_set.level]
    ids, full = load_geometries(boundary_set=boundary_set)
    simplified = simplify_coverage(geometries=full, tolerance=tolerance)
    chars = store_display(ids=ids, geometries=simplified)
    return DisplayResult(
        areas=len(ids),
        vertices_full=int(shapely.get_num_coordinates(full).sum()),
        vertices_display=int(shapely.get_num_coordinates(simplified).sum()),
        svg_chars=chars,
    )


def build_display_from_parts(
    *, boundary_set: BoundarySet, parts_set: BoundarySet, tolerance: float | None = None
) -> DisplayResult:
    """Display of a set whose areas are unions of another set's (London = its boroughs).

    The parts are simplified with the same tolerance and unioned per parent, so the outline
    matches the parts' own display geometry exactly.
    """
    if tolerance is None:
        tolerance = TOLERANCES[parts_set.level]
    part_ids, part_full = load_geometries(boundary_set=parts_set)
    simplified = dict(
        zip(part_ids, simplify_coverage(geometries=part_full, tolerance=tolerance), strict=True)
    )
    parent_of = dict(Area.objects.filter(boundary_set=parts_set).values_list("id", "parent_id"))
    ids, full = load_geometries(boundary_set=boundary_set)
    unions = []
    for area_id in ids:
        mine = [g for part_id, g in simplified.items() if parent_of[part_id] == area_id]
        if not mine:
            raise ValueError(f"area {area_id} has no parts in {parts_set}")
        unions.append(to_multipolygon(shapely.coverage_union_all(mine)))
    geometries = np.asarray(unions, dtype=object)
    chars = store_display(ids=ids, geometries=geometries)
    return DisplayResult(
        areas=len(ids),
        vertices_full=int(shapely.get_num_coordinates(full).sum()),
        vertices_display=int(shapely.get_num_coordinates(geometries).sum()),
        svg_chars=chars,
    )


SVG_NUMBER = re.compile(r"-?\d+")


def svg_extent(path: str) -> tuple[float, float, float, float]:
    """Min x, min y, max x, max y of path data as ``svg_path`` writes it (``M x y l dx dy … z``)."""
    xs, ys = [], []
    for ring in path.split("M")[1:]:
        values = np.array(SVG_NUMBER.findall(ring), dtype=np.int64).reshape(-1, 2).cumsum(axis=0)
        xs += [values[:, 0].min(), values[:, 0].max()]
        ys += [values[:, 1].min(), values[:, 1].max()]
    if not xs:
        return (0.0, 0.0, 1.0, 1.0)
    return (float(min(xs)), float(min(ys)), float(max(xs)), float(max(ys)))
