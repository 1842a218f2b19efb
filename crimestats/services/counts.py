"""Selectors for raw (unpublished) counts: monthly counts by area and major category.

Raw counts are never shown as they are: the publication builder reads them here and applies
disclosure control. Zeros are implied: a missing (area, category, month) in a covered month is 0.

Counts are stored against the area of the boundary set they were imported with, and read back
by code into the current set, so a new boundary file keeping a code keeps that area's figures.
They are read either for the current releases (CurrentMonth) or for a coverage snapshot (which
release was current for each month when an earlier publication was built).
"""

from collections import defaultdict
from collections.abc import Iterable, Sequence
from datetime import date

from django.db import connection

from crimestats.models import Category, CurrentMonth
from crimestats.sources import CITY_SOURCE, MPS_SOURCE, Source

# Each area's figures come from one force; police.uk Met files never stand in for the MPS ones.
DEFAULT_SOURCES = (MPS_SOURCE, CITY_SOURCE)

# [source, force, level, month (ISO), release id] rows, as Publication.coverage holds them.
Coverage = Sequence[Sequence]

# Counts are read release by release: with the release id as a literal the planner knows a
# City month has a few hundred rows (an index scan) and a Met file millions (a sequential scan);
# joined to a list of releases it guesses one plan for both, seconds too slow for the City.
RELEASE_COUNTS_SQL = """
    SELECT m.area_id, COALESCE(c.parent_id, c.id) AS major, m.month, SUM(m.count)
    FROM crimestats_monthlycount m
    JOIN crimestats_category c ON c.id = m.category_id
    WHERE m.release_id = %s AND m.month = ANY(%s) {category_filter} {area_filter}
    GROUP BY 1, 2, 3
"""
# Every area of a level, in any boundary set, with the current area that has its code.
CURRENT_OF_SQL = """
    SELECT a.id, cur.id
    FROM areas_area a
    JOIN areas_area cur ON cur.code = a.code AND cur.level = a.level
    JOIN areas_boundaryset bs ON bs.id = cur.boundary_set_id AND bs.is_current
    WHERE a.level = %s
"""

STATISTICS_SQL = (
    "ANALYZE areas_boundaryset, areas_area, crimestats_category, crimestats_currentmonth,"
    " crimestats_monthlycount"
)


def refresh_statistics() -> None:
    """Let the query planner see counts written in this transaction (a first load writes
    millions; autovacuum cannot see them before the commit, and a plan made for empty tables
    can take minutes instead of a second)."""
    with connection.cursor() as cursor:
        cursor.execute(STATISTICS_SQL)


def releases_for(
    *, level: str, sources: Iterable[Source], coverage: Coverage | None = None
) -> dict[int, list[date]]:
    """Release id → the months it gives at a level for some sources: the current releases, or
    a publication's coverage snapshot."""
    wanted = {(s.source, s.force) for s in sources}
    if coverage is None:
        coverage = CurrentMonth.objects.filter(level=level).values_list(
            "source", "force", "level", "month", "release_id"
        )
    months: dict[int, list[date]] = defaultdict(list)
    for source, force, lvl, month, release_id in coverage:
        if lvl == level and (source, force) in wanted:
            months[int(release_id)].append(date.fromisoformat(str(month)))
    return dict(months)


def current_counts(
    *,
    level: str,
    categories: list[Category] | None = None,
    sources: Iterable[Source] = DEFAULT_SOURCES,
    coverage: Coverage | None = None,
    areas: Iterable[int] | None = None,
) -> dict[tuple[int, int, date], int]:
    """Counts per (current area id, major category id, month), summed over minor categories.

    For the current releases by default, or a publication's coverage snapshot. ``categories``
    are major categories (default: all); ``sources`` the (source, force) pairs to read, by
    default the MPS for the Met's areas and police.uk for the City's; ``areas`` current area
    ids to read (default: all of the level).
    """
    category_filter, extra = "", []
    if categories is not None:
        minors = [c for c in categories if c.parent_id is not None]
        if minors:
            raise ValueError(f"current_counts takes major categories, not {minors[0]}")
        category_filter = "AND COALESCE(c.parent_id, c.id) = ANY(%s)"
        extra = [[c.id for c in categories]]
    result: dict[tuple[int, int, date], int] = defaultdict(int)
    with connection.cursor() as cursor:
        cursor.execute(CURRENT_OF_SQL, [level])
        current_of = dict(cursor.fetchall())
        area_filter = ""
        if areas is not None:
            wanted = set(areas)
            area_filter = "AND m.area_id = ANY(%s)"
            extra = [*extra, [a for a, cur in current_of.items() if cur in wanted]]
        sql = RELEASE_COUNTS_SQL.format(category_filter=category_filter, area_filter=area_filter)
        for release_id, months in releases_for(
            level=level, sources=sources, coverage=coverage
        ).items():
            cursor.execute(sql, [release_id, months, *extra])
            for area, major, month, total in cursor:
                if area in current_of:
                    result[(current_of[area], major, month)] += int(total)
    return dict(result)


def covered_months(
    *,
    level: str,
    source: str | None = None,
    force: str | None = None,
    coverage: Coverage | None = None,
) -> list[date]:
    """Months with a release at this level (for a source and force, if given), in order: the
    current releases, or a publication's coverage snapshot."""
    if coverage is not None:
        return sorted(
            {
                date.fromisoformat(str(month))
                for src, frc, lvl, month, _ in coverage
                if lvl == level and source in (None, src) and force in (None, frc)
            }
        )
    months = CurrentMonth.objects.filter(level=level)
    if source is not None:
        months = months.filter(source=source)
    if force is not None:
        months = months.filter(force=force)
    return sorted(set(months.values_list("month", flat=True)))
