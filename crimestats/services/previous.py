"""The publication a new one replaces: what it published and the raw counts behind it.

Its figures stay public (people keep pages and downloads), so a new publication is protected
beside them: a changed series is protected with the earlier release as a ``PriorRelease``, and
a series whose raw counts did not change keeps exactly the statuses it had (publishing the
same figures again gives nothing away). When nothing else the figures depend on changed either
(``context_digest``), an unchanged series' rows are copied as they are, which is what makes a
monthly upload quick to publish.
"""

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass
from datetime import date

import numpy as np

from areas.models import Area, BoundarySet
from crimestats import disclosure
from crimestats.bands import BANDS
from crimestats.models import Category, Denominator, FigureBlock, Publication, PublishedFigure
from crimestats.periods import Period
from crimestats.sources import Source

SeriesStatuses = dict[tuple[Period, date], disclosure.Status]


def status_of(*, suppressed: bool, withheld: bool) -> disclosure.Status:
    """A published row's status, as the disclosure tables name it."""
    if not suppressed:
        return disclosure.Status.EXACT
    return disclosure.Status.WITHHELD if withheld else disclosure.Status.SMALL


def published_statuses(
    publication: Publication, *, level: str, codes: dict[str, int]
) -> dict[tuple[int, int], SeriesStatuses]:
    """What a publication showed of each (area, category) series at a level, keyed by the ids
    of the current areas with the same codes (``codes``: code → current area id)."""
    rows = (
        PublishedFigure.objects.of(publication)
        .filter(area__level=level, area__code__in=list(codes))
        .values_list("area__code", "category_id", "period", "end_month", "suppressed", "withheld")
    )
    result: dict[tuple[int, int], SeriesStatuses] = defaultdict(dict)
    for code, category_id, period, end, suppressed, withheld in rows:
        status = status_of(suppressed=suppressed, withheld=withheld)
        result[(codes[code], category_id)][(Period(period), end)] = status
    return dict(result)


def _digest(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, default=str, sort_keys=True).encode()).hexdigest()


def protection_digest(
    *, policy: disclosure.Policy, earliest_end: date, periods: dict[str, tuple[Period, ...]]
) -> str:
    """Everything besides a series' own counts that its statuses depend on."""
    return _digest(
        {
            "policy": [list(policy.small_range), sorted(policy.levels)],
            "earliest_end": earliest_end.isoformat(),
            "periods": {level: [p.value for p in ps] for level, ps in periods.items()},
        }
    )


def context_digest(
    *, protection: str, latest: date, categories: list[Category], region_counts: dict
) -> str:
    """Everything besides a series' own counts that its published rows depend on: its
    statuses' context, the latest month, the categories, the denominators (rates), London's
    counts (every band is relative to London's rate), the current boundaries and the bands."""
    denominators = sorted(
        Denominator.objects.filter(area__boundary_set__is_current=True).values_list(
            "area_id", "residents", "households"
        )
    )
    boundaries = BoundarySet.objects.filter(is_current=True).values_list("id", flat=True)
    return _digest(
        {
            "protection": protection,
            "latest": latest.isoformat(),
            "categories": [[c.id, c.slug, c.denominator] for c in categories],
            "denominators": denominators,
            "london": sorted([a, c, m.isoformat(), n] for (a, c, m), n in region_counts.items()),
            "boundaries": sorted(boundaries),
            "bands": [[b.index, b.lower, b.upper] for b in BANDS],
        }
    )


@dataclass
class Previous:
    """The current publication, as the one a new build replaces."""

    publication: Publication
    same_protection: bool  # an unchanged series keeps its statuses
    same_context: bool  # an unchanged series keeps its rows

    def __post_init__(self) -> None:
        self.blocks = list(self.publication.blocks.all())

    @property
    def coverage(self) -> list:
        return self.publication.coverage

    def block_for(self, level: str, source: Source) -> FigureBlock | None:
        """Its figures for a level and source: their own block, or the one block holding all
        its figures (publications from before blocks)."""
        for block in self.blocks:
            if (block.level, block.source, block.force) == (level, source.source, source.force):
                return block
        return next((block for block in self.blocks if not block.level), None)

    def statuses(self, *, level: str, area_ids: set[int]) -> dict:
        """Its statuses for some current areas of a level (matched by code)."""
        codes = dict(Area.objects.filter(id__in=area_ids, level=level).values_list("code", "id"))
        return published_statuses(self.publication, level=level, codes=codes) if codes else {}


def unchanged_series(
    months: list[date],
    counts: np.ndarray,
    prior_months: list[date] | None,
    prior: np.ndarray | None,
) -> np.ndarray:
    """[area, category] mask of series whose raw counts are the same in both publications."""
    if prior is None or prior_months != months or prior.shape != counts.shape:
        return np.zeros(counts.shape[:2], dtype=bool)
    return np.all(counts == prior, axis=2)


def current_publication() -> Publication | None:
    return Publication.objects.filter(is_current=True).first()
