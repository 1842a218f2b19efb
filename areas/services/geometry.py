"""Small geometry helpers shared by the importers and the display builder (shapely, EPSG:27700)."""

import shapely
from shapely.geometry import MultiPolygon, Polygon
from shapely.geometry.base import BaseGeometry


def polygonal_parts(geometry: BaseGeometry) -> list[Polygon]:
    """The non-empty polygons in any geometry (lines and points dropped)."""
    parts = shapely.get_parts(geometry)
    polygons: list[Polygon] = []
    for part in parts:
        if isinstance(part, Polygon):
            if not part.is_empty:
                polygons.append(part)
        elif isinstance(part, MultiPolygon) or part.geom_type == "GeometryCollection":
            polygons.extend(polygonal_parts(part))
    return polygons


def to_multipolygon(geometry: BaseGeometry) -> MultiPolygon:
    """A valid 2D MultiPolygon: invalid rings repaired with GEOS make_valid, polygonal parts kept.

    Valid input is returned coordinate for coordinate, so a clean coverage stays clean.
    """
    geometry = shapely.force_2d(geometry)
    if not geometry.is_valid:
        # "structure" keeps the area a person meant (a bow-tie becomes two triangles) and drops
        # collapsed parts, which would only be lines.
        geometry = shapely.make_valid(geometry, method="structure", keep_collapsed=False)
    polygons = polygonal_parts(geometry)
    return MultiPolygon(polygons)
