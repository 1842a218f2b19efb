"""Disclosure control for one block of a publication: from the builder's arrays to the policy.

The rules live in crimestats/disclosure.py; this module only says which figures go together:
each area and category's month, rolling-12, FYTD and financial-year figures, and, for the City
of London, whose borough figure is exactly the sum of its six LSOAs, those LSOAs with that total.
"""

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date

from areas.models import Level
from crimestats import disclosure
from crimestats.models import Category
from crimestats.periods import Period
from crimestats.sources import CITY_SOURCE

# Protection is CPU-bound pure Python: spread the series over the machine's cores.
WORKERS = max(1, min(4, os.cpu_count() or 1))

# Single months in an LSOA are mostly 0 to 4, and publishing them beside rolling totals forces
# much secondary suppression (R12(e) - R12(e-1) = M(e) - M(e-12)): LSOAs get no monthly figures.
PERIODS_BY_LEVEL = {Level.LSOA: (Period.ROLLING_12, Period.FYTD, Period.FINANCIAL_YEAR)}


def periods_for(level: str) -> tuple[Period, ...]:
    """The periods published at a level."""
    return PERIODS_BY_LEVEL.get(level, tuple(Period))


@dataclass
class ProtectedBlock:
    figures: dict[tuple[int, int, Period, date], disclosure.Published]
    tally: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    failures: int = 0


def protect_block(
    *, block, categories: list[Category], earliest_end: date, policy: disclosure.Policy
) -> ProtectedBlock | None:
    """Published forms of every figure of a block, or None where the level is not protected."""
    if block.level not in policy.levels:
        return None
    if needs_parent_total(block):
        return _collect(_with_parent_total(block, categories, earliest_end, policy), categories)
    jobs = [
        (
            area,
            category,
            disclosure.Series(
                monthly=tuple(block.counts[a, c].tolist()),
                months=tuple(block.months),
                level=block.level,
                earliest_end=earliest_end,
                periods=periods_for(block.level),
            ),
        )
        for a, area in enumerate(block.areas)
        for c, category in enumerate(categories)
    ]
    todo = list({s: None for _, _, s in jobs if (s, policy) not in _MEMO})
    if len(_MEMO) + len(todo) > MEMO_LIMIT:
        _MEMO.clear()
    for series, protection in zip(
        todo, disclosure.protect_many(todo, policy=policy, workers=WORKERS), strict=True
    ):
        _MEMO[(series, policy)] = _summarise(protection)
    result = ProtectedBlock(figures={})
    for area, category, series in jobs:
        done = _MEMO[(series, policy)]
        result.failures += done.failures
        for period, end, published in done.figures:
            result.figures[(area.id, category.id, period, end)] = published
        _add_counts(result.tally.setdefault((block.level, category.slug), {}), done.tally)
    return result


@dataclass(frozen=True)
class _SeriesResult:
    """What protecting one series gave, without the area: reusable for identical series."""

    figures: tuple[tuple[Period, date, disclosure.Published], ...]
    tally: tuple[tuple[str, int], ...]
    failures: int


# Protection depends only on a series' counts, months, level, periods, earliest end and the
# policy, so publishing again after a change re-protects only the series that changed.
_MEMO: dict[tuple[disclosure.Series, disclosure.Policy], _SeriesResult] = {}
MEMO_LIMIT = 60_000


def _summarise(protection: disclosure.Protection) -> _SeriesResult:
    tally: dict[str, int] = {}
    for counts in protection.tally().values():
        _add_counts(tally, asdict(counts))
    return _SeriesResult(
        figures=tuple((period, end, published) for (period, end), published in protection.items()),
        tally=tuple(tally.items()),
        failures=len(protection.failures),
    )


def _add_counts(total: dict[str, int], counts) -> None:
    for name, value in dict(counts).items():
        total[name] = total.get(name, 0) + value


def _with_parent_total(block, categories, earliest_end, policy) -> list[disclosure.Protection]:
    """One table per category: the City's LSOAs and their published borough total together."""
    return [
        disclosure.protect(
            parent_total_table(block=block, c=c, category=category, earliest_end=earliest_end),
            policy=policy,
        )
        for c, category in enumerate(categories)
    ]


def parent_total_table(*, block, c: int, category: Category, earliest_end: date):
    """A block's areas for one category with their exact total, as one table (keys as in
    ``series_key``; the total's cells are keyed ``("total", category id)``)."""
    table = disclosure.Table()
    parts, keys = [], []
    for a, area in enumerate(block.areas):
        months = table.add_months(block.counts[a, c].tolist(), block.months)
        table.add_periods(
            series_key(area.id, category.id),
            months,
            level=block.level,
            periods=periods_for(block.level),
            earliest_end=earliest_end,
        )
        parts.append(months)
        keys.append(series_key(area.id, category.id))
    table.add_periods(
        ("total", category.id),
        parts,
        level=Level.BOROUGH,
        periods=periods_for(block.level),
        earliest_end=earliest_end,
        children=keys,
    )
    return table


def series_key(area_id: int, category_id: int) -> tuple[int, int]:
    return (area_id, category_id)


def needs_parent_total(block) -> bool:
    """The City's borough figure is the exact sum of its LSOAs, so they are protected together."""
    return block.source == CITY_SOURCE and block.level == Level.LSOA


def _collect(
    protections: Iterable[disclosure.Protection], categories: list[Category]
) -> ProtectedBlock:
    slugs = {category.id: category.slug for category in categories}
    result = ProtectedBlock(figures={})
    for protection in protections:
        result.failures += len(protection.failures)
        for (key, period, end), published in protection.items():
            if key[0] != "total":
                result.figures[(key[0], key[1], period, end)] = published
        tally = protection.tally(by=lambda cell: (cell.level, cell.key[0][1]))
        for (level, category_id), counts in tally.items():
            if level == Level.BOROUGH:
                continue
            _add_counts(result.tally.setdefault((level, slugs[category_id]), {}), asdict(counts))
    return result
