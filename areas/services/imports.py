"""Import one level's boundaries from files as a new current boundary set, all or nothing.

Every file is read and checked before anything is written; the set, its areas, display
geometries and neighbours are then written in one transaction.
"""

from collections.abc import Sequence
from pathlib import Path

from django.db import transaction

from areas.importers.boundaries import LEVEL_WORDS, BoundaryFeature, read_boundary_files
from areas.importers.errors import UploadError
from areas.importers.lookups import read_lsoa_ward_lookup
from areas.importers.ward_kml import read_ward_kml_files
from areas.models import BoundarySet, Level
from areas.services.boundary_sets import NewArea, checksum, create_boundary_set, current_ids
from areas.services.coverage import clean_coverage
from areas.services.display import build_display
from areas.services.neighbours import store_neighbours

PARENT_LEVEL = {Level.BOROUGH: Level.REGION, Level.WARD: Level.BOROUGH, Level.LSOA: Level.BOROUGH}


def import_boundaries(
    *,
    paths: Sequence[Path],
    level: str,
    name: str,
    vintage: str,
    parent_field: str | None = None,
    notes: str = "",
    tolerance: float | None = None,
) -> BoundarySet:
    """Read boundary files of one level (any GDAL format) and make them the current set.

    `parent_field` names the attribute holding each area's parent code (e.g. "lad22cd" in an
    LSOA file); the parent must be in the parent level's current set.
    """
    features = read_boundary_files(paths=paths, level=level)
    parents = _parents(features=features, level=level, field=parent_field)
    return write_boundary_set(
        level=level,
        name=name,
        vintage=vintage,
        features=features,
        parents=parents,
        source_paths=paths,
        notes=notes,
        tolerance=tolerance,
    )


def import_ward_kmls(
    *,
    paths: Sequence[Path],
    lookup_path: Path,
    name: str,
    vintage: str,
    notes: str = "",
    tolerance: float | None = None,
) -> BoundarySet:
    """police.uk ward KMLs (file name = code) with names and boroughs from the ONS lookup."""
    lookup = read_lsoa_ward_lookup(path=lookup_path)
    features = read_ward_kml_files(paths=paths, lookup=lookup)
    boroughs = current_ids(level=Level.BOROUGH)
    parents: dict[str, int] = {}
    for feature in features:
        borough = feature.attribute("borough_code")
        if borough not in boroughs:
            raise UploadError(
                lookup.file,
                f"ward {feature.code}'s borough is not in the current borough set",
                None,
                lookup.columns["lad_code"],
                borough,
            )
        parents[feature.code] = boroughs[borough]
    return write_boundary_set(
        level=Level.WARD,
        name=name,
        vintage=vintage,
        features=features,
        parents=parents,
        source_paths=[*paths, lookup_path],
        notes=notes,
        tolerance=tolerance,
    )


def _parents(
    *, features: Sequence[BoundaryFeature], level: str, field: str | None
) -> dict[str, int]:
    """Code → parent id, from the parent field, checked against the parent level's current set."""
    if field is None:
        return {}
    parent_level = PARENT_LEVEL.get(level)
    if parent_level is None:
        raise ValueError(f"{level} areas have no parent level")
    ids = current_ids(level=parent_level)
    parents: dict[str, int] = {}
    for feature in features:
        code = feature.attribute(field).upper()
        if code not in ids:
            if not any(key.lower() == field.lower() for key in feature.attributes):
                raise UploadError(feature.file, f"no {field} field for the parent code")
            raise UploadError(
                feature.file,
                f"no {LEVEL_WORDS[parent_level][1]} with this code in the current set",
                feature.number,
                field,
                code,
            )
        parents[feature.code] = ids[code]
    return parents


@transaction.atomic
def write_boundary_set(
    *,
    level: str,
    name: str,
    vintage: str,
    features: Sequence[BoundaryFeature],
    parents: dict[str, int],
    source_paths: Sequence[Path],
    notes: str,
    tolerance: float | None = None,
    best_fit_wards: dict[str, int] | None = None,
    source_files: Sequence[str] | None = None,
) -> BoundarySet:
    """Checked features as the level's new current set: cleaned into a coverage, with display
    geometries and neighbours (shared by the file imports and the admin's boundary uploads)."""
    best_fit_wards = best_fit_wards or {}
    cleaned = clean_coverage(geometries=[f.geometry for f in features])
    if cleaned.changed:
        notes = f"{notes}\nCoverage cleaning: {cleaned.summary()}".strip()
    boundary_set = create_boundary_set(
        level=level,
        name=name,
        vintage=vintage,
        areas=[
            NewArea(
                code=f.code,
                name=f.name,
                geometry=g,
                parent_id=parents.get(f.code),
                best_fit_ward_id=best_fit_wards.get(f.code),
            )
            for f, g in zip(features, cleaned.geometries, strict=True)
        ],
        source_files=source_files or [p.name for p in source_paths],
        checksum=checksum(paths=source_paths),
        notes=notes,
    )
    build_display(boundary_set=boundary_set, tolerance=tolerance)
    store_neighbours(boundary_set=boundary_set)
    return boundary_set
