"""Selectors for raw (unpublished) counts: monthly counts by area and major category.

Raw counts are never shown as they are: the publication builder reads them here and applies
disclosure control. Zeros are implied: a missing (area, category, month) in a covered month is 0.

Counts are stored against the area of the boundary set they were imported with, and read back
by code into the current set, so a new boundary file keeping a code keeps that area's figures.
They are read either for the current releases (CurrentMonth) or for a coverage snapshot (which
release was current for each month when an earlier publication was built).
"""

from collections.abc import Iterable, Sequence
from datetime import date

from django.db import connection

from crimestats.models import Category, CurrentMonth
from crimestats.sources import CITY_SOURCE, MPS_SOURCE, Source

# Each area's figures come from one force; police.uk Met files never stand in for the MPS ones.
DEFAULT_SOURCES = (MPS_SOURCE, CITY_SOURCE)

# [source, force, level, month (ISO), release id] rows, as Publication.coverage holds them.
Coverage = Sequence[Sequence]

CURRENT_COVERAGE_SQL = "SELECT source, force, level, month, release_id FROM crimestats_currentmonth"
# A snapshot goes into an analysed temporary table: joined as an unnest() of arrays, the planner
# guesses a handful of rows and picks nested loops ten times slower than a hash join.
SNAPSHOT_TABLE_SQL = (
    "CREATE TEMP TABLE IF NOT EXISTS coverage_snapshot"
    " (source text, force text, level text, month date, release_id bigint)"
)
SNAPSHOT_FILL_SQL = (
    "INSERT INTO coverage_snapshot"
    " SELECT * FROM unnest(%s::text[], %s::text[], %s::text[], %s::date[], %s::bigint[])"
)
SNAPSHOT_COVERAGE_SQL = "SELECT source, force, level, month, release_id FROM coverage_snapshot"

# current_of maps every area of the level (any boundary set) to the current area with its code:
# a few thousand rows, worked out once, so the big join with the counts is a plain hash join.
COUNTS_SQL = """
    WITH cover AS ({coverage}),
    current_of AS MATERIALIZED (
        SELECT a.id AS area_id, cur.id AS current_id
        FROM areas_area a
        JOIN areas_area cur ON cur.code = a.code AND cur.level = a.level
        JOIN areas_boundaryset bs ON bs.id = cur.boundary_set_id AND bs.is_current
        WHERE a.level = %s
    )
    SELECT co.current_id, COALESCE(c.parent_id, c.id) AS major, mc.month, SUM(mc.count)
    FROM crimestats_monthlycount mc
    JOIN cover cm ON cm.release_id = mc.release_id AND cm.month = mc.month
    JOIN current_of co ON co.area_id = mc.area_id
    JOIN crimestats_category c ON c.id = mc.category_id
    WHERE cm.level = %s
      AND (cm.source, cm.force) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
      {category_filter}
    GROUP BY 1, 2, 3
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


def _coverage_sql(cursor, coverage: Coverage | None) -> str:
    """SQL for the (source, force, level, month, release id) rows counts are read for."""
    if coverage is None:
        return CURRENT_COVERAGE_SQL
    columns = list(zip(*coverage, strict=True)) if coverage else [[], [], [], [], []]
    cursor.execute(SNAPSHOT_TABLE_SQL)
    cursor.execute("TRUNCATE coverage_snapshot")
    cursor.execute(SNAPSHOT_FILL_SQL, [list(column) for column in columns])
    cursor.execute("ANALYZE coverage_snapshot")
    return SNAPSHOT_COVERAGE_SQL


def current_counts(
    *,
    level: str,
    categories: list[Category] | None = None,
    sources: Iterable[Source] = DEFAULT_SOURCES,
    coverage: Coverage | None = None,
) -> dict[tuple[int, int, date], int]:
    """Counts per (current area id, major category id, month), summed over minor categories.

    One query over MonthlyCount joined to the coverage: the current releases by default, or a
    publication's snapshot. ``categories`` are major categories (default: all); ``sources`` the
    (source, force) pairs to read, by default the MPS for the Met's areas and police.uk for the
    City's.
    """
    sources = list(sources)
    params: list = [level, level, [s.source for s in sources], [s.force for s in sources]]
    category_filter = ""
    if categories is not None:
        minors = [c for c in categories if c.parent_id is not None]
        if minors:
            raise ValueError(f"current_counts takes major categories, not {minors[0]}")
        category_filter = "AND COALESCE(c.parent_id, c.id) = ANY(%s)"
        params.append([c.id for c in categories])
    with connection.cursor() as cursor:
        cover_sql = _coverage_sql(cursor, coverage)
        sql = COUNTS_SQL.format(coverage=cover_sql, category_filter=category_filter)
        cursor.execute(sql, params)
        return {(area, major, month): int(total) for area, major, month, total in cursor}


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
