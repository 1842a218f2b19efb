"""Boundary, lookup and ward-KML readers on the hand-made files in fixtures/areas/."""

import pytest
import shapely

from areas.importers.boundaries import read_boundary_file, read_boundary_files
from areas.importers.errors import UploadError
from areas.importers.lookups import read_lsoa_ward_lookup
from areas.importers.ward_kml import read_ward_kml_files
from areas.models import Area, BoundarySet, Level
from areas.services.imports import import_boundaries

X, Y = 530000, 180000


def square(x0, y0, x1, y1):
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


def test_reads_geojson_in_27700_and_repairs_the_bow_tie(fixtures_dir):
    features = read_boundary_file(path=fixtures_dir / "lsoa_squares.geojson", level=Level.LSOA)
    assert [(f.code, f.name, f.number) for f in features] == [
        ("E01000001", "Alpha 001A", 1),
        ("E01000002", "Beta 001B", 2),
        ("E01000003", "Gamma & Delta 001C", 3),
    ]
    assert all(f.geometry.geom_type == "MultiPolygon" and f.geometry.is_valid for f in features)
    assert features[0].geometry.equals(square(0, 0, 100, 100))
    assert features[0].attribute("LAD22CD") == "E09000001"
    # The bow-tie ring becomes its two triangles, each half of a 100 m square's half.
    bow_tie = features[2].geometry
    assert len(bow_tie.geoms) == 2
    assert bow_tie.area == pytest.approx(5_000)
    assert bow_tie.equals(
        shapely.MultiPolygon(
            [
                shapely.Polygon([(X, Y + 100), (X + 50, Y + 150), (X, Y + 200)]),
                shapely.Polygon([(X + 100, Y + 100), (X + 100, Y + 200), (X + 50, Y + 150)]),
            ]
        )
    )


@pytest.mark.parametrize("name", ["boroughs.shp", "boroughs.gpkg", "boroughs.geojson"])
def test_formats_in_27700_keep_coordinates_exactly(fixtures_dir, name):
    features = read_boundary_file(path=fixtures_dir / name, level=Level.BOROUGH)
    assert [(f.code, f.name) for f in features] == [
        ("E09000001", "City of London"),
        ("E09000002", "Barking and Dagenham"),
    ]
    assert features[0].geometry.equals(square(0, 0, 200, 100))
    assert features[1].geometry.equals(square(0, 100, 200, 200))


def test_kml_in_wgs84_is_transformed_to_27700(fixtures_dir):
    features = read_boundary_file(path=fixtures_dir / "boroughs.kml", level=Level.BOROUGH)
    assert [f.code for f in features] == ["E09000001", "E09000002"]
    # British National Grid → WGS84 (ogr2ogr) → back again: within a centimetre.
    assert shapely.hausdorff_distance(features[0].geometry, square(0, 0, 200, 100)) < 0.01
    assert features[0].geometry.area == pytest.approx(20_000, abs=0.5)


def test_wrong_prefix_names_file_feature_and_field(fixtures_dir):
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=fixtures_dir / "lsoa_wrong_prefix.geojson", level=Level.LSOA)
    assert (error.value.file, error.value.row, error.value.column, error.value.value) == (
        "lsoa_wrong_prefix.geojson",
        2,
        "LSOA21CD",
        "E05000002",
    )
    assert str(error.value) == (
        "lsoa_wrong_prefix.geojson, row 2, column 'LSOA21CD': not an LSOA code: LSOA codes are "
        "E01 and six digits (is this a file of another level?) (value 'E05000002')"
    )


def test_file_of_another_level_is_refused(fixtures_dir):
    # Borough codes read as wards: the prefix says this is the wrong level.
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=fixtures_dir / "boroughs.gpkg", level=Level.WARD)
    assert str(error.value).startswith("boroughs.gpkg: no ward code field: expected one of")
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=fixtures_dir / "lsoa_squares.geojson", level=Level.BOROUGH)
    # lad22cd is found, but two LSOAs share a borough code.
    assert str(error.value) == (
        "lsoa_squares.geojson, row 2, column 'lad22cd': duplicate code: feature 1 has it too "
        "(value 'E09000001')"
    )


def test_missing_code_field_lists_what_was_expected_and_found(fixtures_dir):
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=fixtures_dir / "lsoa_no_code.geojson", level=Level.LSOA)
    assert str(error.value) == (
        "lsoa_no_code.geojson: no LSOA code field: expected one of LSOAyyCD, GSS_CODE, CODE; "
        "the file has LSOA21NM, MSOA21CD"
    )


def test_duplicate_code_names_both_features(fixtures_dir):
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=fixtures_dir / "lsoa_duplicate.geojson", level=Level.LSOA)
    assert str(error.value) == (
        "lsoa_duplicate.geojson, row 3, column 'LSOA21CD': duplicate code: feature 1 has it too "
        "(value 'E01000001')"
    )


def test_duplicate_across_files_names_the_other_file(fixtures_dir, tmp_path):
    other = tmp_path / "other.geojson"
    other.write_bytes((fixtures_dir / "lsoa_squares.geojson").read_bytes())
    with pytest.raises(UploadError) as error:
        read_boundary_files(paths=[fixtures_dir / "lsoa_squares.geojson", other], level=Level.LSOA)
    assert str(error.value) == (
        "other.geojson, row 1, column 'lsoa21cd': duplicate code: feature 1 of "
        "lsoa_squares.geojson has it too (value 'E01000001')"
    )


def test_unreadable_file(fixtures_dir):
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=fixtures_dir / "lookup.csv.missing", level=Level.LSOA)
    assert error.value.file == "lookup.csv.missing"
    assert error.value.reason.startswith("GDAL cannot read this file")


@pytest.mark.django_db
@pytest.mark.parametrize(
    "name", ["lsoa_wrong_prefix.geojson", "lsoa_no_code.geojson", "lsoa_duplicate.geojson"]
)
def test_a_refused_file_writes_nothing(fixtures_dir, name):
    sets, areas = BoundarySet.objects.count(), Area.objects.count()
    current = list(BoundarySet.objects.filter(is_current=True).values_list("id", flat=True))
    with pytest.raises(UploadError):
        import_boundaries(
            paths=[fixtures_dir / name], level=Level.LSOA, name="test", vintage="2021"
        )
    assert (BoundarySet.objects.count(), Area.objects.count()) == (sets, areas)
    assert list(BoundarySet.objects.filter(is_current=True).values_list("id", flat=True)) == (
        current
    )


def test_lookup_keeps_london_rows(fixtures_dir):
    lookup = read_lsoa_ward_lookup(path=fixtures_dir / "lookup.csv")
    assert lookup.ward_of_lsoa == {
        "E01000001": "E05000001",
        "E01000002": "E05000002",
        "E01000003": "E05000009",
    }
    assert lookup.wards["E05000009"].name == "Village & Green"
    assert lookup.wards["E05000009"].borough_code == "E09000002"
    assert lookup.columns == {
        "lsoa_code": "LSOA21CD",
        "ward_code": "WD24CD",
        "ward_name": "WD24NM",
        "lad_code": "LAD24CD",
    }


def test_lookup_error_names_line_and_column(fixtures_dir):
    with pytest.raises(UploadError) as error:
        read_lsoa_ward_lookup(path=fixtures_dir / "lookup_bad_ward.csv")
    assert str(error.value) == (
        "lookup_bad_ward.csv, row 3, column 'WD24CD': not a ward code: ward codes are E05 and "
        "six digits (is this a file of another level?) (value 'E09000002')"
    )


def test_ward_kmls_take_code_from_file_name_and_names_from_lookup(fixtures_dir):
    lookup = read_lsoa_ward_lookup(path=fixtures_dir / "lookup.csv")
    wards = read_ward_kml_files(paths=sorted((fixtures_dir / "kml").glob("*.kml")), lookup=lookup)
    assert [(w.code, w.name, w.attribute("borough_code")) for w in wards] == [
        ("E05000001", "West", "E09000001"),
        ("E05000002", "East", "E09000001"),  # from E05000002N.kml
    ]
    assert shapely.hausdorff_distance(wards[1].geometry, square(98, 0, 200, 100)) < 0.01


def test_ward_kml_with_a_file_name_that_is_not_a_code(fixtures_dir):
    lookup = read_lsoa_ward_lookup(path=fixtures_dir / "lookup.csv")
    with pytest.raises(UploadError) as error:
        read_ward_kml_files(paths=[fixtures_dir / "kml_bad_name" / "Ward one.kml"], lookup=lookup)
    assert str(error.value) == (
        "Ward one.kml, column 'file name': the file name is not a ward code (E05 and six digits, "
        "optionally followed by N) (value 'Ward one')"
    )


def test_ward_kml_not_in_the_lookup(fixtures_dir, tmp_path):
    path = tmp_path / "E05000077.kml"
    path.write_bytes((fixtures_dir / "kml" / "E05000001.kml").read_bytes())
    lookup = read_lsoa_ward_lookup(path=fixtures_dir / "lookup.csv")
    with pytest.raises(UploadError) as error:
        read_ward_kml_files(paths=[path], lookup=lookup)
    assert str(error.value) == (
        "E05000077.kml, column 'file name': ward E05000077 is not in lookup.csv, so it has no "
        "name or borough (value 'E05000077')"
    )


def test_same_ward_twice_with_and_without_n(fixtures_dir, tmp_path):
    for name in ("E05000001.kml", "E05000001N.kml"):
        (tmp_path / name).write_bytes((fixtures_dir / "kml" / "E05000001.kml").read_bytes())
    lookup = read_lsoa_ward_lookup(path=fixtures_dir / "lookup.csv")
    with pytest.raises(UploadError) as error:
        read_ward_kml_files(paths=sorted(tmp_path.glob("*.kml")), lookup=lookup)
    assert str(error.value) == (
        "E05000001N.kml, row 1, column 'file name': duplicate code: feature 1 of E05000001.kml "
        "has it too (value 'E05000001')"
    )


@pytest.mark.parametrize(
    ("geometry", "reason"),
    [
        ("null", "the feature has no polygon"),
        (
            '{"type": "LineString", "coordinates": [[0, 51], [0.1, 51.1]]}',
            "the geometry is a LineString, not a polygon",
        ),
    ],
)
def test_a_feature_without_a_polygon_is_refused(tmp_path, geometry, reason):
    path = tmp_path / "lines.geojson"
    path.write_text(
        '{"type": "FeatureCollection", "features": [{"type": "Feature", "properties": '
        '{"LSOA21CD": "E01000001", "LSOA21NM": "A"}, "geometry": ' + geometry + "}]}"
    )
    with pytest.raises(UploadError) as error:
        read_boundary_file(path=path, level=Level.LSOA)
    assert str(error.value) == f"lines.geojson, row 1, column 'geometry': {reason}"
