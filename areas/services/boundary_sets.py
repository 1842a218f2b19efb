"""Write a new boundary set (made current) and its areas, fast, in one transaction."""

import hashlib
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

import shapely
from django.apps import apps
from django.db import connection, transaction
from django.utils import timezone
from django.utils.text import slugify
from shapely.geometry import MultiPolygon

from areas.models import Area, BoundarySet, CurrentSetChange

BNG_SRID = 27700
# A shapefile is several files; all of them change what GDAL reads.
SIDECARS = (".shp", ".shx", ".dbf", ".prj", ".cpg")


@dataclass(frozen=True)
class NewArea:
    """An area to write: its geometry must already be a valid MultiPolygon in EPSG:27700."""

    code: str
    name: str
    geometry: MultiPolygon
    parent_id: int | None = None
    best_fit_ward_id: int | None = None


def area_slug(name: str) -> str:
    """URL slug of a name: "Bromley-by-Bow & Mile End" → "bromley-by-bow-and-mile-end"."""
    return slugify(name.replace("&", " and "))


def source_paths(paths: Iterable[Path]) -> list[Path]:
    """The files behind some paths: a shapefile with its .shx/.dbf/.prj/.cpg, sorted."""
    found: set[Path] = set()
    for path in paths:
        found.add(path)
        if path.suffix.lower() == ".shp":
            found.update(p for p in (path.with_suffix(s) for s in SIDECARS) if p.exists())
    return sorted(found)


def checksum(*, paths: Iterable[Path] = (), parts: Iterable[str] = ()) -> str:
    """SHA-256 over file names and contents, plus extra text (e.g. upstream checksums)."""
    digest = hashlib.sha256()
    for path in source_paths(paths):
        digest.update(path.name.encode() + b"\0")
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(1 << 20), b""):
                digest.update(block)
        digest.update(b"\0")
    for part in parts:
        digest.update(part.encode() + b"\0")
    return digest.hexdigest()


def current_ids(*, level: str) -> dict[str, int]:
    """Code → id of the areas in the level's current set."""
    return dict(
        Area.objects.filter(boundary_set__is_current=True, level=level).values_list("code", "id")
    )


@transaction.atomic
def create_boundary_set(
    *,
    level: str,
    name: str,
    vintage: str,
    areas: Sequence[NewArea],
    source_files: Sequence[str],
    checksum: str,
    notes: str = "",
) -> BoundarySet:
    """A new set for the level with these areas; it becomes the one current set of the level."""
    BoundarySet.objects.filter(level=level, is_current=True).update(is_current=False)
    boundary_set = BoundarySet.objects.create(
        level=level,
        name=name,
        vintage=vintage,
        source_files="\n".join(source_files),
        checksum=checksum,
        notes=notes,
        is_current=True,
    )
    CurrentSetChange.objects.create(level=level, boundary_set=boundary_set, at=timezone.now())
    geometries = shapely.set_srid([a.geometry for a in areas], BNG_SRID)
    ewkb = shapely.to_wkb(geometries, hex=True, include_srid=True)
    table = Area._meta.db_table
    columns = (
        "boundary_set_id, level, code, name, slug, parent_id, best_fit_ward_id, geometry, svg_path"
    )
    with (
        connection.cursor() as cursor,
        cursor.cursor.copy(f"COPY {table} ({columns}) FROM STDIN") as copy,
    ):
        for area, geometry in zip(areas, ewkb, strict=True):
            copy.write_row(
                (
                    boundary_set.pk,
                    level,
                    area.code,
                    area.name,
                    area_slug(area.name),
                    area.parent_id,
                    area.best_fit_ward_id,
                    geometry,
                    "",  # made with the display geometry
                )
            )
    # COPY goes round Django's cursor wrapper, so django-cachalot does not see it: tell it.
    invalidate_cache(Area, BoundarySet)
    return boundary_set


def current_sets() -> dict[str, int]:
    """Level → id of its current boundary set."""
    return dict(BoundarySet.objects.filter(is_current=True).values_list("level", "id"))


def sets_current_at(when: datetime) -> dict[str, int]:
    """Level → id of the set that was current at that moment (levels with no record left out)."""
    found: dict[str, int] = {}
    for change in CurrentSetChange.objects.filter(at__lte=when).order_by("-at", "-pk"):
        found.setdefault(change.level, change.boundary_set_id)
    return found


def note_current_sets() -> None:
    """Record the current sets where the history does not already end with them (sets made
    current some other way, e.g. by hand), so that a state recorded now can be restored."""
    noted = sets_current_at(timezone.now())
    for level, set_id in current_sets().items():
        if noted.get(level) != set_id:
            CurrentSetChange.objects.create(level=level, boundary_set_id=set_id, at=timezone.now())


@transaction.atomic
def make_current(*, boundary_set: BoundarySet) -> None:
    """Make an existing set the current one of its level again (a rollback), and record it."""
    BoundarySet.objects.filter(level=boundary_set.level, is_current=True).exclude(
        pk=boundary_set.pk
    ).update(is_current=False)
    BoundarySet.objects.filter(pk=boundary_set.pk).update(is_current=True)
    boundary_set.is_current = True
    CurrentSetChange.objects.create(
        level=boundary_set.level, boundary_set=boundary_set, at=timezone.now()
    )


def invalidate_cache(*models: type) -> None:
    """Drop cached query results for these models (django-cachalot, when installed)."""
    if apps.is_installed("cachalot"):
        from cachalot.api import invalidate

        invalidate(*models)
