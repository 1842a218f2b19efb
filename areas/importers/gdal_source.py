"""Open a boundary file with GDAL, but only as one of the formats the site accepts.

GDAL reads whatever a file tells it to: a VRT (whatever its name) points GDAL at other files on
the server or at URLs, and /vsi* paths open archives and remote resources. Uploads are opened
with an explicit list of allowed drivers, after refusing VRT content and /vsi* paths outright.
"""

from ctypes import c_char_p
from pathlib import Path

from django.contrib.gis.gdal import DataSource
from django.contrib.gis.gdal.driver import Driver
from django.contrib.gis.gdal.error import GDALException
from django.contrib.gis.gdal.prototypes import ds as capi

from areas.importers.errors import UploadError

# The boundary formats the site accepts, by the suffix of the one file GDAL is pointed at.
SUFFIX_DRIVERS: dict[str, tuple[str, ...]] = {
    ".shp": ("ESRI Shapefile",),
    ".geojson": ("GeoJSON",),
    ".json": ("GeoJSON",),
    ".gpkg": ("GPKG",),
    ".kml": ("KML", "LIBKML"),
    ".gml": ("GML",),
    ".fgb": ("FlatGeobuf",),
}
ALLOWED_DRIVERS = tuple(dict.fromkeys(d for drivers in SUFFIX_DRIVERS.values() for d in drivers))
# VRT is XML: its root element is in the first bytes, after at most a BOM, a declaration, comments.
SNIFF_BYTES = 64 * 1024
VRT_MARKERS = (b"<ogrvrtdatasource", b"<vrtdataset")


def check_path(path: Path, *, file: str) -> None:
    """UploadError for a /vsi* path or VRT content; nothing is opened by GDAL here."""
    if "/vsi" in str(path).lower():
        raise UploadError(
            file, "GDAL virtual file system paths (/vsi…) are not accepted: upload the file itself"
        )
    try:
        with path.open("rb") as handle:
            head = handle.read(SNIFF_BYTES).lower()
    except OSError:
        return  # GDAL's own error says the file cannot be read
    if any(marker in head for marker in VRT_MARKERS):
        raise UploadError(
            file,
            "this is a GDAL VRT file, which tells GDAL to read other files or addresses: "
            "not accepted; upload the boundary data itself (shapefile, GeoJSON, GeoPackage, …)",
        )


def open_vector(path: Path, *, file: str) -> DataSource:
    """The file as a read-only vector DataSource, opened only by an allowed driver."""
    check_path(path, file=file)
    Driver.ensure_registered()
    allowed = (c_char_p * (len(ALLOWED_DRIVERS) + 1))(
        *[name.encode() for name in ALLOWED_DRIVERS], None
    )
    try:
        pointer = capi.open_ds(
            str(path).encode(), capi.GDAL_OF_READONLY | capi.GDAL_OF_VECTOR, allowed, None, None
        )
    except GDALException as error:
        accepted = ", ".join(SUFFIX_DRIVERS)
        raise UploadError(
            file, f"GDAL cannot read this file (not one of the accepted formats: {accepted})"
        ) from error
    return DataSource(pointer, Driver(capi.get_dataset_driver(pointer)).ptr)
