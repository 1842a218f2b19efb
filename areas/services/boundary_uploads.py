"""Boundary files uploaded by admins: check one against the current geography, preview what it
changes, make it the level's current set, and keep what hangs on areas pointing at current sets.

Checking writes nothing: the PostGIS comparisons run on a temporary table inside a transaction.
Every problem in the file is collected (BoundaryErrors), so the admin sees all of them at once.
Areas of older sets are never changed or deleted (old publications and raw counts still name
them); only the links between current areas (parents, best-fit wards) and the postcodes'
placements are re-pointed, by code, whenever the current sets change (publish or rollback).
"""

import re
import shutil
import zipfile
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path

import shapely
from django.contrib.gis.gdal import SpatialReference
from django.contrib.gis.gdal.error import GDALException
from django.db import connection, transaction

from areas.importers.archives import unzip
from areas.importers.boundaries import (
    LEVEL_WORDS,
    BoundaryFeature,
    check_code,
    check_name,
    read_geometries,
)
from areas.importers.errors import UploadError
from areas.importers.fields import (
    BOROUGH_CODE_FIELDS,
    CODE_FIELDS,
    NAME_FIELDS,
    describe,
    find_field,
)
from areas.importers.gdal_source import SUFFIX_DRIVERS, open_vector
from areas.importers.postcodes import PLACE_SQL
from areas.models import CODE_PREFIX, Area, BoundarySet, Level, Postcode, SaferNeighbourhoodTeam
from areas.services.boundary_sets import (
    SIDECARS,
    checksum,
    current_ids,
    current_sets,
    invalidate_cache,
    make_current,
)
from areas.services.coverage import clean_coverage
from areas.services.imports import write_boundary_set

BNG_SRID, WGS84_SRID = 27700, 4326
# Levels an admin may upload, most specific code field first: an LSOA file also has LADyyCD,
# a ward file often too.
UPLOAD_LEVELS = (Level.LSOA, Level.WARD, Level.BOROUGH)
PREFIX_LEVEL = {CODE_PREFIX[level]: level for level in UPLOAD_LEVELS}
GENERIC_CODE_FIELDS = (r"GSS_CODE", r"CODE")
# The one file GDAL is pointed at; a shapefile's other parts come with it (SIDECARS).
MAIN_SUFFIXES = tuple(SUFFIX_DRIVERS)
ARCHIVE_SUFFIXES = tuple(dict.fromkeys(MAIN_SUFFIXES + SIDECARS))
# A feature must have at least this share of its area inside London.
MIN_SHARE_INSIDE = 0.5
# An area whose outline differs by more than this share of its area counts as changed ...
CHANGED_SHARE = 0.001
# ... and by more than this, as moved a lot (a warning to acknowledge).
MOVED_A_LOT = 0.10
# How many areas each preview list keeps (the counts are always complete).
LISTED = 100
# Whole-degree and British National Grid ranges, for files that name no CRS (or a wrong one).
LONLAT_RANGE = (-180.0, -90.0, 180.0, 90.0)
BNG_RANGE = (0.0, 0.0, 700_000.0, 1_300_000.0)


class BoundaryErrors(UploadError):
    """Every problem found in a boundary file; its own fields are the first one's."""

    def __init__(self, errors: list[UploadError]) -> None:
        first = errors[0]
        super().__init__(first.file, first.reason, first.row, first.column, first.value)
        self.errors = errors


@dataclass
class BoundaryFile:
    """A boundary file read and checked on its own: its level, fields and features."""

    file: str
    level: str
    code_field: str
    name_field: str
    crs: str
    vintage: str
    features: list[BoundaryFeature]
    warnings: list[str] = field(default_factory=list)

    @property
    def words(self) -> tuple[str, str]:
        return LEVEL_WORDS[Level(self.level)]


@dataclass
class BoundaryCheck:
    """A file checked against the current geography: what publishing it would change."""

    file: BoundaryFile
    warnings: list[str]
    preview: dict
    removed_codes: list[str]
    added_codes: list[str]


# The container: one file, or a zip holding one --------------------------------------------


def is_boundary_name(name: str) -> bool:
    return name.lower().endswith(MAIN_SUFFIXES) and not name.startswith("__MACOSX/")


def zip_holds_boundaries(path: Path) -> bool:
    """A zip with a shapefile (or another boundary format) in it: it is one upload, not a
    bundle of CSVs."""
    try:
        with zipfile.ZipFile(path) as archive:
            return any(is_boundary_name(name) for name in archive.namelist())
    except (zipfile.BadZipFile, OSError):
        return False


def looks_like_boundary_file(path: Path) -> bool:
    """By name or zip contents only: GDAL opens CSVs too, so it cannot tell them apart."""
    if zipfile.is_zipfile(path):
        return zip_holds_boundaries(path)
    return is_boundary_name(path.name)


def main_file(paths: Sequence[Path], *, archive: str) -> Path:
    """The one boundary file among a zip's extracted members; a shapefile needs .shx and .dbf."""
    mains = [p for p in paths if is_boundary_name(p.name)]
    if not mains:
        raise UploadError(archive, "the zip archive holds no boundary file (.shp, .geojson, …)")
    if len(mains) > 1:
        raise UploadError(
            archive,
            "the zip archive holds several boundary files: upload one at a time",
            value=", ".join(sorted(p.name for p in mains)),
        )
    main = mains[0]
    if main.suffix.lower() == ".shp":
        present = {p.name.lower() for p in paths}
        for part in (".shx", ".dbf"):
            if main.with_suffix(part).name.lower() not in present:
                raise UploadError(
                    archive, f"the shapefile's {part} file is missing from the zip", value=main.name
                )
    return main


# Reading and checking the file on its own -------------------------------------------------


@contextmanager
def boundary_file(path: Path) -> Iterator[Path]:
    """The file GDAL reads: the upload itself, or the boundary file inside an uploaded zip,
    extracted with its sidecars under their own names (so errors name them, too)."""
    if not zipfile.is_zipfile(path):
        if path.suffix.lower() == ".shp":
            raise UploadError(
                path.name,
                "a shapefile is several files (.shp, .shx, .dbf, .prj): upload them in one zip",
            )
        yield path
        return
    members = unzip(path, file_name=path.name, suffixes=ARCHIVE_SUFFIXES)
    folder = members[0][0].parent / "boundaries"
    try:
        folder.mkdir()
        paths = []
        for member, name in members:
            target = folder / name
            if target.exists():
                raise UploadError(
                    path.name, "the zip archive holds two files of this name", value=name
                )
            shutil.move(member, target)
            paths.append(target)
        yield main_file(paths, archive=path.name)
    finally:
        shutil.rmtree(members[0][0].parent, ignore_errors=True)  # the folder is inside it


def shapefile_as_zip(path: Path, *, folder: Path) -> Path:
    """A shapefile named on the command line, zipped with its sidecars as the admin would."""
    target = folder / f"{path.stem}.zip"
    with zipfile.ZipFile(target, "w", zipfile.ZIP_DEFLATED) as archive:
        for suffix in SIDECARS:
            for part in (path.with_suffix(suffix), path.with_suffix(suffix.upper())):
                if part.exists():
                    archive.write(part, part.name)
                    break
    return target


def _in_range(extent: tuple[float, float, float, float], bounds: tuple) -> bool:
    return (
        bounds[0] <= extent[0]
        and bounds[1] <= extent[1]
        and extent[2] <= bounds[2]
        and extent[3] <= bounds[3]
    )


def _srid_of(srs: SpatialReference) -> int | None:
    if srs.srid is not None:
        return srs.srid
    try:
        identified = srs.clone()
        identified.identify_epsg()
        return identified.srid
    except GDALException:
        return None


def coordinate_system(path: Path, *, file: str) -> tuple[int | None, str, list[str]]:
    """(SRID to read the coordinates as, or None for what the file says; a description; notes).

    A file that names no CRS is read as EPSG:4326 or 27700 when its coordinates can only be
    those; a GeoJSON without a "crs" member is WGS84 to GDAL even when it holds grid metres.
    """
    source = open_vector(path, file=file)
    layers = [layer for layer in source if layer.geom_type.name != "None"]
    if not layers:
        raise UploadError(file, "the file has no layer with geometries")
    layer = layers[0]
    try:
        extent = layer.extent.tuple
    except GDALException:
        extent = (0.0, 0.0, 0.0, 0.0)
    inferred = (
        WGS84_SRID
        if _in_range(extent, LONLAT_RANGE)
        else BNG_SRID
        if _in_range(extent, BNG_RANGE)
        else None
    )
    srs = layer.srs
    if srs is None:
        if inferred is None:
            raise UploadError(
                file,
                "the file names no coordinate reference system and its coordinates are neither "
                "longitude/latitude nor British National Grid metres",
            )
        note = f"EPSG:{inferred}, inferred from the coordinates (the file names no CRS)"
        return inferred, note, [f"{file}: the file names no CRS; read as {note}"]
    srid = _srid_of(srs)
    if srs.geographic and inferred == BNG_SRID:
        note = f"EPSG:{BNG_SRID} (the file says {srs.name}, but its coordinates are grid metres)"
        return BNG_SRID, note, [f"{file}: read as {note}"]
    if srs.geographic and inferred != WGS84_SRID:
        raise UploadError(
            file,
            f"the file says its CRS is {srs.name}, but its coordinates are not longitude and "
            "latitude",
        )
    return None, f"EPSG:{srid}" if srid else srs.name, []


def _detect_level(*, fields: list[str], rows: list[dict], file: str) -> tuple[str, str]:
    """(level, code field): from the field's name (LAD22CD, WD24CD, LSOA21CD), or, for a
    GSS_CODE or CODE field, from the prefix most of its codes have (E09, E05, E01)."""
    for level in UPLOAD_LEVELS:
        specific = [p for p in CODE_FIELDS[level] if p not in GENERIC_CODE_FIELDS]
        found = find_field(fields=fields, patterns=specific)
        if found:
            return level, found
    generic = find_field(fields=fields, patterns=GENERIC_CODE_FIELDS)
    if generic:
        prefixes = Counter(str(row.get(generic) or "").strip().upper()[:3] for row in rows)
        for prefix, _ in prefixes.most_common():
            if prefix in PREFIX_LEVEL:
                return PREFIX_LEVEL[prefix], generic
        raise UploadError(
            file,
            "the codes are not borough (E09), ward (E05) or LSOA (E01) codes",
            None,
            generic,
            prefixes.most_common(1)[0][0] if prefixes else "",
        )
    expected = describe(
        [p for level in UPLOAD_LEVELS for p in CODE_FIELDS[level] if p not in GENERIC_CODE_FIELDS]
    )
    raise UploadError(
        file,
        f"no code field: expected one of {expected}, GSS_CODE, CODE; "
        f"the file has {', '.join(fields) or 'none'}",
    )


def _vintage(code_field: str) -> str:
    """The year in a code field's name (LSOA21CD → 2021), or "" when it names none."""
    match = re.search(r"(\d{2})CD$", code_field.strip(), re.IGNORECASE)
    return f"20{match.group(1)}" if match else ""


def read_upload(*, path: Path, file: str | None = None) -> BoundaryFile:
    """Read every feature and check it on its own; raises BoundaryErrors listing every problem."""
    file = file or path.name
    srid, crs, notes = coordinate_system(path, file=file)
    rows: list[tuple[int, dict, object]] = []
    try:
        rows = list(read_geometries(path, srid=srid))
    except GDALException as error:
        raise UploadError(file, f"GDAL cannot read the features ({error})") from error
    if not rows:
        raise UploadError(file, "the file has no features")
    fields = list(rows[0][1])
    level, code_field = _detect_level(fields=fields, rows=[r[1] for r in rows], file=file)
    word = LEVEL_WORDS[Level(level)][1]
    name_field = find_field(fields=fields, patterns=NAME_FIELDS[level])
    if name_field is None:
        raise UploadError(
            file,
            f"no {word} name field: expected one of {describe(NAME_FIELDS[level])}; "
            f"the file has {', '.join(fields)}",
        )
    errors: list[UploadError] = []
    features: list[BoundaryFeature] = []
    seen: dict[str, int] = {}
    for number, attributes, geometry in rows:
        raw = attributes.get(code_field)
        try:
            code = check_code(
                code="" if raw is None else str(raw),
                level=level,
                file=file,
                row=number,
                column=code_field,
            )
        except UploadError as error:
            errors.append(error)
            code = ""
        name = str(attributes.get(name_field) or "").strip()
        problems = len(errors)
        if not name:
            errors.append(UploadError(file, "the name is empty", number, name_field, name))
        else:
            try:
                check_name(name=name, file=file, row=number, column=name_field)
            except UploadError as error:
                errors.append(error)
        if geometry is None:
            errors.append(
                UploadError(file, "the feature has no geometry", number, "geometry", code)
            )
        elif geometry.is_empty:
            errors.append(
                UploadError(
                    file,
                    "the polygon has no area: it is not valid and cannot be repaired",
                    number,
                    "geometry",
                    code,
                )
            )
        if code and code in seen:
            errors.append(
                UploadError(
                    file,
                    f"duplicate code: feature {seen[code]} has it too",
                    number,
                    code_field,
                    code,
                )
            )
        elif code:
            seen[code] = number
        if code and len(errors) == problems:
            features.append(
                BoundaryFeature(
                    code=code,
                    name=name,
                    geometry=geometry,
                    file=file,
                    number=number,
                    attributes=attributes,
                    code_field=code_field,
                )
            )
    vintage = _vintage(code_field)
    errors += _vintage_errors(level=level, code_field=code_field, vintage=vintage, file=file)
    if not errors:
        try:
            clean_coverage(geometries=[f.geometry for f in features])
        except ValueError as error:  # a polygon wholly inside others: two codes for one place
            errors.append(UploadError(file, f"the areas overlap too much to be cleaned: {error}"))
    if errors:
        raise BoundaryErrors(errors)
    return BoundaryFile(
        file=file,
        level=level,
        code_field=code_field,
        name_field=name_field,
        crs=crs,
        vintage=vintage,
        features=features,
        warnings=notes,
    )


def _vintage_errors(*, level: str, code_field: str, vintage: str, file: str) -> list[UploadError]:
    """Codes older than the current set's: LSOAs and wards are re-coded when they change, and
    the crime files use the current codes."""
    current = BoundarySet.objects.filter(level=level, is_current=True).first()
    if not (vintage and current and current.vintage.isdigit()) or level == Level.BOROUGH:
        return []  # borough codes have not changed since 2009: any year will do
    if int(vintage) >= int(current.vintage):
        return []
    word = LEVEL_WORDS[Level(level)][1]
    return [
        UploadError(
            file,
            f"these are {word} codes of {vintage}; the current {word} set is of "
            f"{current.vintage}: upload {current.vintage} codes or later",
            None,
            code_field,
            code_field,
        )
    ]


# Checking against the current geography --------------------------------------------------


@contextmanager
def _staged(features: Sequence[BoundaryFeature]) -> Iterator:
    """The features in a temporary table (number, code, geom) for PostGIS to compare."""
    ewkb = shapely.to_wkb(
        shapely.set_srid([f.geometry for f in features], BNG_SRID), hex=True, include_srid=True
    )
    with transaction.atomic(), connection.cursor() as cursor:
        cursor.execute(
            "CREATE TEMP TABLE boundary_stage (number int, code text, geom geometry) ON COMMIT DROP"
        )
        with cursor.cursor.copy("COPY boundary_stage (number, code, geom) FROM STDIN") as copy:
            for feature, geometry in zip(features, ewkb, strict=True):
                copy.write_row((feature.number, feature.code, geometry))
        cursor.execute("ANALYZE boundary_stage")
        yield cursor
        cursor.execute("DROP TABLE boundary_stage")


CURRENT = (
    "JOIN areas_boundaryset {s} ON {s}.id = {a}.boundary_set_id AND {s}.is_current "
    "AND {a}.level = '{level}'"
)
SHARE_INSIDE_SQL = f"""
    SELECT st.number, st.code,
      CASE WHEN NOT ST_Intersects(r.geometry, st.geom) THEN 0.0
           WHEN ST_Covers(r.geometry, st.geom) THEN 1.0
           ELSE ST_Area(ST_Intersection(r.geometry, st.geom)) / NULLIF(ST_Area(st.geom), 0) END
    FROM boundary_stage st CROSS JOIN areas_area r
    {CURRENT.format(s="rs", a="r", level=Level.REGION)}
    ORDER BY st.number
"""
COMPARE_SQL = """
    SELECT a.code, a.name, ST_Area(a.geometry), ST_Area(st.geom),
      CASE WHEN ST_OrderingEquals(a.geometry, st.geom) THEN 0.0
           ELSE ST_Area(ST_SymDifference(a.geometry, st.geom)) END
    FROM boundary_stage st
    JOIN areas_area a ON a.code = st.code AND a.level = %s
    JOIN areas_boundaryset s ON s.id = a.boundary_set_id AND s.is_current
"""


def check_boundary_file(*, path: Path, file: str | None = None) -> BoundaryCheck:
    """Read and check a file, then compare it with the current set of its level (no writes)."""
    read = read_upload(path=path, file=file)
    level, word = read.level, read.words[1]
    current = {
        code: name
        for code, name in Area.objects.filter(boundary_set__is_current=True, level=level)
        .order_by("code")
        .values_list("code", "name")
    }
    current_set = BoundarySet.objects.filter(level=level, is_current=True).first()
    if current_set and current_set.checksum == checksum(paths=[path]):
        raise UploadError(read.file, f"this file is already the current {word} set")
    if not current_ids(level=Level.REGION):
        raise UploadError(read.file, "there is no current London region to check against")
    with _staged(read.features) as cursor:
        cursor.execute(SHARE_INSIDE_SQL)
        inside = cursor.fetchall()
        cursor.execute(COMPARE_SQL, [level])
        compared = cursor.fetchall()
    errors = [
        UploadError(
            read.file,
            f"outside London: {share:.0%} of its area is inside the current London boundary",
            number,
            read.code_field,
            code,
        )
        for number, code, share in inside
        if share is None or share < MIN_SHARE_INSIDE
    ]
    if errors:
        raise BoundaryErrors(errors)

    in_file = {f.code: f.name for f in read.features}
    added = sorted(set(in_file) - set(current))
    removed = sorted(set(current) - set(in_file))
    renamed = [
        {"code": code, "before": current[code], "after": in_file[code]}
        for code in sorted(set(in_file) & set(current))
        if current[code] != in_file[code]
    ]
    changed = []
    for code, _name, before, after, moved in compared:
        share = moved / before if before else 1.0
        if share > CHANGED_SHARE:
            changed.append(
                {
                    "code": code,
                    "name": in_file[code],
                    "hectares_before": round(before / 10_000, 1),
                    "hectares_after": round(after / 10_000, 1),
                    "area_change": round((after - before) / before, 4) if before else None,
                    "moved": round(share, 4),
                }
            )
    changed.sort(key=lambda c: (-c["moved"], c["code"]))
    warnings = list(read.warnings)
    plural = f"{word}s"
    if removed:
        warnings.append(
            f"{len(removed):,} current {plural} are not in the file and would lose their pages: "
            + _list(f"{code} {current[code]}" for code in removed)
        )
    moved_a_lot = [c for c in changed if c["moved"] > MOVED_A_LOT]
    if moved_a_lot:
        warnings.append(
            f"{len(moved_a_lot):,} {plural} moved a lot (more than {MOVED_A_LOT:.0%} of the "
            "area differs): "
            + _list(f"{c['code']} {c['name']} ({c['moved']:.0%})" for c in moved_a_lot)
        )
    shared = len(set(in_file) & set(current))
    if current and shared < len(in_file) / 2:
        warnings.append(
            f"only {shared:,} of the file's {len(in_file):,} codes are current {word} codes: "
            "is it of another vintage?"
        )
    dependents = _dependents(level=level, removed=removed)
    warnings += dependents.pop("warnings")
    preview = {
        "boundaries": True,
        "level": level,
        "word": word,
        "file": read.file,
        "features": len(read.features),
        "crs": read.crs,
        "code_field": read.code_field,
        "name_field": read.name_field,
        "vintage": read.vintage,
        "current_set": (
            {"id": current_set.pk, "name": str(current_set.name), "areas": len(current)}
            if current_set
            else None
        ),
        "current_sets": current_sets(),
        "counts": {
            "added": len(added),
            "removed": len(removed),
            "renamed": len(renamed),
            "changed": len(changed),
            "unchanged": len(in_file) - len(added) - len(changed),
        },
        "added": [{"code": c, "name": in_file[c]} for c in added[:LISTED]],
        "removed": [{"code": c, "name": current[c]} for c in removed[:LISTED]],
        "renamed": renamed[:LISTED],
        "changed": changed[:LISTED],
        "dependents": dependents,
    }
    return BoundaryCheck(
        file=read, warnings=warnings, preview=preview, removed_codes=removed, added_codes=added
    )


def _list(items: Iterable[str], limit: int = 20) -> str:
    items = list(items)
    more = f" and {len(items) - limit:,} more" if len(items) > limit else ""
    return ", ".join(items[:limit]) + more


def _dependents(*, level: str, removed: list[str]) -> dict:
    """What else loses its link when codes go: children, LSOAs' best-fit wards, SNT teams."""
    current = Area.objects.filter(boundary_set__is_current=True)
    found: dict = {"warnings": []}
    if level == Level.BOROUGH:
        orphans = current.filter(level__in=[Level.WARD, Level.LSOA], parent__code__in=removed)
        found["children_reparented"] = orphans.count()
    if level == Level.WARD:
        lsoas = current.filter(level=Level.LSOA, best_fit_ward__code__in=removed).count()
        teams = SaferNeighbourhoodTeam.objects.filter(ward_code__in=removed).count()
        found["lsoas_refitted"] = lsoas
        found["teams_without_ward"] = teams
        if teams:
            found["warnings"].append(
                f"{teams:,} Safer Neighbourhoods teams have a ward code that is not in the file: "
                "their ward pages go"
            )
    if level in (Level.WARD, Level.LSOA):
        found["postcodes"] = Postcode.objects.count()
    if found.get("children_reparented"):
        found["warnings"].append(
            f"{found['children_reparented']:,} wards and LSOAs have a borough that is not in the "
            "file: each goes to the new borough it overlaps most"
        )
    if found.get("lsoas_refitted"):
        found["warnings"].append(
            f"{found['lsoas_refitted']:,} LSOAs have a best-fit ward that is not in the file: "
            "each gets the ward holding a point inside it"
        )
    return found


# Publishing and switching sets ------------------------------------------------------------


@transaction.atomic
def publish_boundary_file(
    *,
    path: Path,
    file: str,
    expected_sets: dict[str, int] | None,
    log: Callable[[str], None] = print,
) -> BoundarySet:
    """Make a checked file the current set of its level, linked and displayed as load_london
    does, then re-point everything else that hangs on areas. One transaction."""
    read = read_upload(path=path, file=file)
    if expected_sets is not None and current_sets() != expected_sets:
        raise UploadError(
            file,
            "the current boundaries changed since this file was checked (another upload or a "
            "rollback): check it again before publishing",
        )
    level = read.level
    plural = read.words[1] + "s"
    boundary_set = write_boundary_set(
        level=level,
        name=f"{plural} uploaded from {file}"[:200],
        vintage=read.vintage,
        features=read.features,
        parents=_parent_hints(read),
        best_fit_wards=_best_fit_hints(read) if level == Level.LSOA else None,
        source_paths=[path],
        source_files=[file],
        notes=f"Uploaded through the admin; codes from {read.code_field}, names from "
        f"{read.name_field}; {read.crs}.",
    )
    relink_current(new_set=boundary_set)
    placed = place_postcodes(levels=[level])
    log(
        f"{plural}: {len(read.features):,} areas in a new current set ({boundary_set.pk})"
        + (f"; {placed:,} postcodes placed again" if placed else "")
    )
    return boundary_set


def _parent_hints(read: BoundaryFile) -> dict[str, int]:
    """Code → parent id where the file or the current set says it; relink_current fills the
    rest by overlap. Boroughs belong to London; wards and LSOAs take the borough code the file
    gives (LADyyCD), else their current parent's code."""
    if read.level == Level.BOROUGH:
        region = next(iter(current_ids(level=Level.REGION).values()), None)
        return {f.code: region for f in read.features if region}
    boroughs = current_ids(level=Level.BOROUGH)
    before = dict(
        Area.objects.filter(boundary_set__is_current=True, level=read.level).values_list(
            "code", "parent__code"
        )
    )
    borough_field = find_field(
        fields=list(read.features[0].attributes), patterns=BOROUGH_CODE_FIELDS
    )
    hints: dict[str, int] = {}
    for feature in read.features:
        given = feature.attribute(borough_field).upper() if borough_field else ""
        code = given if given in boroughs else before.get(feature.code)
        if code in boroughs:
            hints[feature.code] = boroughs[code]
    return hints


def _best_fit_hints(read: BoundaryFile) -> dict[str, int]:
    """LSOA code → the current ward of the code its current best fit has (the ONS lookup's
    answer, kept); new LSOAs get theirs from relink_current."""
    wards = current_ids(level=Level.WARD)
    before = Area.objects.filter(boundary_set__is_current=True, level=Level.LSOA).values_list(
        "code", "best_fit_ward__code"
    )
    return {code: wards[ward] for code, ward in before if ward in wards}


def _current(alias: str, level: str) -> str:
    return CURRENT.format(s=f"{alias}s", a=alias, level=level)


RELINK_SQL = [
    # Boroughs belong to the current London.
    f"""UPDATE areas_area c SET parent_id = r.id
    FROM areas_boundaryset cs, areas_area r {_current("r", Level.REGION)}
    WHERE cs.id = c.boundary_set_id AND cs.is_current AND c.level = '{Level.BOROUGH}'
      AND c.parent_id IS DISTINCT FROM r.id""",
    # Wards and LSOAs: the current borough with their parent's code ...
    f"""UPDATE areas_area c SET parent_id = p.id
    FROM areas_boundaryset cs, areas_area old, areas_area p {_current("p", Level.BOROUGH)}
    WHERE cs.id = c.boundary_set_id AND cs.is_current
      AND c.level IN ('{Level.WARD}', '{Level.LSOA}')
      AND old.id = c.parent_id AND p.code = old.code AND c.parent_id <> p.id""",
    # ... or, when that code is gone, the current borough they overlap most.
    f"""UPDATE areas_area c SET parent_id = (
        SELECT p.id FROM areas_area p {_current("p", Level.BOROUGH)}
        WHERE ST_Intersects(p.geometry, c.geometry)
        ORDER BY ST_Area(ST_Intersection(p.geometry, c.geometry)) DESC, p.code LIMIT 1)
    FROM areas_boundaryset cs
    WHERE cs.id = c.boundary_set_id AND cs.is_current
      AND c.level IN ('{Level.WARD}', '{Level.LSOA}')
      AND (c.parent_id IS NULL OR c.parent_id NOT IN (
        SELECT p.id FROM areas_area p {_current("p", Level.BOROUGH)}))""",
    # LSOAs: the current ward with their best-fit ward's code ...
    f"""UPDATE areas_area c SET best_fit_ward_id = w.id
    FROM areas_boundaryset cs, areas_area old, areas_area w {_current("w", Level.WARD)}
    WHERE cs.id = c.boundary_set_id AND cs.is_current AND c.level = '{Level.LSOA}'
      AND old.id = c.best_fit_ward_id AND w.code = old.code AND c.best_fit_ward_id <> w.id""",
    # ... or, when that code is gone (or for a new LSOA), the ward holding a point inside the
    # LSOA: ONS's best fit uses population-weighted centroids, which we do not have.
    f"""UPDATE areas_area c SET best_fit_ward_id = (
        SELECT w.id FROM areas_area w {_current("w", Level.WARD)}
        WHERE ST_Intersects(w.geometry, ST_PointOnSurface(c.geometry)) ORDER BY w.code LIMIT 1)
    FROM areas_boundaryset cs
    WHERE cs.id = c.boundary_set_id AND cs.is_current AND c.level = '{Level.LSOA}'
      AND ((c.best_fit_ward_id IS NOT NULL AND c.best_fit_ward_id NOT IN (
              SELECT w.id FROM areas_area w {_current("w", Level.WARD)}))
           OR (c.best_fit_ward_id IS NULL AND c.boundary_set_id = %(new_set)s))""",
]


@transaction.atomic
def relink_current(*, new_set: BoundarySet | None = None) -> None:
    """Point current areas' parents and best-fit wards at current areas, by code (overlap when a
    code is gone). `new_set`'s LSOAs without a best-fit ward get one by geometry."""
    with connection.cursor() as cursor:
        for sql in RELINK_SQL:
            cursor.execute(sql, {"new_set": new_set.pk if new_set else None})
    invalidate_cache(Area)


POSTCODE_COLUMNS = {Level.LSOA: "lsoa_code", Level.WARD: "ward_code"}


@transaction.atomic
def place_postcodes(*, levels: Iterable[str]) -> int:
    """Place postcodes again in the current LSOAs or wards (their codes are what lookups read);
    the borough comes from Code-Point itself. Returns how many postcodes were placed."""
    columns = [(level, POSTCODE_COLUMNS[level]) for level in levels if level in POSTCODE_COLUMNS]
    if not columns or not Postcode.objects.exists():
        return 0
    with connection.cursor() as cursor:
        for level, column in columns:
            cursor.execute(f"UPDATE areas_postcode SET {column} = ''")
            cursor.execute(PLACE_SQL.format(column=column), [level])
    invalidate_cache(Postcode)
    return Postcode.objects.count()


@transaction.atomic
def restore_sets(*, sets: dict[str, int]) -> list[str]:
    """Make these sets (level → id) current again, then re-point links and postcodes; returns
    the levels that changed. A set that no longer exists is an error: nothing is changed."""
    now = current_sets()
    wanted = {level: set_id for level, set_id in sets.items() if now.get(level) != set_id}
    found = BoundarySet.objects.in_bulk(list(wanted.values()))
    missing = sorted(set(wanted.values()) - set(found))
    if missing:
        raise LookupError(f"boundary sets {missing} of that state no longer exist")
    for set_id in wanted.values():
        make_current(boundary_set=found[set_id])
    if wanted:
        relink_current()
        place_postcodes(levels=list(wanted))
    return sorted(wanted)
