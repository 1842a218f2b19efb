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
from crimestats.models import Category, Denominator, Publication, Release
from crimestats.periods import Period, add_months, complete_ends, months_in
from crimestats.services.counts import covered_months, current_counts
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


def latest_month() -> date | None:
    """The latest month the Met has published for London as a whole: the site's default end."""
    months = covered_months(level=Level.REGION, source=MPS_SOURCE.source, force=MPS_SOURCE.force)
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
    counts: dict[tuple[int, int, date], int],
    earliest_end: date,
) -> list[Cell]:
    """Period totals for every area of one level, from the months its own source covers."""
    cells: list[Cell] = []
    by_source: dict[Source, list[AreaRow]] = defaultdict(list)
    for area in areas:
        by_source[source_for(code=area.code, borough_code=area.borough_code)].append(area)
    for source, members in by_source.items():
        months = covered_months(level=members[0].level, source=source.source, force=source.force)
        if not months:
            continue
        index = {month: i for i, month in enumerate(months)}
        series = np.zeros((len(members), len(categories), len(months)), dtype=np.int64)
        row = {area.id: a for a, area in enumerate(members)}
        column = {category.id: c for c, category in enumerate(categories)}
        for (area_id, category_id, month), count in counts.items():
            if area_id in row and month in index:
                series[row[area_id], column[category_id], index[month]] = count
        for period in Period:
            for end in complete_ends(period, months):
                # Whole financial years go back as far as the data, for the long-run trend.
                if end < earliest_end and period != Period.FINANCIAL_YEAR:
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
    latest = latest_month()
    if latest is None or not categories:
        return None, []
    denominators = _denominators(areas)
    earliest_end = add_months(latest, -(PUBLISHED_MONTHS - 1))
    london_rates: dict[tuple[int, str, date], float | None] = {}
    rows: list[tuple] = []
    for level in LEVELS_IN_ORDER:
        cells = _cells_for_level(
            areas=areas.get(level, []),
            categories=categories,
            counts=current_counts(level=level, categories=categories),
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
