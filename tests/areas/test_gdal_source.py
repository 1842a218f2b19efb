"""Boundary files open only with the drivers the site accepts: never VRT, never /vsi* paths.

A VRT file (named .geojson, say) tells GDAL to read another file on the server, or a URL; its
rows would come back as area names in a preview.
"""

from pathlib import Path

import pytest

from areas.importers.boundaries import read_boundary_file
from areas.importers.errors import UploadError
from areas.models import Level
from areas.services.boundary_uploads import read_upload

SECRET = (
    'E01000001,Secret Street,"POLYGON((530000 180000,530100 180000,530100 180100,530000 180000))"\n'
)


def _vrt(tmp_path: Path) -> Path:
    """A VRT, named .geojson, that reads a CSV elsewhere on the machine as LSOA polygons."""
    secret = tmp_path / "elsewhere" / "secret.csv"
    secret.parent.mkdir()
    secret.write_text("LSOA21CD,LSOA21NM,WKT\n" + SECRET)
    path = tmp_path / "upload" / "lsoas.geojson"
    path.parent.mkdir()
    path.write_text(
        '<OGRVRTDataSource><OGRVRTLayer name="secret">'
        f"<SrcDataSource>{secret}</SrcDataSource>"
        "<GeometryType>wkbPolygon</GeometryType><LayerSRS>EPSG:27700</LayerSRS>"
        '<GeometryField encoding="WKT" field="WKT"/>'
        "</OGRVRTLayer></OGRVRTDataSource>"
    )
    return path


def test_a_vrt_named_geojson_is_refused_before_gdal_opens_it(tmp_path):
    path = _vrt(tmp_path)
    with pytest.raises(UploadError) as error:
        read_upload(path=path)
    assert error.value.file == "lsoas.geojson"
    assert "VRT" in error.value.reason
    with pytest.raises(UploadError, match="VRT"):
        read_boundary_file(path=path, level=Level.LSOA)


def test_a_format_gdal_reads_but_the_site_does_not_accept_is_not_opened(tmp_path):
    """GDAL's CSV driver reads WKT polygons; only the allowed drivers stop it."""
    path = tmp_path / "lsoas.csv"
    path.write_text("LSOA21CD,LSOA21NM,WKT\n" + SECRET)
    with pytest.raises(UploadError) as error:
        read_upload(path=path)
    assert error.value.reason.startswith("GDAL cannot read this file")
    assert "Secret Street" not in str(error.value)


@pytest.mark.parametrize(
    "path", ["/vsicurl/http://127.0.0.1:9/x.geojson", "/vsizip//tmp/a.zip/b.geojson"]
)
def test_virtual_file_system_paths_are_refused(path):
    with pytest.raises(UploadError) as error:
        read_upload(path=Path(path), file="b.geojson")
    assert "virtual file system" in error.value.reason


def test_an_accepted_format_still_opens(fixtures_dir):
    features = read_boundary_file(path=fixtures_dir / "lsoa_squares.geojson", level=Level.LSOA)
    assert [f.code for f in features][:1] == ["E01000001"]
