"""Selectors read the current sets only."""

import pytest

from areas import selectors
from areas.models import Level
from areas.services.imports import import_boundaries

pytestmark = pytest.mark.django_db


@pytest.fixture
def small_world(fixtures_dir):
    old = import_boundaries(
        paths=[fixtures_dir / "boroughs.shp"], level=Level.BOROUGH, name="old", vintage="2022"
    )
    boroughs = import_boundaries(
        paths=[fixtures_dir / "boroughs.geojson"], level=Level.BOROUGH, name="b", vintage="2022"
    )
    lsoas = import_boundaries(
        paths=[fixtures_dir / "lsoa_squares.geojson"],
        level=Level.LSOA,
        name="l",
        vintage="2021",
        parent_field="lad22cd",
    )
    return old, boroughs, lsoas


def test_area_by_code_reads_the_current_set(small_world):
    old, boroughs, _ = small_world
    city = selectors.area_by_code(level=Level.BOROUGH, code=" e09000001 ")
    assert city.boundary_set == boroughs
    assert old.areas.filter(code="E09000001").exists()
    assert selectors.area_by_code(level=Level.WARD, code="E09000001") is None
    assert selectors.area_by_code(level=Level.BOROUGH, code="E09999999") is None


def test_children_and_neighbours(small_world):
    city = selectors.area_by_code(level=Level.BOROUGH, code="E09000001")
    assert [a.code for a in selectors.children(area=city, level=Level.LSOA)] == [
        "E01000001",
        "E01000002",
    ]
    assert list(selectors.children(area=city, level=Level.WARD)) == []
    alpha = selectors.area_by_code(level=Level.LSOA, code="E01000001")
    assert [a.code for a in selectors.neighbours(area=alpha)] == ["E01000002"]
    assert [a.code for a in selectors.neighbours(area=city)] == ["E09000002"]


def test_display_shapes_in_one_query(small_world, django_assert_num_queries):
    _, _, lsoas = small_world
    with django_assert_num_queries(1):
        shapes = selectors.display_shapes(areas=lsoas.areas.all())
    assert [(s.code, s.slug, s.level) for s in shapes] == [
        ("E01000001", "alpha-001a", "lsoa"),
        ("E01000002", "beta-001b", "lsoa"),
        ("E01000003", "gamma-and-delta-001c", "lsoa"),
    ]
    assert shapes[0].svg_path.startswith("M")
    assert shapes[0].extent == (530000, -180100, 530100, -180000)
    by_list = selectors.display_shapes(areas=list(lsoas.areas.all()))
    assert by_list == shapes
