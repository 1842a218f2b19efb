"""The publication a new one replaces, and what decides whether its figures can be kept.

A level and source whose releases did not change, when nothing else its figures depend on
changed either (``context_digest``), keeps the previous publication's block of figures as it
is: that is what makes a City police.uk month quick to publish. (Every earlier public
publication, not only this one, is protected beside: crimestats/services/small_areas.py.)
"""

import hashlib
import json
from dataclasses import dataclass
from datetime import date

from areas.models import BoundarySet
from crimestats import disclosure
from crimestats.bands import BANDS
from crimestats.models import Category, Denominator, FigureBlock, Publication
from crimestats.periods import Period
from crimestats.sources import Source


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
