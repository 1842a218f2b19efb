"""police.uk neighbourhood KMLs as wards: one file per ward, the file name is the ward code.

police.uk ids are ward codes, some with a trailing "N" (E05009375N is ward E05009375). The KMLs
carry no names, so names and boroughs come from the ONS LSOA → ward lookup.
"""

import re
from collections.abc import Iterable
from pathlib import Path

import shapely

from areas.importers.boundaries import BoundaryFeature, check_unique, read_geometries
from areas.importers.errors import UploadError
from areas.importers.lookups import LsoaWardLookup
from areas.models import CODE_PREFIX, Level
from areas.services.geometry import to_multipolygon

FILE_NAME_COLUMN = "file name"
POLICE_UK_ID = re.compile(rf"({CODE_PREFIX[Level.WARD]}\d{{6}})N?", re.IGNORECASE)


def ward_code_from_file_name(path: Path) -> str:
    """E05009375N.kml → E05009375, or UploadError when the name is not a ward code."""
    match = POLICE_UK_ID.fullmatch(path.stem.strip())
    if match is None:
        raise UploadError(
            path.name,
            f"the file name is not a ward code ({CODE_PREFIX[Level.WARD]} and six digits, "
            "optionally followed by N)",
            None,
            FILE_NAME_COLUMN,
            path.stem,
        )
    return match.group(1).upper()


def read_ward_kml_files(*, paths: Iterable[Path], lookup: LsoaWardLookup) -> list[BoundaryFeature]:
    """One feature per file: all its placemarks' polygons together, named from the lookup."""
    features: list[BoundaryFeature] = []
    for path in paths:
        code = ward_code_from_file_name(path)
        info = lookup.wards.get(code)
        if info is None:
            raise UploadError(
                path.name,
                f"ward {code} is not in {lookup.file}, so it has no name or borough",
                None,
                FILE_NAME_COLUMN,
                path.stem,
            )
        polygons = []
        for number, _attributes, geometry in read_geometries(path):
            if geometry is None or geometry.is_empty:
                raise UploadError(path.name, "the placemark has no polygon", number, "geometry")
            polygons.append(geometry)
        if not polygons:
            raise UploadError(path.name, "the file has no placemarks")
        merged = polygons[0] if len(polygons) == 1 else to_multipolygon(shapely.union_all(polygons))
        features.append(
            BoundaryFeature(
                code=code,
                name=info.name,
                geometry=merged,
                file=path.name,
                number=1,
                attributes={"borough_code": info.borough_code},
                code_field=FILE_NAME_COLUMN,
            )
        )
    check_unique(features)
    return features
