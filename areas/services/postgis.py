"""Set operations done by PostGIS on geometries that are not (yet) stored as areas."""

from collections.abc import Mapping, Sequence

import shapely
from django.db import connection, transaction
from shapely.geometry import MultiPolygon

from areas.models import Area, BoundarySet
from areas.services.geometry import to_multipolygon

BNG_SRID = 27700


@transaction.atomic
def union_groups(*, groups: Mapping[str, Sequence[MultiPolygon]]) -> dict[str, MultiPolygon]:
    """ST_Union of each group's polygons (EPSG:27700), e.g. a borough's LSOAs."""
    with connection.cursor() as cursor:
        cursor.execute("CREATE TEMP TABLE union_stage (key text, geom geometry) ON COMMIT DROP")
        with cursor.cursor.copy("COPY union_stage (key, geom) FROM STDIN") as copy:
            for key, geometries in groups.items():
                ewkb = shapely.to_wkb(
                    shapely.set_srid(list(geometries), BNG_SRID), hex=True, include_srid=True
                )
                for value in ewkb:
                    copy.write_row((key, value))
        cursor.execute(
            "SELECT key, ST_AsBinary(ST_Union(geom)) FROM union_stage GROUP BY key ORDER BY key"
        )
        rows = cursor.fetchall()
        cursor.execute("DROP TABLE union_stage")
    return {key: to_multipolygon(shapely.from_wkb(bytes(wkb))) for key, wkb in rows}


def union_of_set(*, boundary_set: BoundarySet) -> MultiPolygon:
    """ST_Union of all the full geometries of a set (London from its boroughs)."""
    with connection.cursor() as cursor:
        cursor.execute(
            f"SELECT ST_AsBinary(ST_Union(geometry)) FROM {Area._meta.db_table} "
            "WHERE boundary_set_id = %s",
            [boundary_set.pk],
        )
        (wkb,) = cursor.fetchone()
    return to_multipolygon(shapely.from_wkb(bytes(wkb)))
