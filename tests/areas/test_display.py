"""SVG paths, display geometries and neighbours on small hand-made sets."""

import pytest
import shapely

from areas.importers.errors import UploadError
from areas.models import Area, BoundarySet, Level
from areas.services.display import build_display, simplify_coverage, svg_path
from areas.services.imports import import_boundaries, import_ward_kmls
from areas.services.neighbours import neighbour_pairs

X, Y = 530000, 180000


def test_svg_path_is_whole_metres_with_north_up():
    square = shapely.MultiPolygon([shapely.box(530000.4, 180000.2, 530100, 180050.6)])
    # Shells are drawn anticlockwise in BNG; y = -northing flips that on screen.
    assert svg_path(square) == "M530100-180000l0-51-100 0 0 51z"


def test_svg_path_holes_wind_against_their_shell_and_tiny_rings_are_dropped():
    shell = [(0, 0), (100, 0), (100, 100), (0, 100)]
    hole = [(40, 40), (60, 40), (60, 60), (40, 60)]  # same way round as the shell: fixed
    tiny = shapely.box(200, 200, 200.3, 200.3)
    geometry = shapely.MultiPolygon([shapely.Polygon(shell, [hole]), tiny])
    assert svg_path(geometry) == "M0 0l100 0 0-100-100 0zM40-40l0-20 20 0 0 20z"


def test_svg_path_drops_steps_that_round_to_nothing():
    polygon = shapely.Polygon([(0, 0), (10, 0), (10.2, 0.1), (10, 10), (0, 10)])
    assert svg_path(shapely.MultiPolygon([polygon])) == "M0 0l10 0 0-10-10 0z"


def test_simplify_refuses_overlapping_polygons():
    overlapping = [shapely.box(0, 0, 10, 10), shapely.box(5, 0, 15, 10)]
    with pytest.raises(ValueError, match="not a clean coverage"):
        simplify_coverage(geometries=overlapping, tolerance=1)


@pytest.mark.django_db
def test_import_makes_a_current_set_with_display_and_neighbours(fixtures_dir):
    first = import_boundaries(
        paths=[fixtures_dir / "boroughs.shp"], level=Level.BOROUGH, name="one", vintage="2022"
    )
    second = import_boundaries(
        paths=[fixtures_dir / "boroughs.gpkg"], level=Level.BOROUGH, name="two", vintage="2022"
    )
    first.refresh_from_db()
    assert (first.is_current, second.is_current) == (False, True)
    assert BoundarySet.objects.filter(level=Level.BOROUGH, is_current=True).get() == second
    assert second.source_files == "boroughs.gpkg"
    assert len(second.checksum) == 64
    city, barking = second.areas.order_by("code")
    assert (city.slug, barking.slug) == ("city-of-london", "barking-and-dagenham")
    assert city.geometry.srid == 27700 and city.display_geometry.srid == 4326
    assert city.geometry.area == pytest.approx(20_000)
    assert city.svg_path == f"M{X + 200}{-Y - 100}l-200 0 0 100 200 0z"
    assert list(city.neighbours.all()) == [barking]
    assert list(barking.neighbours.all()) == [city]


@pytest.mark.django_db
def test_lsoas_link_to_their_boroughs_and_point_contacts_are_not_neighbours(fixtures_dir):
    import_boundaries(
        paths=[fixtures_dir / "boroughs.geojson"], level=Level.BOROUGH, name="b", vintage="2022"
    )
    lsoas = import_boundaries(
        paths=[fixtures_dir / "lsoa_squares.geojson"],
        level=Level.LSOA,
        name="l",
        vintage="2021",
        parent_field="lad22cd",
    )
    alpha, beta, gamma = lsoas.areas.order_by("code")
    assert [a.parent.code for a in (alpha, beta, gamma)] == ["E09000001", "E09000001", "E09000002"]
    assert gamma.slug == "gamma-and-delta-001c"
    assert gamma.geometry.valid and gamma.geometry.num_geom == 2
    # Alpha and Beta share an edge; the bow-tie's triangles touch them only at corners.
    assert list(alpha.neighbours.all()) == [beta]
    assert list(gamma.neighbours.all()) == []


@pytest.mark.django_db
def test_parent_missing_from_the_current_set_is_refused(fixtures_dir):
    import_boundaries(
        paths=[fixtures_dir / "boroughs.geojson"], level=Level.BOROUGH, name="b", vintage="2022"
    )
    Area.objects.filter(code="E09000002", boundary_set__is_current=True).delete()
    sets, areas = BoundarySet.objects.count(), Area.objects.count()
    with pytest.raises(UploadError) as error:
        import_boundaries(
            paths=[fixtures_dir / "lsoa_squares.geojson"],
            level=Level.LSOA,
            name="l",
            vintage="2021",
            parent_field="lad22cd",
        )
    assert str(error.value) == (
        "lsoa_squares.geojson, row 3, column 'lad22cd': no borough with this code in the "
        "current set (value 'E09000002')"
    )
    assert (BoundarySet.objects.count(), Area.objects.count()) == (sets, areas)


@pytest.mark.django_db
def test_ward_kmls_are_cleaned_and_display_neighbours_match_full(fixtures_dir):
    import_boundaries(
        paths=[fixtures_dir / "boroughs.geojson"], level=Level.BOROUGH, name="b", vintage="2022"
    )
    wards = import_ward_kmls(
        paths=sorted((fixtures_dir / "kml").glob("*.kml")),
        lookup_path=fixtures_dir / "lookup.csv",
        name="w",
        vintage="2022",
    )
    west, east = wards.areas.order_by("code")
    assert (west.name, east.name, west.parent.code) == ("West", "East", "E09000001")
    # The 2 m overlap went to one ward only: the areas now add up to the union.
    assert west.geometry.area + east.geometry.area == pytest.approx(200 * 100, abs=0.1)
    assert not west.geometry.overlaps(east.geometry)
    assert "Coverage cleaning: 1 overlap faces" in wards.notes
    assert neighbour_pairs(boundary_set=wards) == {(west.pk, east.pk)}
    assert neighbour_pairs(boundary_set=wards, column="display_geometry") == {(west.pk, east.pk)}


@pytest.mark.django_db
def test_display_neighbours_equal_full_neighbours_on_a_grid():
    """A 6 × 6 grid of wobbly cells, simplified hard: neighbours survive simplification."""
    boundary_set = BoundarySet.objects.create(
        level=Level.LSOA, name="grid", vintage="x", is_current=False
    )
    cells = _wobbly_grid(6)
    for i, cell in enumerate(cells):
        Area.objects.create(
            boundary_set=boundary_set,
            level=Level.LSOA,
            code=f"E01{i:06d}",
            name=f"cell {i}",
            slug=f"cell-{i}",
            geometry=shapely.to_wkt(cell),
        )
    result = build_display(boundary_set=boundary_set, tolerance=30)
    assert result.vertices_display < result.vertices_full / 3
    full = neighbour_pairs(boundary_set=boundary_set)
    # 6 × 5 shared edges each way; diagonal (corner) contacts are not neighbours.
    assert len(full) == 60
    assert neighbour_pairs(boundary_set=boundary_set, column="display_geometry") == full


def _wobbly_grid(n: int, size: float = 200.0) -> list[shapely.MultiPolygon]:
    """A clean coverage of n × n cells whose shared edges zig-zag (so there is much to simplify)."""

    def edge(a, b, horizontal):
        points = []
        for k in range(41):
            t = k / 40
            wobble = 3.0 * ((-1) ** k)
            if horizontal:
                points.append((a[0] + t * (b[0] - a[0]), a[1] + wobble * (0 < k < 40)))
            else:
                points.append((a[0] + wobble * (0 < k < 40), a[1] + t * (b[1] - a[1])))
        return points

    cells = []
    for i in range(n):
        for j in range(n):
            x0, y0 = X + i * size, Y + j * size
            x1, y1 = x0 + size, y0 + size
            ring = (
                edge((x0, y0), (x1, y0), True)[:-1]
                + edge((x1, y0), (x1, y1), False)[:-1]
                + list(reversed(edge((x0, y1), (x1, y1), True)))[:-1]
                + list(reversed(edge((x0, y0), (x0, y1), False)))
            )
            cells.append(shapely.MultiPolygon([shapely.Polygon(ring)]))
    return cells
