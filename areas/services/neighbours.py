"""Neighbours: areas of one boundary set that share a stretch of boundary, found by PostGIS."""

from django.db import connection, transaction

from areas.models import Area, BoundarySet

# Two areas are neighbours when their boundaries share a line (DE-9IM boundary/boundary
# dimension 1) or, in data that is not a clean coverage, their interiors overlap.
NEIGHBOUR_PAIRS_SQL = """
    SELECT a.id, b.id
    FROM {table} AS a
    JOIN {table} AS b
      ON b.boundary_set_id = a.boundary_set_id AND a.id < b.id AND a.{column} && b.{column}
    WHERE a.boundary_set_id = %s
      AND ST_Intersects(a.{column}, b.{column})
      AND (ST_Relate(a.{column}, b.{column}, '****1****')
           OR ST_Relate(a.{column}, b.{column}, '2********'))
"""


def neighbour_pairs(*, boundary_set: BoundarySet, column: str = "geometry") -> set[tuple[int, int]]:
    """(smaller id, larger id) of every pair of neighbours in the set.

    Areas that meet only at points (corners) are not neighbours: on a map they do not border
    each other, and whether two edges meet in exactly one point is fragile under simplification
    and rounding. `column` is "geometry" (full resolution) or "display_geometry".
    """
    if column not in {"geometry", "display_geometry"}:
        raise ValueError(f"not a geometry column: {column}")
    sql = NEIGHBOUR_PAIRS_SQL.format(table=Area._meta.db_table, column=column)
    with connection.cursor() as cursor:
        cursor.execute(sql, [boundary_set.pk])
        return {(a, b) for a, b in cursor.fetchall()}


@transaction.atomic
def store_neighbours(*, boundary_set: BoundarySet) -> set[tuple[int, int]]:
    """Replace the neighbours of a set's areas with those found on the full geometries."""
    through = Area.neighbours.through
    ids = Area.objects.filter(boundary_set=boundary_set).values("id")
    through.objects.filter(from_area_id__in=ids).delete()
    through.objects.filter(to_area_id__in=ids).delete()
    pairs = neighbour_pairs(boundary_set=boundary_set)
    # The relation is symmetrical: Django stores both directions.
    rows = [through(from_area_id=a, to_area_id=b) for a, b in pairs]
    rows += [through(from_area_id=b, to_area_id=a) for a, b in pairs]
    through.objects.bulk_create(rows, batch_size=10_000)
    return pairs
