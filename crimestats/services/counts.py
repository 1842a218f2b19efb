"""Selectors for raw (unpublished) counts: current monthly counts by area and major category.

Raw counts are never shown as they are: the publication builder reads them here and applies
disclosure control. Zeros are implied: a missing (area, category, month) in a covered month is 0.
"""

from collections.abc import Iterable
from datetime import date

from django.db import connection

from crimestats.models import Category, CurrentMonth
from crimestats.sources import CITY_SOURCE, MPS_SOURCE, Source

# Each area's figures come from one force; police.uk Met files never stand in for the MPS ones.
DEFAULT_SOURCES = (MPS_SOURCE, CITY_SOURCE)

CURRENT_COUNTS_SQL = """
    SELECT mc.area_id, COALESCE(c.parent_id, c.id) AS major, mc.month, SUM(mc.count)
    FROM crimestats_monthlycount mc
    JOIN crimestats_currentmonth cm
      ON cm.release_id = mc.release_id AND cm.month = mc.month
    JOIN areas_area a ON a.id = mc.area_id AND a.level = cm.level
    JOIN areas_boundaryset bs ON bs.id = a.boundary_set_id AND bs.is_current
    JOIN crimestats_category c ON c.id = mc.category_id
    WHERE a.level = %s
      AND (cm.source, cm.force) IN (SELECT * FROM unnest(%s::text[], %s::text[]))
      {category_filter}
    GROUP BY 1, 2, 3
"""


def current_counts(
    *,
    level: str,
    categories: list[Category] | None = None,
    sources: Iterable[Source] = DEFAULT_SOURCES,
) -> dict[tuple[int, int, date], int]:
    """Current counts per (area id, major category id, month), summed over minor categories.

    One query over MonthlyCount joined to CurrentMonth. ``categories`` are major categories
    (default: all); ``sources`` the (source, force) pairs to read, by default the MPS for the
    Met's areas and police.uk for the City's.
    """
    sources = list(sources)
    params: list = [level, [s.source for s in sources], [s.force for s in sources]]
    category_filter = ""
    if categories is not None:
        minors = [c for c in categories if c.parent_id is not None]
        if minors:
            raise ValueError(f"current_counts takes major categories, not {minors[0]}")
        category_filter = "AND COALESCE(c.parent_id, c.id) = ANY(%s)"
        params.append([c.id for c in categories])
    sql = CURRENT_COUNTS_SQL.format(category_filter=category_filter)
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        return {(area, major, month): int(total) for area, major, month, total in cursor}


def covered_months(
    *, level: str, source: str | None = None, force: str | None = None
) -> list[date]:
    """Months with a current release at this level (for a source and force, if given), in order."""
    months = CurrentMonth.objects.filter(level=level)
    if source is not None:
        months = months.filter(source=source)
    if force is not None:
        months = months.filter(force=force)
    return sorted(set(months.values_list("month", flat=True)))
