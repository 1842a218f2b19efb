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
from crimestats.periods import add_months, months_in
from crimestats.selectors import shown_categories
from crimestats.services.counts import covered_months, current_counts
from crimestats.services.protection import periods_for, protect_block
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


def current_area_rows() -> dict[str, list[AreaRow]]:
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
class Block:
    """One level's areas whose figures come from the same source: their counts as an array."""

    level: str
    source: Source
    areas: list[AreaRow]
    months: list[date]
    counts: np.ndarray  # [area, category, month]


def blocks_for_level(
    *, level: str, areas: list[AreaRow], categories: list[Category], counts: dict
) -> list[Block]:
    """Group a level's areas by the source of their figures, with their monthly counts."""
    by_source: dict[Source, list[AreaRow]] = defaultdict(list)
    for area in areas:
        by_source[source_for(code=area.code, borough_code=area.borough_code)].append(area)
    blocks = []
    column = {category.id: c for c, category in enumerate(categories)}
    for source, members in by_source.items():
        months = covered_months(level=level, source=source.source, force=source.force)
        if not months:
            continue
        index = {month: i for i, month in enumerate(months)}
        row = {area.id: a for a, area in enumerate(members)}
        array = np.zeros((len(members), len(categories), len(months)), dtype=np.int64)
        for (area_id, category_id, month), count in counts.items():
            if area_id in row and month in index:
                array[row[area_id], column[category_id], index[month]] = count
        blocks.append(Block(level, source, members, months, array))
    return blocks


def _period_totals(block: Block, categories: list[Category], earliest_end: date):
    """(area, category, period, end, count) for every figure the block publishes."""
    index = {month: i for i, month in enumerate(block.months)}
    for period in periods_for(block.level):
        for end in disclosure.published_ends(period, block.months, earliest_end):
            columns = [index[m] for m in months_in(period, end)]
            totals = block.counts[:, :, columns].sum(axis=2)
            for a, area in enumerate(block.areas):
                for c, category in enumerate(categories):
                    yield area, category, period, end, int(totals[a, c])


def _rate(count: int, category: Category, denominator: tuple[int, int] | None) -> float | None:
    if denominator is None:
        return None
    residents, households = denominator
    base = households if category.denominator == Category.Denominator.HOUSEHOLDS else residents
    return round(count * 1000 / base, 2) if base else None


def build_figures(*, log: Callable[[str], None] = print) -> tuple[date | None, list[tuple], dict]:
    """Every published figure as a row ready for COPY (without the publication id), and what
    disclosure control hid, by level and category."""
    policy = disclosure.Policy.from_settings()
    categories = shown_categories()
    areas = current_area_rows()
    latest = latest_month()
    if latest is None or not categories:
        return None, [], {}
    denominators = _denominators(areas)
    earliest_end = add_months(latest, -(PUBLISHED_MONTHS - 1))
    london_rates: dict[tuple[int, str, date], float | None] = {}
    rows: list[tuple] = []
    hidden: dict[str, dict[str, dict[str, int]]] = {}
    for level in LEVELS_IN_ORDER:
        counts = current_counts(level=level, categories=categories)
        blocks = blocks_for_level(
            level=level, areas=areas.get(level, []), categories=categories, counts=counts
        )
        before = len(rows)
        for block in blocks:
            protected = protect_block(
                block=block, categories=categories, earliest_end=earliest_end, policy=policy
            )
            _add_tally(hidden, protected.tally if protected else {})
            for area, category, period, end, count in _period_totals(
                block, categories, earliest_end
            ):
                shown = (
                    protected.figures[(area.id, category.id, period, end)]
                    if protected
                    else disclosure.publish(count, level=level, policy=policy)
                )
                rate = (
                    None if shown.suppressed else _rate(count, category, denominators.get(area.id))
                )
                key = (category.id, period.value, end)
                if level == Level.REGION:
                    london_rates[key] = rate
                band = band_for(rate, london_rates.get(key))
                rows.append(
                    (
                        area.id,
                        category.id,
                        period.value,
                        end,
                        shown.value,
                        shown.suppressed,
                        shown.status == disclosure.Status.WITHHELD,
                        rate,
                        band.index if band else None,
                    )
                )
        log(f"  {level}: {len(rows) - before:,} figures")
    return latest, rows, hidden


def _add_tally(hidden: dict, tally: dict) -> None:
    """Add one block's hidden cells and crimes into the publication's summary."""
    for (level, category), counts in tally.items():
        slot = hidden.setdefault(level, {}).setdefault(category, {})
        for name, value in counts.items():
            slot[name] = slot.get(name, 0) + value


@transaction.atomic
def build_publication(
    *, user: AbstractBaseUser | None = None, make_current: bool = True, log=print
) -> Publication | None:
    """Build the next publication from the current releases and (by default) switch to it."""
    latest, rows, hidden = build_figures(log=log)
    if latest is None:
        log("Nothing to publish: no current releases or no shown categories.")
        return None
    publication = Publication.objects.create(
        created_by=user if user and user.is_authenticated else None,
        latest_month=latest,
        figure_count=len(rows),
        coverage=current_coverage(),
        disclosure_summary=hidden,
    )
    publication.releases.set(
        Release.objects.filter(current_months__isnull=False).distinct().values_list("id", flat=True)
    )
    columns = (
        "publication_id, area_id, category_id, period, end_month, count, suppressed, withheld,"
        " rate, band"
    )
    copy_sql = f"COPY crimestats_publishedfigure ({columns}) FROM STDIN"
    with connection.cursor() as cursor, cursor.cursor.copy(copy_sql) as copy:
        for row in rows:
            copy.write_row((publication.pk, *row))
    if make_current:
        switch_to(publication=publication)
    return publication


def current_coverage() -> list[list]:
    """A snapshot of which release is current for each (source, force, level, month)."""
    return [
        [source, force, level, month.isoformat(), release_id]
        for source, force, level, month, release_id in CurrentMonth.objects.order_by(
            "source", "force", "level", "month"
        ).values_list("source", "force", "level", "month", "release_id")
    ]


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
