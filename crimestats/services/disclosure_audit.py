"""Audit what the site publishes: can any hidden small count be worked out from the rest?

Reads the current publication's figures back from the database (what pages, maps, embeds and
downloads all show) and the raw counts behind them, and hands each independent piece (an area
and category; the City's LSOAs with their exact borough total) to the LP audit.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from time import perf_counter

import numpy as np

from crimestats import audit as lp
from crimestats import disclosure
from crimestats.models import Publication
from crimestats.periods import add_months
from crimestats.selectors import shown_categories
from crimestats.services.counts import current_counts
from crimestats.services.previous import published_statuses
from crimestats.services.protection import (
    WORKERS,
    PriorBlock,
    needs_parent_total,
    parent_total_table,
    periods_for,
    series_key,
)
from crimestats.services.publish import (
    PUBLISHED_MONTHS,
    Block,
    blocks_for_level,
    current_area_rows,
)


@dataclass
class Failure:
    area: str
    category: str
    figure: str
    feasible: tuple[float, float]
    pinned_by: list[str]


@dataclass
class AuditOutcome:
    checked: int = 0
    lps: int = 0
    seconds: float = 0.0
    failures: list[Failure] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


def _keyed(statuses: dict) -> dict:
    """Statuses keyed as the disclosure tables key their cells: ((area, category), period, end)."""
    return {
        (series_key(*series), period, end): status
        for series, by_period in statuses.items()
        for (period, end), status in by_period.items()
    }


def _blocks(publication: Publication, level: str, rows, categories) -> dict:
    """A publication's raw counts (the releases it was built from) as blocks of current areas."""
    coverage = publication.coverage
    counts = current_counts(level=level, categories=categories, coverage=coverage)
    blocks = blocks_for_level(
        level=level, areas=rows, categories=categories, counts=counts, coverage=coverage
    )
    return {block.source: block for block in blocks}


def _prior(previous, prior: Block | None, whole: Block, wanted, codes) -> PriorBlock | None:
    """What the previous publication showed of a block's areas, with its raw counts."""
    if previous is None or prior is None:
        return None
    prior = _subset(prior, wanted)
    return PriorBlock(
        months=prior.months,
        counts=prior.counts,
        unchanged=np.zeros(prior.counts.shape[:2], dtype=bool),
        statuses=published_statuses(previous, level=whole.level, codes=codes),
    )


def _subset(block: Block, boroughs: set[str] | None) -> Block:
    if not boroughs:
        return block
    keep = [i for i, area in enumerate(block.areas) if area.borough_code in boroughs]
    return Block(
        block.level, block.source, [block.areas[i] for i in keep], block.months, block.counts[keep]
    )


def _describe(key, names: dict[int, str], slugs: dict[int, str]) -> tuple[str, str, str]:
    """Area, category and figure of a failing cell (this publication's, or the previous one's:
    it must not give those away either)."""
    series, period, end = key
    earlier = ""
    if len(series) == 3 and series[1] == "prior":
        series, earlier = series[0], " (previous publication)"
    area_id, category_id = series
    figure = f"{period} {end:%Y-%m}{earlier}"
    return names.get(area_id, str(area_id)), slugs.get(category_id, "?"), figure


def audit_publication(
    *,
    publication: Publication,
    boroughs: list[str] | None = None,
    log: Callable[[str], None] = print,
    previous: Publication | None | bool = True,
) -> AuditOutcome:
    """Audit every protected figure of a publication (optionally only some boroughs), beside
    the publication it replaced (``previous``: True for the one it records, None for none)."""
    started = perf_counter()
    if previous is True:
        previous = publication.previous
    policy = disclosure.Policy.from_settings()
    categories = shown_categories()
    areas = current_area_rows()
    earliest_end: date = add_months(publication.latest_month, -(PUBLISHED_MONTHS - 1))
    wanted = {code.strip().upper() for code in boroughs} if boroughs else None
    names = {a.id: f"{a.code}" for rows in areas.values() for a in rows}
    slugs = {c.id: c.slug for c in categories}
    report = lp.AuditReport()
    for level in sorted(policy.levels):
        rows = areas.get(level, [])
        blocks = _blocks(publication, level, rows, categories)
        priors = _blocks(previous, level, rows, categories) if previous else {}
        for source, whole in blocks.items():
            block = _subset(whole, wanted)
            if not block.areas:
                continue
            codes = {area.code: area.id for area in block.areas}
            shown = _keyed(published_statuses(publication, level=level, codes=codes))
            prior = _prior(previous, priors.get(source), whole, wanted, codes)
            if needs_parent_total(block):
                for c, category in enumerate(categories):
                    table = parent_total_table(
                        block=block, c=c, category=category, earliest_end=earliest_end, prior=prior
                    )
                    report.merge(disclosure.audit_table(table, shown, policy=policy))
                continue
            per_series = defaultdict(dict)
            for key, status in shown.items():
                per_series[key[0]][key] = status
            items = []
            for a, area in enumerate(block.areas):
                for c, category in enumerate(categories):
                    release = prior.release(block, a, c, category) if prior else None
                    key = series_key(area.id, category.id)
                    series = disclosure.Series(
                        monthly=block.counts[a, c].tolist(),
                        months=block.months,
                        level=level,
                        key=key,
                        earliest_end=earliest_end,
                        periods=periods_for(level),
                        prior=(release,) if release else (),
                    )
                    items.append((series, per_series[key]))
            report.merge(disclosure.audit_many_series(items, policy=policy, workers=WORKERS))
        log(f"  {level}: {report.checked:,} hidden figures checked so far")
    outcome = AuditOutcome(checked=report.checked, lps=report.lps)
    for result in report.failures:
        area, category, figure = _describe(result.id, names, slugs)
        outcome.failures.append(
            Failure(
                area,
                category,
                figure,
                (result.low, result.high),
                [str(p) for p in result.pinned_by],
            )
        )
    outcome.seconds = perf_counter() - started
    return outcome
