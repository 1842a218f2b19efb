"""Disclosure control for one block of a publication: from the builder's arrays to the policy.

The rules live in crimestats/disclosure.py; this module only says which figures go together:
each area and category's month, rolling-12, FYTD and financial-year figures, and, for the City
of London, whose borough figure is exactly the sum of its six LSOAs, those LSOAs with that total.
"""

import os
from collections.abc import Iterable
from dataclasses import asdict, dataclass, field
from datetime import date

import numpy as np

from areas.models import Level
from crimestats import disclosure
from crimestats.models import Category
from crimestats.periods import Period, months_in
from crimestats.sources import CITY_SOURCE

# Protection is CPU-bound pure Python: spread the series over the machine's cores.
WORKERS = max(1, min(4, os.cpu_count() or 1))

# What ONS publishes for police recorded crime at small areas: "year ending" totals and whole
# financial years. Single months, quarters or the financial year to date beside a monthly
# rolling 12 months give a new month away by differencing (R12(e) - R12(e-1) = M(e) - M(e-12),
# FYTD(e) - FYTD(e-1) = M(e)), so a small new month could only be protected by hiding the new
# headline. Boroughs and London, which are exact, keep every period.
SMALL_AREA_PERIODS = (Period.ROLLING_12, Period.FINANCIAL_YEAR)
PERIODS_BY_LEVEL = {Level.WARD: SMALL_AREA_PERIODS, Level.LSOA: SMALL_AREA_PERIODS}


def periods_for(level: str) -> tuple[Period, ...]:
    """The periods published at a level."""
    return PERIODS_BY_LEVEL.get(level, tuple(Period))


@dataclass
class ProtectedBlock:
    figures: dict[tuple[int, int, Period, date], disclosure.Published]
    tally: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    failures: int = 0
    pairs: set[tuple[int, int]] = field(default_factory=set)  # (area, category) rows covered


@dataclass
class PriorBlock:
    """The previous publication's view of a block: its raw counts (same areas and categories,
    its own months), which series are unchanged, and what it published for them."""

    months: list[date]
    counts: np.ndarray  # [area, category, month]
    unchanged: np.ndarray  # [area, category] bool
    statuses: dict[tuple[int, int], dict[tuple[Period, date], disclosure.Status]]

    def release(self, block, a: int, c: int, category: Category) -> disclosure.PriorRelease | None:
        shown = self.statuses.get((block.areas[a].id, category.id))
        if not shown:
            return None
        return disclosure.PriorRelease(
            monthly=tuple(self.counts[a, c].tolist()),
            months=tuple(self.months),
            shown=tuple(sorted(shown.items())),
        )


def protect_block(
    *,
    block,
    categories: list[Category],
    earliest_end: date,
    policy: disclosure.Policy,
    pairs: Iterable[tuple[int, int]] | None = None,
    prior: PriorBlock | None = None,
) -> ProtectedBlock | None:
    """Published forms of a block's figures, or None where the level is not protected.

    ``pairs`` are the (area, category) positions to protect (default: all). With ``prior``, a
    series whose raw counts did not change keeps the statuses it was published with, and a
    changed one is protected beside what was published before.
    """
    if block.level not in policy.levels:
        return None
    if pairs is None:
        pairs = [(a, c) for a in range(len(block.areas)) for c in range(len(categories))]
    pairs = list(pairs)
    if needs_parent_total(block):
        wanted = sorted({c for _, c in pairs})
        result = _collect(
            _with_parent_total(block, categories, earliest_end, policy, wanted, prior), categories
        )
        result.pairs = {(a.id, categories[c].id) for a in block.areas for c in wanted}
        return result
    result = ProtectedBlock(figures={})
    jobs = []
    for a, c in pairs:
        area, category = block.areas[a], categories[c]
        result.pairs.add((area.id, category.id))
        if prior is not None and prior.unchanged[a, c]:
            shown = prior.statuses.get((area.id, category.id))
            if shown:
                _add_reused(result, block, a, c, category, shown, policy)
                continue
        release = prior.release(block, a, c, category) if prior is not None else None
        jobs.append(
            (
                area,
                category,
                disclosure.Series(
                    monthly=tuple(block.counts[a, c].tolist()),
                    months=tuple(block.months),
                    level=block.level,
                    earliest_end=earliest_end,
                    periods=periods_for(block.level),
                    prior=(release,) if release else (),
                ),
            )
        )
    todo = list({s: None for _, _, s in jobs if (s, policy) not in _MEMO})
    if len(_MEMO) + len(todo) > MEMO_LIMIT:
        _MEMO.clear()
    for series, protection in zip(
        todo, disclosure.protect_many(todo, policy=policy, workers=WORKERS), strict=True
    ):
        _MEMO[(series, policy)] = _summarise(protection)
    for area, category, series in jobs:
        done = _MEMO[(series, policy)]
        result.failures += done.failures
        for period, end, published in done.figures:
            result.figures[(area.id, category.id, period, end)] = published
        add_counts(result.tally.setdefault((block.level, category.slug), {}), done.tally)
    return result


def _add_reused(result: ProtectedBlock, block, a, c, category, shown, policy) -> None:
    """An unchanged series published again exactly as before."""
    values = series_values(block.counts[a, c], block.months, shown)
    for (period, end), status in shown.items():
        published = disclosure.shown_as(values[(period, end)], status, policy=policy)
        result.figures[(block.areas[a].id, category.id, period, end)] = published
    tally = series_tally(values, shown, level=block.level, policy=policy)
    add_counts(result.tally.setdefault((block.level, category.slug), {}), tally)


def series_values(monthly, months: list[date], keys) -> dict[tuple[Period, date], int]:
    """Each (period, end) figure of a series: the sum of its months' raw counts."""
    index = {month: i for i, month in enumerate(months)}
    counts = monthly.tolist() if hasattr(monthly, "tolist") else list(monthly)
    return {
        (period, end): sum(counts[index[m]] for m in months_in(period, end) if m in index)
        for period, end in keys
    }


def series_tally(values, statuses, *, level: str, policy: disclosure.Policy) -> dict[str, int]:
    """How much of one published series is hidden, as ``Protection.tally`` counts it."""
    total = disclosure.Tally()
    for key, status in statuses.items():
        total += disclosure.Tally.of(values[key], status, level=level, policy=policy)
    return asdict(total)


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
        add_counts(tally, asdict(counts))
    return _SeriesResult(
        figures=tuple((period, end, published) for (period, end), published in protection.items()),
        tally=tuple(tally.items()),
        failures=len(protection.failures),
    )


def add_counts(total: dict[str, int], counts) -> None:
    """Add one tally's named counts into another."""
    for name, value in dict(counts).items():
        total[name] = total.get(name, 0) + value


def _with_parent_total(
    block, categories, earliest_end, policy, wanted: list[int], prior: PriorBlock | None
) -> list[disclosure.Protection]:
    """One table per category: the City's LSOAs and their published borough total together."""
    tables = [
        parent_total_table(
            block=block, c=c, category=categories[c], earliest_end=earliest_end, prior=prior
        )
        for c in wanted
    ]
    return disclosure.protect_tables(tables, policy=policy, workers=WORKERS)


def parent_total_table(
    *, block, c: int, category: Category, earliest_end: date, prior: PriorBlock | None = None
):
    """A block's areas for one category with their exact total, as one table (keys as in
    ``series_key``; the total's cells are keyed ``("total", category id)``). With ``prior``,
    what the previous publication showed of them too, sharing the months it did not restate."""
    table = disclosure.Table()
    parts, keys, prior_parts, prior_shown = [], [], [], {}
    for a, area in enumerate(block.areas):
        months = table.add_months(block.counts[a, c].tolist(), block.months)
        key = series_key(area.id, category.id)
        table.add_periods(
            key,
            months,
            level=block.level,
            periods=periods_for(block.level),
            earliest_end=earliest_end,
        )
        parts.append(months)
        keys.append(key)
        release = prior.release(block, a, c, category) if prior is not None else None
        if release is not None:
            old = table.add_months(release.monthly, release.months, same_as=months)
            shown = dict(release.shown)
            table.add_periods((key, "prior"), old, level=block.level, shown=shown)
            prior_parts.append(old)
            prior_shown.update((k, disclosure.Status.EXACT) for k in shown)
    table.add_periods(
        ("total", category.id),
        parts,
        level=Level.BOROUGH,
        periods=periods_for(block.level),
        earliest_end=earliest_end,
        children=keys,
    )
    if prior_parts and len(prior_parts) == len(parts):
        # The borough's earlier figures were exact too: the earlier parts' exact sum.
        table.add_periods(
            ("total", category.id, "prior"), prior_parts, level=Level.BOROUGH, shown=prior_shown
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
            add_counts(result.tally.setdefault((level, slugs[category_id]), {}), asdict(counts))
    return result
