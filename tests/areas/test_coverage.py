"""Cleaning polygons that overlap or leave slivers into a clean coverage."""

import pytest
import shapely

from areas.importers.boundaries import read_boundary_file
from areas.models import Level
from areas.services.coverage import clean_coverage

X, Y = 530000, 180000


def square(x0, y0, x1, y1):
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def test_a_clean_coverage_is_returned_unchanged():
    squares = [square(0, 0, 100, 100), square(100, 0, 200, 100)]
    result = clean_coverage(geometries=squares)
    assert not result.changed
    assert [g.equals(s) for g, s in zip(result.geometries, squares, strict=True)] == [True, True]


def test_overlapping_pair_gives_the_overlap_to_one_of_them():
    # East overlaps West by a 2 m strip, whose long sides border West's own part and East's
    # own part equally: the tie goes to the first polygon.
    west, east = square(0, 0, 100, 100), square(98, 0, 200, 100)
    result = clean_coverage(geometries=[west, east])
    assert result.changed
    assert (result.overlap_faces, result.overlap_area) == (1, pytest.approx(200))
    cleaned_west, cleaned_east = result.geometries
    assert cleaned_west.equals(west)
    assert cleaned_east.equals(square(100, 0, 200, 100))
    assert bool(shapely.coverage_is_valid(result.geometries))
    assert result.changed_indexes == [1]


def test_overlap_goes_to_the_polygon_it_borders_most():
    # A notch of B reaches 10 m into A: the overlap face touches A's own part on three
    # sides (30 m) and B's own part on one (10 m), so it goes to A.
    a = square(0, 0, 100, 100)
    b = shapely.union(square(100, 0, 200, 100), square(90, 40, 100, 50))
    result = clean_coverage(geometries=[b, a])
    assert result.overlap_faces == 1
    assert result.geometries[0].equals(square(100, 0, 200, 100))
    assert result.geometries[1].equals(a)


def test_slivers_are_merged_and_real_holes_kept(fixtures_dir):
    features = read_boundary_file(path=fixtures_dir / "wards_overlap.geojson", level=Level.WARD)
    hole = square(40, 340, 160, 460)  # a big hole in a ring of wards: not a sliver
    ring = shapely.difference(square(0, 300, 200, 500), hole)
    geometries = [f.geometry for f in features] + [ring]
    result = clean_coverage(geometries=geometries)
    assert bool(shapely.coverage_is_valid(result.geometries))
    assert all(g.is_valid and g.geom_type == "MultiPolygon" for g in result.geometries)
    # The 2 m overlap (West/East) and the 0.5 m gap (North West/North East) are gone ...
    assert (result.overlap_faces, result.sliver_faces, result.holes_kept) == (1, 1, 1)
    assert result.sliver_area == pytest.approx(50)
    union = shapely.union_all(result.geometries)
    assert union.area == pytest.approx(200 * 500 - hole.area)
    assert sum(g.area for g in result.geometries) == pytest.approx(union.area)
    # ... and the hole is still a hole.
    assert not union.intersects(hole.buffer(-1))
