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

from crimestats import audit as lp
from crimestats import disclosure
from crimestats.models import Publication, PublishedFigure
from crimestats.periods import Period, add_months
from crimestats.selectors import shown_categories
from crimestats.services.counts import current_counts
from crimestats.services.protection import (
    WORKERS,
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


def _statuses(publication: Publication, level: str, area_ids: list[int]) -> dict:
    """What the public sees of each figure, keyed as the disclosure tables key their cells."""
    rows = PublishedFigure.objects.filter(
        publication=publication, area__level=level, area_id__in=area_ids
    ).values_list("area_id", "category_id", "period", "end_month", "suppressed", "withheld")
    shown = {}
    for area_id, category_id, period, end, suppressed, withheld in rows:
        status = disclosure.Status.EXACT
        if suppressed:
            status = disclosure.Status.WITHHELD if withheld else disclosure.Status.SMALL
        shown[(series_key(area_id, category_id), Period(period), end)] = status
    return shown


def _subset(block: Block, boroughs: set[str] | None) -> Block:
    if not boroughs:
        return block
    keep = [i for i, area in enumerate(block.areas) if area.borough_code in boroughs]
    return Block(
        block.level, block.source, [block.areas[i] for i in keep], block.months, block.counts[keep]
    )


def _describe(key, names: dict[int, str], slugs: dict[int, str]) -> tuple[str, str, str]:
    (area_id, category_id), period, end = key
    return names.get(area_id, str(area_id)), slugs.get(category_id, "?"), f"{period} {end:%Y-%m}"


def audit_publication(
    *,
    publication: Publication,
    boroughs: list[str] | None = None,
    log: Callable[[str], None] = print,
) -> AuditOutcome:
    """Audit every protected figure of a publication (optionally only some boroughs)."""
    started = perf_counter()
    policy = disclosure.Policy.from_settings()
    categories = shown_categories()
    areas = current_area_rows()
    earliest_end: date = add_months(publication.latest_month, -(PUBLISHED_MONTHS - 1))
    wanted = {code.strip().upper() for code in boroughs} if boroughs else None
    names = {a.id: f"{a.code}" for rows in areas.values() for a in rows}
    slugs = {c.id: c.slug for c in categories}
    report = lp.AuditReport()
    for level in sorted(policy.levels):
        counts = current_counts(level=level, categories=categories)
        blocks = blocks_for_level(
            level=level, areas=areas.get(level, []), categories=categories, counts=counts
        )
        for block in (_subset(b, wanted) for b in blocks):
            if not block.areas:
                continue
            shown = _statuses(publication, level, [a.id for a in block.areas])
            if needs_parent_total(block):
                for c, category in enumerate(categories):
                    table = parent_total_table(
                        block=block, c=c, category=category, earliest_end=earliest_end
                    )
                    report.merge(disclosure.audit_table(table, shown, policy=policy))
                continue
            per_series = defaultdict(dict)
            for key, status in shown.items():
                per_series[key[0]][key] = status
            items = [
                (
                    disclosure.Series(
                        monthly=block.counts[a, c].tolist(),
                        months=block.months,
                        level=level,
                        key=series_key(area.id, category.id),
                        earliest_end=earliest_end,
                        periods=periods_for(level),
                    ),
                    per_series[series_key(area.id, category.id)],
                )
                for a, area in enumerate(block.areas)
                for c, category in enumerate(categories)
            ]
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
