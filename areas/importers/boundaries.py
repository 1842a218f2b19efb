"""Read boundary files in any format GDAL reads and check that they fit a level, before any write.

Features are numbered from 1 in file order (across layers), which is how errors locate them:
UploadError.row is the feature number, UploadError.column the field.
"""

import re
import unicodedata
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.contrib.gis.gdal import CoordTransform, SpatialReference
from django.contrib.gis.gdal.error import GDALException
from shapely.geometry import MultiPolygon

from areas.importers.errors import UploadError
from areas.importers.fields import CODE_FIELDS, NAME_FIELDS, describe, find_field
from areas.importers.gdal_source import open_vector
from areas.models import CODE_PREFIX, Level
from areas.services.geometry import to_multipolygon

BNG_SRID = 27700
POLYGON_TYPES = {"Polygon", "MultiPolygon", "GeometryCollection"}


@dataclass(frozen=True)
class BoundaryFeature:
    """One area read from a file: code, name and a valid MultiPolygon in EPSG:27700."""

    code: str
    name: str
    geometry: MultiPolygon = field(repr=False)
    file: str
    number: int
    # Every other attribute, keyed by the field name as spelled in the file.
    attributes: dict[str, object] = field(default_factory=dict, repr=False)
    code_field: str = "code"

    def attribute(self, name: str) -> str:
        """An attribute as a stripped string (case-insensitive field name), "" if absent."""
        for key, value in self.attributes.items():
            if key.lower() == name.lower():
                return "" if value is None else str(value).strip()
        return ""


def code_pattern(level: str) -> re.Pattern[str]:
    return re.compile(rf"{CODE_PREFIX[level]}\d{{6}}")


# How errors name each level's areas: (singular with article, plural).
LEVEL_WORDS = {
    Level.REGION: ("a region", "region"),
    Level.BOROUGH: ("a borough", "borough"),
    Level.WARD: ("a ward", "ward"),
    Level.LSOA: ("an LSOA", "LSOA"),
}


def check_code(*, code: str, level: str, file: str, row: int | None, column: str) -> str:
    """The code upper-cased, or UploadError when it is empty or not a code of this level."""
    code = code.strip().upper()
    article, word = LEVEL_WORDS[Level(level)]
    if not code:
        raise UploadError(file, f"the {word} code is empty", row, column, code)
    if not code_pattern(level).fullmatch(code):
        raise UploadError(
            file,
            f"not {article} code: {word} codes are {CODE_PREFIX[level]} and six digits "
            "(is this a file of another level?)",
            row,
            column,
            code,
        )
    return code


# Area names are shown on every page and in the map's tooltips: letters of any script, digits,
# spaces and the punctuation real names use ("Queen's Park & Kensal Green", "St. Helier").
NAME_PUNCTUATION = " &'’,-.()/"
MAX_NAME = 100


def check_name(*, name: str, file: str, row: int | None, column: str) -> str:
    """The name, or UploadError naming the first character no area name has (markup, control
    and direction characters among them) or saying it is too long."""
    if len(name) > MAX_NAME:
        raise UploadError(
            file,
            f"the name is {len(name)} characters long: at most {MAX_NAME} characters",
            row,
            column,
            name,
        )
    for char in name:
        if char not in NAME_PUNCTUATION and unicodedata.category(char)[0] not in "LMN":
            raise UploadError(
                file,
                f"the name holds {char!r}, which no area name has: names are letters, digits, "
                f"spaces and {' '.join(NAME_PUNCTUATION.strip())}",
                row,
                column,
                name,
            )
    return name


def read_geometries(
    path: Path, *, srid: int | None = None
) -> Iterable[tuple[int, dict[str, object], MultiPolygon | None]]:
    """(feature number, attributes, geometry in EPSG:27700) for every feature of every layer.

    `srid` reads the coordinates as that CRS whatever the file says (for files that name none,
    or wrongly: see areas/services/boundary_uploads.py).
    """
    name = path.name
    source = open_vector(path, file=name)
    target = SpatialReference(BNG_SRID)
    number = 0
    for layer in source:
        if layer.geom_type.name == "None":
            continue  # an attribute table, e.g. a GeoPackage's layer_styles
        layer_srs = SpatialReference(srid) if srid is not None else layer.srs
        transform = _transform_for(layer_srs=layer_srs, target=target, file=name)
        fields = list(layer.fields)
        for feature in layer:
            number += 1
            attributes = {f: feature.get(f) for f in fields}
            try:
                ogr = feature.geom
            except GDALException:  # a feature without geometry
                ogr = None
            if ogr is None or ogr.empty:
                yield number, attributes, None
                continue
            if transform is not None:
                ogr.transform(transform)
            geometry = shapely.from_wkb(bytes(ogr.wkb))
            if geometry.geom_type not in POLYGON_TYPES:
                raise UploadError(
                    name,
                    f"the geometry is a {geometry.geom_type}, not a polygon",
                    number,
                    "geometry",
                )
            yield number, attributes, to_multipolygon(geometry)


def _transform_for(
    *, layer_srs: SpatialReference | None, target: SpatialReference, file: str
) -> CoordTransform | None:
    """None when the layer is already in British National Grid (so coordinates stay exact)."""
    if layer_srs is None:
        raise UploadError(file, "the file has no coordinate reference system (a .prj is missing?)")
    srid = layer_srs.srid
    if srid is None:
        try:
            identified = layer_srs.clone()
            identified.identify_epsg()
            srid = identified.srid
        except GDALException:
            srid = None
    if srid == BNG_SRID:
        return None
    return CoordTransform(layer_srs, target)


def read_boundary_file(*, path: Path, level: str) -> list[BoundaryFeature]:
    """Every feature of one file, with its code and name checked against the level."""
    name = path.name
    features: list[BoundaryFeature] = []
    code_field = name_field = None
    for number, attributes, geometry in read_geometries(path):
        if code_field is None:
            fields = list(attributes)
            code_field = find_field(fields=fields, patterns=CODE_FIELDS[level])
            name_field = find_field(fields=fields, patterns=NAME_FIELDS[level])
            if code_field is None:
                raise UploadError(
                    name,
                    f"no {LEVEL_WORDS[Level(level)][1]} code field: expected one of "
                    f"{describe(CODE_FIELDS[level])}; the file has {', '.join(fields) or 'none'}",
                )
            if name_field is None:
                raise UploadError(
                    name,
                    f"no {LEVEL_WORDS[Level(level)][1]} name field: expected one of "
                    f"{describe(NAME_FIELDS[level])}; the file has {', '.join(fields) or 'none'}",
                )
        raw_code = attributes.get(code_field)
        code = check_code(
            code="" if raw_code is None else str(raw_code),
            level=level,
            file=name,
            row=number,
            column=code_field,
        )
        area_name = str(attributes.get(name_field) or "").strip()
        if not area_name:
            raise UploadError(name, "the name is empty", number, name_field, area_name)
        check_name(name=area_name, file=name, row=number, column=name_field)
        if geometry is None or geometry.is_empty:
            raise UploadError(name, "the feature has no polygon", number, "geometry")
        features.append(
            BoundaryFeature(
                code=code,
                name=area_name,
                geometry=geometry,
                file=name,
                number=number,
                attributes=attributes,
                code_field=code_field,
            )
        )
    if not features:
        raise UploadError(name, "the file has no features")
    check_unique(features)
    return features


def read_boundary_files(*, paths: Iterable[Path], level: str) -> list[BoundaryFeature]:
    """All features of several files (e.g. one shapefile per borough); codes unique across them."""
    features: list[BoundaryFeature] = []
    for path in paths:
        features.extend(read_boundary_file(path=path, level=level))
    check_unique(features)
    return features


def check_unique(features: Sequence[BoundaryFeature]) -> None:
    """UploadError at the second feature with a code already seen."""
    seen: dict[str, BoundaryFeature] = {}
    for feature in features:
        first = seen.setdefault(feature.code, feature)
        if first is not feature:
            where = f"feature {first.number}" + (
                f" of {first.file}" if first.file != feature.file else ""
            )
            raise UploadError(
                feature.file,
                f"duplicate code: {where} has it too",
                feature.number,
                feature.code_field,
                feature.code,
            )
