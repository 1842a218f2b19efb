"""Boundary uploads on the statistics side: what the figures lose, denominators for new areas,
and restoring the boundaries of an earlier release state.

The geography itself is areas/services/boundary_uploads.py; this module adds what only the
statistics know about. Raw counts are left alone: MonthlyCount.area_id stays the area a count
was imported for, and current counts follow its code into the current set
(crimestats/services/counts.py).

Denominators: census figures exist per LSOA code, so an LSOA's are copied by code (the latest
stored for that code); wards, boroughs and London are then summed from the current LSOAs exactly
as the census importer does (a ward from its best-fit LSOAs, a borough from its LSOAs), because
copying a ward's or borough's total by code would be wrong as soon as the LSOAs under it change.
"""

from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from django.db import connection, transaction

from areas.models import Area, BoundarySet, Level
from areas.services.boundary_sets import sets_current_at
from areas.services.boundary_uploads import (
    BoundaryErrors,
    boundary_file,
    check_boundary_file,
    publish_boundary_file,
    restore_sets,
)
from crimestats.importers.census import denominator_rows
from crimestats.importers.common import UploadErrors
from crimestats.models import Denominator, PublishedFigure


@dataclass
class BoundaryUploadCheck:
    level: str
    features: int
    warnings: list[str]
    preview: dict

    @property
    def detected(self) -> str:
        p = self.preview
        return (
            f"boundary file: {p['features']:,} {p['word']}s ({p['code_field']}, "
            f"{p['name_field']}), {p['crs']}"
        )[:200]


def check_boundary_upload(*, path: Path) -> BoundaryUploadCheck:
    """Check a boundary upload; its preview adds the crime figures of codes that would go."""
    with boundary_file(path) as main:
        try:
            checked = check_boundary_file(path=main)
        except BoundaryErrors as errors:
            raise UploadErrors(errors.errors) from None
    level, preview, warnings = checked.file.level, checked.preview, list(checked.warnings)
    lost = figures_of_codes(level=level, codes=checked.removed_codes)
    preview["figures_lost"] = lost
    if lost["counts"]:
        warnings.append(
            f"{lost['counts']:,} current monthly counts ({lost['crimes']:,} crimes) and "
            f"{lost['published']:,} published figures belong to codes that are not in the file: "
            "they would no longer be shown"
        )
    if level == Level.LSOA:
        known = set(
            Denominator.objects.filter(area__level=Level.LSOA).values_list("area__code", flat=True)
        )
        missing = [code for code in checked.added_codes if code not in known]
        preview["census_missing"] = len(missing)
        if known and missing:
            warnings.append(
                f"{len(missing):,} new LSOAs have no census figures: they get no rates until a "
                "census upload gives them"
            )
    return BoundaryUploadCheck(
        level=level, features=len(checked.file.features), warnings=warnings, preview=preview
    )


FIGURES_OF_CODES_SQL = """
    SELECT COUNT(*), COALESCE(SUM(mc.count), 0)
    FROM crimestats_monthlycount mc
    JOIN crimestats_currentmonth cm ON cm.release_id = mc.release_id AND cm.month = mc.month
    JOIN areas_area a ON a.id = mc.area_id AND a.level = cm.level
    WHERE a.level = %s AND a.code = ANY(%s)
"""


def figures_of_codes(*, level: str, codes: list[str]) -> dict[str, int]:
    """Current raw counts (and their crimes) and currently published figures for these codes."""
    if not codes:
        return {"counts": 0, "crimes": 0, "published": 0}
    with connection.cursor() as cursor:
        cursor.execute(FIGURES_OF_CODES_SQL, [level, codes])
        counts, crimes = cursor.fetchone()
    published = PublishedFigure.objects.filter(
        block__publications__is_current=True, area__level=level, area__code__in=codes
    ).count()
    return {"counts": counts, "crimes": int(crimes), "published": published}


@transaction.atomic
def publish_boundary_upload(
    *, path: Path, preview: dict, log: Callable[[str], None] = print
) -> BoundarySet:
    """Write the new set (areas, links, display, postcodes), then the denominators of the new
    areas. The caller rebuilds the publication in the same transaction."""
    with boundary_file(path) as main:
        try:
            boundary_set = publish_boundary_file(
                path=main, file=main.name, expected_sets=preview.get("current_sets"), log=log
            )
        except BoundaryErrors as errors:
            raise UploadErrors(errors.errors) from None
    written = rebuild_denominators()
    log(f"denominators: {written:,} areas")
    return boundary_set


@transaction.atomic
def restore_boundaries(*, when: datetime, log: Callable[[str], None] = print) -> list[str]:
    """Make the boundary sets current at that moment current again (a rollback); returns the
    levels that changed. Raises LookupError when one of those sets is gone."""
    levels = restore_sets(sets=sets_current_at(when))
    if levels:
        rebuild_denominators()
        log(f"boundaries restored: {', '.join(levels)}")
    return levels


@transaction.atomic
def rebuild_denominators() -> int:
    """Denominators for every current area: LSOAs by code, the rest summed from the LSOAs.

    Returns how many areas have one (0, writing nothing, when no census figures are loaded).
    """
    latest: dict[str, tuple[int, int, str]] = {}
    lsoa_rows = Denominator.objects.filter(area__level=Level.LSOA).order_by("pk")
    for code, residents, households, source in lsoa_rows.values_list(
        "area__code", "residents", "households", "source"
    ):
        latest[code] = (residents, households, source)  # the last written for a code wins
    if not latest:
        return 0
    current = Area.objects.filter(boundary_set__is_current=True)
    lsoas = []
    sources: Counter[str] = Counter()
    for area_id, code, ward_id, parent_id, parent_level in current.filter(
        level=Level.LSOA
    ).values_list("id", "code", "best_fit_ward_id", "parent_id", "parent__level"):
        if code not in latest:
            continue
        residents, households, source = latest[code]
        lsoas.append((area_id, residents, households, source, ward_id, parent_id, parent_level))
        sources[source] += 1
    source = sources.most_common(1)[0][0] if sources else "Census 2021"
    rows = denominator_rows(lsoas, source=source)
    Denominator.objects.filter(area__boundary_set__is_current=True).delete()
    Denominator.objects.bulk_create(
        [
            Denominator(area_id=area_id, residents=r, households=h, source=s)
            for area_id, (r, h, s) in rows.items()
        ],
        batch_size=5000,
    )
    return len(rows)
