"""Build a Publication from the current releases, and switch the site to it in one step.

Every figure the site shows is computed here once: period totals, rates, bands and disclosure
control, for every area, shown category, period and end month. Pages only read the result.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass
from datetime import date

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import connection, transaction

from areas.models import Area, BoundarySet, Level
from crimestats import disclosure
from crimestats.bands import band_for
from crimestats.models import Category, CurrentMonth, Denominator, Publication, Release
from crimestats.periods import Period, add_months, complete_ends, months_in
from crimestats.sources import CITY_OF_LONDON, MPS_SOURCE, Source, source_for

# End months published: enough for a 24-month trend and the same period a year earlier.
PUBLISHED_MONTHS = 36
LEVELS_IN_ORDER = (Level.REGION, Level.BOROUGH, Level.WARD, Level.LSOA)


@dataclass(frozen=True)
class AreaRow:
    id: int
    code: str
    level: str
    borough_code: str | None


def _current_areas() -> dict[str, list[AreaRow]]:
    rows = Area.objects.filter(boundary_set__is_current=True).values_list(
        "id", "code", "level", "parent__code", "parent__level"
    )
    by_level: dict[str, list[AreaRow]] = defaultdict(list)
    for area_id, code, level, parent_code, parent_level in rows:
        borough = parent_code if parent_level == Level.BOROUGH else None
        by_level[level].append(AreaRow(area_id, code, level, borough))
    return by_level


def _coverage() -> dict[tuple[str, str, str], list[date]]:
    """Months that have a current release, per (source, force, level)."""
    months: dict[tuple[str, str, str], list[date]] = defaultdict(list)
    for source, force, level, month in CurrentMonth.objects.values_list(
        "source", "force", "level", "month"
    ):
        months[(source, force, level)].append(month)
    return {key: sorted(value) for key, value in months.items()}


def _current_counts(category_ids: list[int]) -> dict[tuple[str, str, int], dict]:
    """Current monthly counts per (source, force, area) → {(major id, month): count}."""
    sql = """
        SELECT r.source, r.force, mc.area_id, COALESCE(c.parent_id, c.id) AS major, mc.month,
               SUM(mc.count)
        FROM crimestats_monthlycount mc
        JOIN crimestats_currentmonth cm ON cm.release_id = mc.release_id AND cm.month = mc.month
        JOIN crimestats_release r ON r.id = mc.release_id
        JOIN crimestats_category c ON c.id = mc.category_id
        WHERE COALESCE(c.parent_id, c.id) = ANY(%s)
        GROUP BY 1, 2, 3, 4, 5
    """
    counts: dict[tuple[str, str, int], dict] = defaultdict(dict)
    with connection.cursor() as cursor:
        cursor.execute(sql, [category_ids])
        for source, force, area_id, major, month, total in cursor:
            counts[(source, force, area_id)][(major, month)] = int(total)
    return counts


def _denominators(areas: dict[str, list[AreaRow]]) -> dict[int, tuple[int, int]]:
    values = {
        area_id: (residents, households)
        for area_id, residents, households in Denominator.objects.values_list(
            "area_id", "residents", "households"
        )
    }
    # London's figures are the Met's total, so its rate uses the Met area: London less the City.
    city = next((a for a in areas.get(Level.BOROUGH, []) if a.code == CITY_OF_LONDON), None)
    for region in areas.get(Level.REGION, []):
        if region.id in values and city and city.id in values:
            residents, households = values[region.id]
            city_residents, city_households = values[city.id]
            values[region.id] = (residents - city_residents, households - city_households)
    return values


def latest_month(coverage: dict[tuple[str, str, str], list[date]]) -> date | None:
    """The latest month the Met has published for London as a whole: the site's default end."""
    months = coverage.get((MPS_SOURCE.source, MPS_SOURCE.force, Level.REGION)) or coverage.get(
        (MPS_SOURCE.source, MPS_SOURCE.force, Level.BOROUGH)
    )
    return months[-1] if months else None


@dataclass
class Cell:
    area: AreaRow
    category: Category
    period: Period
    end: date
    count: int


def _cells_for_level(
    *,
    areas: list[AreaRow],
    categories: list[Category],
    coverage: dict[tuple[str, str, str], list[date]],
    counts: dict[tuple[str, str, int], dict],
    earliest_end: date,
) -> list[Cell]:
    """Period totals for every area of one level, from the months its own source covers."""
    cells: list[Cell] = []
    by_source: dict[Source, list[AreaRow]] = defaultdict(list)
    for area in areas:
        by_source[source_for(code=area.code, borough_code=area.borough_code)].append(area)
    for source, members in by_source.items():
        months = coverage.get((source.source, source.force, members[0].level), [])
        if not months:
            continue
        index = {month: i for i, month in enumerate(months)}
        series = np.zeros((len(members), len(categories), len(months)), dtype=np.int64)
        for a, area in enumerate(members):
            area_counts = counts.get((source.source, source.force, area.id), {})
            for c, category in enumerate(categories):
                for month, i in index.items():
                    series[a, c, i] = area_counts.get((category.id, month), 0)
        for period in Period:
            for end in complete_ends(period, months):
                if end < earliest_end:
                    continue
                columns = [index[m] for m in months_in(period, end)]
                totals = series[:, :, columns].sum(axis=2)
                for a, area in enumerate(members):
                    for c, category in enumerate(categories):
                        cells.append(Cell(area, category, period, end, int(totals[a, c])))
    return cells


def _rate(count: int, category: Category, denominator: tuple[int, int] | None) -> float | None:
    if denominator is None:
        return None
    residents, households = denominator
    base = households if category.denominator == Category.Denominator.HOUSEHOLDS else residents
    return round(count * 1000 / base, 2) if base else None


def build_figures(*, log: Callable[[str], None] = print) -> tuple[date | None, list[tuple]]:
    """Every published figure as a row ready for COPY (without the publication id)."""
    policy = disclosure.Policy.from_settings()
    categories = list(Category.objects.filter(shown=True, parent=None).order_by("id"))
    areas = _current_areas()
    coverage = _coverage()
    latest = latest_month(coverage)
    if latest is None or not categories:
        return None, []
    counts = _current_counts([c.id for c in categories])
    denominators = _denominators(areas)
    earliest_end = add_months(latest, -(PUBLISHED_MONTHS - 1))
    london_rates: dict[tuple[int, str, date], float | None] = {}
    rows: list[tuple] = []
    for level in LEVELS_IN_ORDER:
        cells = _cells_for_level(
            areas=areas.get(level, []),
            categories=categories,
            coverage=coverage,
            counts=counts,
            earliest_end=earliest_end,
        )
        for cell in cells:
            shown = disclosure.publish(cell.count, level=level, policy=policy)
            rate = (
                None
                if shown.suppressed
                else _rate(cell.count, cell.category, denominators.get(cell.area.id))
            )
            key = (cell.category.id, cell.period.value, cell.end)
            if level == Level.REGION:
                london_rates[key] = rate
            band = band_for(rate, london_rates.get(key))
            rows.append(
                (
                    cell.area.id,
                    cell.category.id,
                    cell.period.value,
                    cell.end,
                    shown.value,
                    shown.suppressed,
                    rate,
                    band.index if band else None,
                )
            )
        log(f"  {level}: {len(cells):,} figures")
    return latest, rows


@transaction.atomic
def build_publication(
    *, user: AbstractBaseUser | None = None, make_current: bool = True, log=print
) -> Publication | None:
    """Build the next publication from the current releases and (by default) switch to it."""
    latest, rows = build_figures(log=log)
    if latest is None:
        log("Nothing to publish: no current releases or no shown categories.")
        return None
    publication = Publication.objects.create(
        created_by=user if user and user.is_authenticated else None,
        latest_month=latest,
        figure_count=len(rows),
    )
    publication.releases.set(
        Release.objects.filter(current_months__isnull=False).distinct().values_list("id", flat=True)
    )
    columns = (
        "publication_id, area_id, category_id, period, end_month, count, suppressed, rate, band"
    )
    copy_sql = f"COPY crimestats_publishedfigure ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row((publication.pk, *row))
    if make_current:
        switch_to(publication=publication)
    return publication


def publication_is_stale() -> bool:
    """True when the current releases or boundaries differ from what the site publishes."""
    current = Publication.objects.filter(is_current=True).first()
    if current is None:
        return True
    in_use = set(
        Release.objects.filter(current_months__isnull=False).distinct().values_list("id", flat=True)
    )
    if in_use != set(current.releases.values_list("id", flat=True)):
        return True
    return BoundarySet.objects.filter(is_current=True, created_at__gt=current.created_at).exists()


@transaction.atomic
def switch_to(*, publication: Publication) -> Publication:
    """Make one publication current: every page, map and download changes at once."""
    Publication.objects.filter(is_current=True).exclude(pk=publication.pk).update(is_current=False)
    Publication.objects.filter(pk=publication.pk).update(is_current=True)
    publication.is_current = True
    return publication
