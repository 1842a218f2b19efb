"""Boundary files uploaded through the admin upload service: detect, check, preview, publish,
roll back; on tiny hand-made files written here, and once on the real borough shapefile."""

import csv
import io
import json
import shutil
import subprocess
import zipfile
from pathlib import Path

import pytest
import shapely
from django.conf import settings as django_settings
from django.core.management import call_command
from django.db import connection
from django.urls import reverse
from shapely.geometry import mapping

from areas.models import Area, BoundarySet, Level, Postcode
from areas.services.boundary_sets import NewArea, create_boundary_set
from areas.services.boundary_uploads import read_upload
from areas.services.display import build_display
from areas.services.neighbours import store_neighbours
from crimestats.importers.census import import_census
from crimestats.importers.mps import import_mps_file
from crimestats.models import (
    Category,
    Denominator,
    Publication,
    PublishedFigure,
    ReleaseState,
    Upload,
)
from crimestats.services.publish import build_publication
from crimestats.services.releases import rollback_to
from crimestats.services.uploads import (
    acknowledge,
    detect_kind,
    publish_upload,
    receive_upload,
    request_publish,
    validate_upload,
)
from tests.crimestats.factories import set_aside_existing_data

pytestmark = pytest.mark.django_db
CRIME_FIXTURES = Path(__file__).resolve().parents[2] / "fixtures" / "crimestats"
X, Y = 530_000, 180_000


def noop(_: str) -> None:
    pass


def box(x0: float, y0: float, x1: float, y1: float) -> shapely.Polygon:
    """A rectangle in EPSG:27700, in metres from a point in central London."""
    return shapely.box(X + x0, Y + y0, X + x1, Y + y1)


# The tiny London every test starts from: 900 m × 300 m, three boroughs side by side.
REGION = ("E12000007", "London", box(0, 0, 900, 300))
BOROUGHS = {
    "E09000001": ("City of London", box(0, 0, 300, 300)),
    "E09000002": ("Barking and Dagenham", box(300, 0, 600, 300)),
    "E09000003": ("Barnet", box(600, 0, 900, 300)),
}
WARDS = {  # code: (name, borough, geometry)
    "E05000026": ("Abbey", "E09000002", box(300, 0, 450, 300)),
    "E05000027": ("Alibon", "E09000002", box(450, 0, 600, 300)),
    "E05000040": ("Barnet Vale", "E09000003", box(600, 0, 900, 300)),
}
LSOAS = {  # code: (name, borough, best-fit ward, geometry)
    "E01000001": ("City of London 001A", "E09000001", None, box(0, 0, 150, 300)),
    "E01000002": ("City of London 001B", "E09000001", None, box(150, 0, 300, 300)),
    "E01000006": ("Barking and Dagenham 016A", "E09000002", "E05000026", box(300, 0, 450, 300)),
    "E01000007": ("Barking and Dagenham 015B", "E09000002", "E05000027", box(450, 0, 600, 300)),
    "E01000100": ("Barnet 030A", "E09000003", "E05000040", box(600, 0, 900, 300)),
}


def _set(level: str, vintage: str, areas: list[NewArea]) -> dict[str, Area]:
    boundary_set = create_boundary_set(
        level=level,
        name=f"tiny {level}",
        vintage=vintage,
        areas=areas,
        source_files=["tests"],
        checksum=f"tiny-{level}",
    )
    build_display(boundary_set=boundary_set)
    store_neighbours(boundary_set=boundary_set)
    return {a.code: a for a in boundary_set.areas.all()}


@pytest.fixture
def tiny(db, settings, tmp_path) -> dict[str, Area]:
    """The tiny London, made current over whatever the database holds (the test's rollback
    restores it), with borough and London counts, census figures and a publication."""
    settings.MEDIA_ROOT = tmp_path / "media"
    set_aside_existing_data()
    with connection.cursor() as cursor:
        cursor.execute("TRUNCATE areas_postcode")  # undone by the test's rollback
    multi = shapely.MultiPolygon
    areas = _set(Level.REGION, "2021", [NewArea(REGION[0], REGION[1], multi([REGION[2]]))])
    london = areas[REGION[0]].pk
    boroughs = _set(
        Level.BOROUGH,
        "2022",
        [NewArea(c, n, multi([g]), parent_id=london) for c, (n, g) in BOROUGHS.items()],
    )
    wards = _set(
        Level.WARD,
        "2022",
        [NewArea(c, n, multi([g]), parent_id=boroughs[b].pk) for c, (n, b, g) in WARDS.items()],
    )
    lsoas = _set(
        Level.LSOA,
        "2021",
        [
            NewArea(
                c,
                n,
                multi([g]),
                parent_id=boroughs[b].pk,
                best_fit_ward_id=wards[w].pk if w else None,
            )
            for c, (n, b, w, g) in LSOAS.items()
        ],
    )
    import_mps_file(path=CRIME_FIXTURES / "mps_borough.csv", log=noop, progress=False)
    import_census(paths=[CRIME_FIXTURES / "census_prepared.csv"], log=noop, progress=False)
    build_publication(log=noop)
    return areas | boroughs | wards | lsoas


# Writing boundary files ---------------------------------------------------------------------


def write_geojson(path: Path, rows: list[tuple[dict, object]], *, srid: int | None = 27700) -> Path:
    """A GeoJSON file of (properties, shapely geometry or None); the CRS named as GDAL writes it."""
    doc: dict = {
        "type": "FeatureCollection",
        "features": [
            {
                "type": "Feature",
                "properties": props,
                "geometry": None if geometry is None else mapping(geometry),
            }
            for props, geometry in rows
        ],
    }
    if srid:
        doc["crs"] = {"type": "name", "properties": {"name": f"urn:ogc:def:crs:EPSG::{srid}"}}
    path.write_text(json.dumps(doc))
    return path


def borough_rows(areas: dict[str, tuple[str, object]]) -> list[tuple[dict, object]]:
    return [({"LAD22CD": c, "LAD22NM": n}, g) for c, (n, g) in areas.items()]


def zipped_shapefile(geojson: Path, *, keep_prj: bool = True) -> Path:
    """The GeoJSON as an ESRI shapefile (GDAL's ogr2ogr), its parts zipped as admins send them."""
    if shutil.which("ogr2ogr") is None:
        pytest.fail("ogr2ogr (GDAL) is needed to write shapefiles: run `make test` once")
    folder = geojson.parent / f"{geojson.stem}-shp"
    folder.mkdir()
    shp = folder / f"{geojson.stem}.shp"
    subprocess.run(["ogr2ogr", "-f", "ESRI Shapefile", str(shp), str(geojson)], check=True)
    archive = geojson.parent / f"{geojson.stem}.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for part in sorted(folder.iterdir()):
            if keep_prj or part.suffix != ".prj":
                out.write(part, f"boundaries/{part.name}")
    return archive


# The new boroughs most tests publish: the City kept as it is, Barking and Dagenham renamed and
# grown over a third of Barnet, Barnet gone, Bexley new in the rest of it.
NEW_BOROUGHS = {
    "E09000001": ("City of London", box(0, 0, 300, 300)),
    "E09000002": ("Barking and Dagenham East", box(300, 0, 700, 300)),
    "E09000004": ("Bexley", box(700, 0, 900, 300)),
}


def checked(path: Path, *, name: str | None = None) -> Upload:
    (upload,) = receive_upload(path=path, file_name=name or path.name)
    return validate_upload(upload)


def published(upload: Upload) -> Upload:
    if upload.warnings:
        acknowledge(upload, user=None)
    request_publish(upload, user=None)
    return publish_upload(upload, log=noop)


def current(level: str, code: str) -> Area:
    return Area.objects.get(level=level, code=code, boundary_set__is_current=True)


def figure(area: Area, *, period: str = "month", crime: str = "BURGLARY") -> int | None:
    """The area's current published burglary figure for a period, at the latest end month (the
    tiny files have three months: no rolling 12 months)."""
    return (
        PublishedFigure.objects.filter(
            block__publications__is_current=True,
            area=area,
            category=Category.objects.get(name=crime, parent=None),
            period=period,
        )
        .order_by("-end_month")
        .values_list("count", flat=True)
        .first()
    )


# Detection ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("props", "level", "field"),
    [
        ({"LAD22CD": "E09000002", "LAD22NM": "Barking and Dagenham"}, Level.BOROUGH, "LAD22CD"),
        ({"WD24CD": "E05000026", "WD24NM": "Abbey", "LAD24CD": "E09000002"}, Level.WARD, "WD24CD"),
        (
            {"lsoa21cd": "E01000006", "lsoa21nm": "B&D 016A", "lad22cd": "E09000002"},
            Level.LSOA,
            "lsoa21cd",
        ),
        ({"GSS_CODE": "E05000026", "NAME": "Abbey"}, Level.WARD, "GSS_CODE"),
        ({"GSS_CODE": "E09000002", "NAME": "Barking and Dagenham"}, Level.BOROUGH, "GSS_CODE"),
    ],
)
def test_level_is_detected_from_the_code_column(tiny, tmp_path, props, level, field):
    path = write_geojson(tmp_path / "areas.geojson", [(props, box(300, 0, 450, 300))])

    read = read_upload(path=path)

    assert detect_kind(path) == (Upload.Kind.BOUNDARIES, "boundary file")
    assert (read.level, read.code_field, read.crs) == (level, field, "EPSG:27700")
    assert [f.code for f in read.features] == [next(iter(props.values()))]


def test_a_zipped_shapefile_is_one_upload_and_checks_as_boroughs(tiny, tmp_path):
    geojson = write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS))
    archive = zipped_shapefile(geojson)

    uploads = receive_upload(path=archive, file_name="boroughs.zip")

    assert len(uploads) == 1 and uploads[0].file.name.endswith(".zip")
    upload = validate_upload(uploads[0])
    assert upload.status == Upload.Status.VALID, upload.message
    assert upload.kind == Upload.Kind.BOUNDARIES and upload.rows == 3
    assert upload.detected == "boundary file: 3 boroughs (LAD22CD, LAD22NM), EPSG:27700"
    assert upload.preview["file"] == "boroughs.shp"
    assert BoundarySet.objects.filter(level=Level.BOROUGH, is_current=True).get().name == (
        "tiny borough"
    )


def test_a_shapefile_without_prj_is_read_as_british_national_grid(tiny, tmp_path):
    geojson = write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS))

    upload = checked(zipped_shapefile(geojson, keep_prj=False))

    assert upload.status == Upload.Status.VALID, upload.message
    crs = "EPSG:27700, inferred from the coordinates (the file names no CRS)"
    assert upload.preview["crs"] == crs
    assert f"boroughs.shp: the file names no CRS; read as {crs}" in upload.warnings


# Validation: each error names file, feature, column, value and reason; nothing is written ---

CITY = ("City of London", box(0, 0, 300, 300))
FAR_AWAY = box(50_000, 0, 50_300, 300)  # 50 km east of the tiny London


def lad(code: str, name: str, geometry) -> tuple[dict, object]:
    return {"LAD22CD": code, "LAD22NM": name}, geometry


CITY_ROW = lad("E09000001", "City", CITY[1])
ERROR_CASES = [
    pytest.param(
        [CITY_ROW, lad("E05000026", "Abbey", box(300, 0, 600, 300))],
        (2, "LAD22CD", "E05000026"),
        "not a borough code: borough codes are E09 and six digits "
        "(is this a file of another level?)",
        id="wrong-level",
    ),
    pytest.param(
        [lad("E09000001", " ", CITY[1])],
        (1, "LAD22NM", ""),
        "the name is empty",
        id="no-name",
    ),
    pytest.param(
        [CITY_ROW, lad("E09000001", "City again", box(300, 0, 600, 300))],
        (2, "LAD22CD", "E09000001"),
        "duplicate code: feature 1 has it too",
        id="duplicate",
    ),
    pytest.param(
        [lad("E09000001", "City", None)],
        (1, "geometry", "E09000001"),
        "the feature has no geometry",
        id="no-geometry",
    ),
    pytest.param(
        [lad("E09000001", "City", shapely.Polygon([(X, Y), (X + 100, Y), (X + 200, Y)]))],
        (1, "geometry", "E09000001"),
        "the polygon has no area: it is not valid and cannot be repaired",
        id="unrepairable",
    ),
    pytest.param(
        [CITY_ROW, lad("E09000004", "Bexley", FAR_AWAY)],
        (2, "LAD22CD", "E09000004"),
        "outside London: 0% of its area is inside the current London boundary",
        id="outside-london",
    ),
    pytest.param(
        [lad("E09000001", "City", shapely.Point(X, Y))],
        (1, "geometry", None),
        "the geometry is a Point, not a polygon",
        id="point",
    ),
    pytest.param(
        [({"WD18CD": "E05000026", "WD18NM": "Abbey"}, box(300, 0, 450, 300))],
        (None, "WD18CD", "WD18CD"),
        "these are ward codes of 2018; the current ward set is of 2022: upload 2022 codes or later",
        id="old-vintage",
    ),
]


@pytest.mark.parametrize(("rows", "where", "reason"), ERROR_CASES)
def test_each_error_is_located_and_rejects_the_whole_file(tiny, tmp_path, rows, where, reason):
    sets = list(BoundarySet.objects.values_list("pk", flat=True))
    path = write_geojson(tmp_path / "bad.geojson", rows)

    upload = checked(path)

    assert upload.status == Upload.Status.REJECTED
    row, column, value = where
    assert upload.errors == [
        {"file": "bad.geojson", "row": row, "column": column, "value": value, "reason": reason}
    ]
    assert list(BoundarySet.objects.values_list("pk", flat=True)) == sets


def test_every_bad_feature_is_reported(tiny, tmp_path):
    rows = [
        CITY_ROW,
        lad("E09000004", "Bexley", FAR_AWAY),
        lad("E09000005", "Brent", box(60_000, 0, 60_300, 300)),
    ]

    upload = checked(write_geojson(tmp_path / "far.geojson", rows))

    assert upload.error_count == 2
    assert [(e["row"], e["value"]) for e in upload.errors] == [(2, "E09000004"), (3, "E09000005")]


def test_unreadable_files_and_unknown_coordinate_systems(tiny, tmp_path):
    broken = tmp_path / "broken.geojson"
    broken.write_text('{"type": "FeatureCollection", "features": [')
    far = [({"LAD22CD": "E09000001", "LAD22NM": "City"}, shapely.box(5e6, 5e6, 5e6 + 9, 5e6 + 9))]
    # GDAL takes a GeoJSON without "crs" as WGS84, whatever its coordinates.
    no_crs = write_geojson(tmp_path / "no-crs.geojson", far, srid=None)
    no_prj = zipped_shapefile(write_geojson(tmp_path / "no-prj.geojson", far), keep_prj=False)

    uploads = [checked(path) for path in (broken, no_crs, no_prj)]

    assert [u.status for u in uploads] == [Upload.Status.REJECTED] * 3
    assert uploads[0].errors[0]["reason"].startswith("GDAL cannot read this file")
    assert uploads[1].errors[0]["reason"] == (
        "the file says its CRS is WGS 84, but its coordinates are not longitude and latitude"
    )
    assert uploads[2].errors[0] == {
        "file": "no-prj.shp",
        "row": None,
        "column": None,
        "value": None,
        "reason": "the file names no coordinate reference system and its coordinates are "
        "neither longitude/latitude nor British National Grid metres",
    }


def test_grid_metres_in_a_geojson_without_crs_are_read_as_british_national_grid(tiny, tmp_path):
    path = write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS), srid=None)

    upload = checked(path)

    assert upload.status == Upload.Status.VALID, upload.message
    assert upload.preview["crs"] == (
        "EPSG:27700 (the file says WGS 84, but its coordinates are grid metres)"
    )
    assert upload.preview["counts"]["unchanged"] == 1  # the City, exactly where it was


# Preview ------------------------------------------------------------------------------------


def test_preview_lists_what_changes_and_the_figures_that_go(tiny, tmp_path):
    path = write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS))
    barnet = tiny["E09000003"]
    with (CRIME_FIXTURES / "mps_borough.csv").open() as handle:
        barnet_rows = [r for r in csv.DictReader(handle) if r["BoroughName"] == "BARNET"]
    barnet_counts = [int(v) for r in barnet_rows for k, v in r.items() if k.isdigit() and int(v)]

    upload = checked(path)

    preview = upload.preview
    assert upload.status == Upload.Status.VALID, upload.message
    assert preview["counts"] == {
        "added": 1,
        "removed": 1,
        "renamed": 1,
        "changed": 1,
        "unchanged": 1,
    }
    assert preview["added"] == [{"code": "E09000004", "name": "Bexley"}]
    assert preview["removed"] == [{"code": "E09000003", "name": "Barnet"}]
    assert preview["renamed"] == [
        {
            "code": "E09000002",
            "before": "Barking and Dagenham",
            "after": "Barking and Dagenham East",
        }
    ]
    # 300 m × 300 m grown to 400 m × 300 m: a third more area, and that third moved.
    assert preview["changed"] == [
        {
            "code": "E09000002",
            "name": "Barking and Dagenham East",
            "hectares_before": 9.0,
            "hectares_after": 12.0,
            "area_change": 0.3333,
            "moved": 0.3333,
        }
    ]
    assert preview["figures_lost"] == {
        "counts": len(barnet_counts),
        "crimes": sum(barnet_counts),
        "published": PublishedFigure.objects.filter(
            block__publications__is_current=True, area=barnet
        ).count(),
    }
    assert preview["dependents"]["children_reparented"] == 2  # Barnet Vale and Barnet 030A
    assert upload.warnings[0] == (
        "1 current boroughs are not in the file and would lose their pages: E09000003 Barnet"
    )
    assert upload.warnings[1].startswith("1 boroughs moved a lot (more than 10% of the area")
    assert any(w.startswith("3 current monthly counts (3 crimes)") for w in upload.warnings)


def test_the_admin_page_shows_the_boundary_preview(tiny, tmp_path, admin_client):
    upload = checked(write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS)))

    response = admin_client.get(reverse("admin:crimestats_upload_change", args=[upload.pk]))

    assert response.status_code == 200
    html = response.content.decode()
    assert 'id="preview-boundary-counts"' in html and "Bexley (E09000004)" in html
    assert "<td>33%</td>" in html  # the share of Barking and Dagenham that moved


# Publishing and rolling back ----------------------------------------------------------------


def test_publish_makes_a_new_current_set_and_rollback_restores_the_old(tiny, tmp_path, client):
    old_set = tiny["E09000002"].boundary_set
    old_publication = Publication.objects.get(is_current=True)
    before = figure(tiny["E09000002"])
    upload = checked(write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS)))

    upload = published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    new_set = BoundarySet.objects.get(level=Level.BOROUGH, is_current=True)
    assert new_set.pk != old_set.pk and not BoundarySet.objects.get(pk=old_set.pk).is_current
    assert sorted(new_set.areas.values_list("code", "name")) == sorted(
        (c, n) for c, (n, _) in NEW_BOROUGHS.items()
    )
    bd = current(Level.BOROUGH, "E09000002")
    assert bd.boundary_set_id == new_set.pk and bd.parent == tiny["E12000007"]
    assert bd.svg_path and bd.display_geometry is not None
    assert list(bd.neighbours.values_list("code", flat=True).order_by("code")) == [
        "E09000001",
        "E09000004",
    ]
    # Children follow their borough by code; Barnet's go to the borough they overlap most.
    assert current(Level.WARD, "E05000026").parent == bd
    assert current(Level.LSOA, "E01000007").parent == bd
    bexley = current(Level.BOROUGH, "E09000004")
    assert current(Level.WARD, "E05000040").parent == bexley
    assert current(Level.LSOA, "E01000100").parent == bexley
    # Denominators: borough sums of their current LSOAs.
    lsoa_residents = {code: Denominator.objects.get(area=tiny[code]).residents for code in LSOAS}
    assert Denominator.objects.get(area=bd).residents == (
        lsoa_residents["E01000006"] + lsoa_residents["E01000007"]
    )
    assert Denominator.objects.get(area=bexley).residents == lsoa_residents["E01000100"]
    # The kept code keeps its figures (counts follow the code) and its page; the old slug
    # redirects; Barnet's page is gone.
    assert figure(bd) == before is not None
    response = client.get(bd.get_absolute_url())
    assert response.status_code == 200 and "Barking and Dagenham East" in response.content.decode()
    old_url = tiny["E09000002"].get_absolute_url()
    assert client.get(old_url).status_code == 301
    assert client.get(tiny["E09000003"].get_absolute_url()).status_code == 404

    state = ReleaseState.objects.filter(publication=old_publication).earliest("pk")
    rollback_to(state=state, user=None, log=noop)

    assert BoundarySet.objects.get(level=Level.BOROUGH, is_current=True).pk == old_set.pk
    assert current(Level.WARD, "E05000040").parent == tiny["E09000003"]
    assert current(Level.LSOA, "E01000007").parent == tiny["E09000002"]
    assert Publication.objects.get(is_current=True) == old_publication
    assert client.get(old_url).status_code == 200
    assert client.get(tiny["E09000003"].get_absolute_url()).status_code == 200


def test_a_ward_file_refits_lsoas_and_places_postcodes_again(tiny, tmp_path):
    Postcode.objects.create(
        postcode="E1 1AA",
        compact="E11AA",
        location=f"SRID=27700;POINT({X + 500} {Y + 50})",
        borough_code="E09000002",
        ward_code="E05000027",
    )
    # Alibon is split into two new wards along y = 100; its LSOA's point on surface is in one.
    new_wards = {
        "E05000026": ("Abbey", "E09000002", box(300, 0, 450, 300)),
        "E05000098": ("Alibon South", "E09000002", box(450, 0, 600, 100)),
        "E05000099": ("Alibon North", "E09000002", box(450, 100, 600, 300)),
        "E05000040": ("Barnet Vale", "E09000003", box(600, 0, 900, 300)),
    }
    rows = [({"WD24CD": c, "WD24NM": n, "LAD24CD": b}, g) for c, (n, b, g) in new_wards.items()]
    upload = checked(write_geojson(tmp_path / "wards.geojson", rows))
    assert upload.preview["dependents"]["lsoas_refitted"] == 1

    upload = published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    lsoa = current(Level.LSOA, "E01000007")
    point = shapely.point_on_surface(LSOAS["E01000007"][3])
    expected = min(c for c, (_, _, g) in new_wards.items() if g.intersects(point))
    assert lsoa.best_fit_ward.code == expected and lsoa.best_fit_ward.boundary_set.is_current
    assert current(Level.LSOA, "E01000006").best_fit_ward == current(Level.WARD, "E05000026")
    assert current(Level.WARD, "E05000098").parent == tiny["E09000002"]
    assert Postcode.objects.get(postcode="E1 1AA").ward_code == "E05000098"
    # Ward denominators are sums of their best-fit LSOAs.
    new_ward = current(Level.WARD, expected)
    assert Denominator.objects.get(area=new_ward).residents == (
        Denominator.objects.get(area=lsoa).residents
    )


def test_an_lsoa_file_copies_census_figures_by_code(tiny, tmp_path):
    rows = [({"LSOA21CD": c, "LSOA21NM": n, "LAD22CD": b}, g) for c, (n, b, _, g) in LSOAS.items()]
    rows[-1] = (
        {"LSOA21CD": "E01000100", "LSOA21NM": "Barnet 030A", "LAD22CD": "E09000003"},
        box(600, 0, 750, 300),
    )
    rows.append(
        (
            {"LSOA21CD": "E01035000", "LSOA21NM": "Barnet 030B", "LAD22CD": "E09000003"},
            box(750, 0, 900, 300),
        )
    )
    upload = checked(write_geojson(tmp_path / "lsoas.geojson", rows))
    assert upload.preview["census_missing"] == 1
    assert "1 new LSOAs have no census figures" in upload.warnings[-1]

    upload = published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    kept = current(Level.LSOA, "E01000100")
    assert kept.pk != tiny["E01000100"].pk
    assert (Denominator.objects.get(area=kept).residents) == (
        Denominator.objects.get(area=tiny["E01000100"]).residents
    )
    new = current(Level.LSOA, "E01035000")
    assert new.parent == tiny["E09000003"] and new.best_fit_ward == tiny["E05000040"]
    assert not Denominator.objects.filter(area=new).exists()
    assert kept.best_fit_ward == tiny["E05000040"]


def test_a_stale_check_is_not_published(tiny, tmp_path):
    first = checked(write_geojson(tmp_path / "a.geojson", borough_rows(NEW_BOROUGHS)))
    second_rows = borough_rows(BOROUGHS)
    second = checked(write_geojson(tmp_path / "b.geojson", second_rows))
    assert published(first).status == Upload.Status.PUBLISHED

    second = published(second)

    assert second.status == Upload.Status.FAILED
    assert "the current boundaries changed since this file was checked" in second.message


def test_import_file_command_takes_a_shapefile(tiny, tmp_path):
    geojson = write_geojson(tmp_path / "boroughs.geojson", borough_rows(NEW_BOROUGHS))
    archive = zipped_shapefile(geojson)
    with zipfile.ZipFile(archive) as source:
        source.extractall(tmp_path / "unzipped")
    shp = tmp_path / "unzipped" / "boundaries" / "boroughs.shp"
    out = io.StringIO()

    call_command("import_file", str(shp), "--kind", "boundaries", "--publish", stdout=out)

    assert current(Level.BOROUGH, "E09000004").name == "Bexley"
    assert "3 boroughs: 1 added, 1 removed, 1 renamed, 1 outlines changed" in out.getvalue()


# The real borough shapefile -----------------------------------------------------------------

REAL_BOROUGHS = Path(django_settings.CRIMEMAP_DATA_DIR) / "boundaries" / "boroughs"


@pytest.mark.london
def test_the_real_borough_shapefile_uploads_publishes_and_rolls_back(
    london, client, tmp_path, settings
):
    settings.MEDIA_ROOT = tmp_path / "media"
    archive = tmp_path / "london-2021-lad22-gen20.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as out:
        for part in sorted(REAL_BOROUGHS.glob("london-2021-lad22-gen20.*")):
            out.write(part, part.name)
    old_set = BoundarySet.objects.get(level=Level.BOROUGH, is_current=True)
    tower_hamlets = current(Level.BOROUGH, "E09000030")
    before = figure(tower_hamlets, period="r12")
    assert before is not None
    ward = Area.objects.filter(level=Level.WARD, boundary_set__is_current=True).earliest("code")

    upload = checked(archive)
    assert upload.status == Upload.Status.VALID, upload.message
    counts = upload.preview["counts"]
    assert (upload.rows, counts["added"], counts["removed"], counts["renamed"]) == (33, 0, 0, 0)
    upload = published(upload)

    assert upload.status == Upload.Status.PUBLISHED, upload.message
    new_set = BoundarySet.objects.get(level=Level.BOROUGH, is_current=True)
    assert new_set.pk != old_set.pk and new_set.areas.count() == 33
    new = current(Level.BOROUGH, "E09000030")
    assert new.boundary_set_id == new_set.pk
    assert figure(new, period="r12") == before
    page = client.get(new.get_absolute_url() + "?crime=burglary&period=r12")
    assert page.status_code == 200 and f"{before:,}" in page.content.decode()
    assert (
        not Area.objects.filter(level__in=[Level.WARD, Level.LSOA], boundary_set__is_current=True)
        .exclude(parent__boundary_set=new_set)
        .exists()
    )

    state = ReleaseState.objects.filter(created_at__lt=new_set.created_at).latest("pk")
    rollback_to(state=state, user=None, log=noop)

    assert BoundarySet.objects.get(level=Level.BOROUGH, is_current=True).pk == old_set.pk
    assert current(Level.WARD, ward.code).parent_id == ward.parent_id
    assert figure(tower_hamlets, period="r12") == before
