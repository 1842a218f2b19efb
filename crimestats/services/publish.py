"""Build a Publication from the current releases, and switch the site to it in one step.

Every figure the site shows is computed here once: period totals, rates, bands and disclosure
control, for every area, shown category, period and end month. Pages only read the result.
"""

from collections import defaultdict
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import date
from functools import cached_property

import numpy as np
from django.contrib.auth.models import AbstractBaseUser
from django.db import transaction
from django.utils import timezone

from areas.models import Area, BoundarySet, Level
from crimestats import disclosure, relations
from crimestats.bands import band_for
from crimestats.models import Category, CurrentMonth, Denominator, Publication, Release
from crimestats.periods import add_months, months_in
from crimestats.selectors import read_current_publication, wanted_categories
from crimestats.services.counts import Coverage, covered_months, current_counts
from crimestats.services.figure_blocks import BlockPlan, write_blocks
from crimestats.services.previous import Previous, context_digest, protection_digest
from crimestats.services.protection import ProtectedBlock, periods_for
from crimestats.services.small_areas import SmallAreas, protect_small_areas
from crimestats.sources import CITY_OF_LONDON, MPS_SOURCE, Source, source_for

# End months published: enough for a 24-month trend and the same period a year earlier.
PUBLISHED_MONTHS = 36
LEVELS_IN_ORDER = (Level.REGION, Level.BOROUGH, Level.WARD, Level.LSOA)
# Protected levels are protected together with their boroughs' figures (crimestats/relations.py):
# one of them is unchanged only when all of these are.
PROTECTED_WITH = (Level.BOROUGH, Level.WARD, Level.LSOA)


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

    @cached_property
    def month_tuple(self) -> tuple[date, ...]:
        """The months as one tuple, shared by the thousands of series protection makes."""
        return tuple(self.months)


def blocks_for_level(
    *,
    level: str,
    areas: list[AreaRow],
    categories: list[Category],
    counts: dict,
    coverage: Coverage | None = None,
) -> list[Block]:
    """Group a level's areas by the source of their figures, with their monthly counts (for
    the current releases, or for a publication's ``coverage`` snapshot)."""
    by_source = _by_source(areas)
    blocks = []
    column = {category.id: c for c, category in enumerate(categories)}
    for source, members in by_source.items():
        months = covered_months(
            level=level, source=source.source, force=source.force, coverage=coverage
        )
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


def _rate(count: int, category: Category, denominator: tuple[int, int] | None) -> float | None:
    if denominator is None:
        return None
    residents, households = denominator
    base = households if category.denominator == Category.Denominator.HOUSEHOLDS else residents
    return round(count * 1000 / base, 2) if base else None


@dataclass
class Figures:
    """What a build produced: for each level and source, the block to reuse or the rows to
    write and the series to copy; and what disclosure control hid."""

    latest: date | None
    categories: list[Category] = field(default_factory=list)
    plans: dict[tuple[str, Source], BlockPlan] = field(default_factory=dict)
    hidden: dict = field(default_factory=dict)  # cells and crimes hidden, by level, category
    coverage: list = field(default_factory=list)  # the releases it was built from
    protection: str = ""
    context: str = ""
    previous: Publication | None = None
    relations: dict = field(default_factory=dict)  # relations modelled, by kind and sense

    def plan(self, level: str, source: Source, previous: "Previous | None") -> BlockPlan:
        key = (level, source)
        if key not in self.plans:
            before = previous.block_for(level, source) if previous else None
            self.plans[key] = BlockPlan(level=level, source=source, previous=before)
        return self.plans[key]


@dataclass
class _Builder:
    """One build: the settings and inputs every block shares."""

    policy: disclosure.Policy
    categories: list[Category]
    earliest_end: date
    denominators: dict[int, tuple[int, int]]
    london_rates: dict[tuple[int, str, date], float | None]
    previous: Previous | None

    def block_figures(self, block: Block, out: Figures, protected: ProtectedBlock | None) -> None:
        """Rows of one block, with the statuses protection chose at protected levels."""
        plan = out.plan(block.level, block.source, self.previous)
        pairs = [(a, c) for a in range(len(block.areas)) for c in range(len(self.categories))]
        plan.rows.extend(self._rows(block, pairs, protected))

    def _rows(self, block: Block, pairs, protected: ProtectedBlock | None):
        index = {month: i for i, month in enumerate(block.months)}
        for period in periods_for(block.level):
            for end in disclosure.published_ends(period, block.months, self.earliest_end):
                columns = [index[m] for m in months_in(period, end)]
                totals = block.counts[:, :, columns].sum(axis=2)
                for a, c in pairs:
                    area, category = block.areas[a], self.categories[c]
                    count = int(totals[a, c])
                    shown = (
                        disclosure.shown_as(
                            count,
                            protected.figures[(area.id, category.id, period, end)],
                            policy=self.policy,
                        )
                        if protected
                        else disclosure.publish(count, level=block.level, policy=self.policy)
                    )
                    rate = (
                        None
                        if shown.suppressed
                        else _rate(count, category, self.denominators.get(area.id))
                    )
                    band = band_for(rate, self.london_rates.get((category.id, period.value, end)))
                    yield (
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


def _london_rates(blocks: list[Block], categories, denominators, earliest_end) -> dict:
    """London's rate for every (category, period, end): every band is relative to it."""
    rates = {}
    for block in blocks:
        index = {month: i for i, month in enumerate(block.months)}
        for period in periods_for(block.level):
            for end in disclosure.published_ends(period, block.months, earliest_end):
                columns = [index[m] for m in months_in(period, end)]
                totals = block.counts[:, :, columns].sum(axis=2)
                for a, area in enumerate(block.areas):
                    for c, category in enumerate(categories):
                        rate = _rate(int(totals[a, c]), category, denominators.get(area.id))
                        rates[(category.id, period.value, end)] = rate
    return rates


def build_figures(
    *, log: Callable[[str], None] = print, categories: list[Category] | None = None
) -> Figures:
    """Every published figure, and what disclosure control hid, by level and category.

    Built beside the current publication (the one this build replaces): see
    crimestats/services/previous.py for what is reused from it and why. The categories are
    those flagged in the admin unless given (a rollback brings back an old set).
    """
    policy = disclosure.Policy.from_settings()
    if categories is None:
        categories = wanted_categories()
    areas = current_area_rows()
    latest = latest_month()
    if latest is None or not categories:
        return Figures(latest=None)
    denominators = _denominators(areas)
    earliest_end = add_months(latest, -(PUBLISHED_MONTHS - 1))
    region_counts = current_counts(level=Level.REGION, categories=categories)
    protection = protection_digest(
        policy=policy,
        earliest_end=earliest_end,
        periods={level: periods_for(level) for level in LEVELS_IN_ORDER},
    )
    context = context_digest(
        protection=protection,
        latest=latest,
        categories=categories,
        region_counts=region_counts,
    )
    publication = read_current_publication()
    previous = None
    if publication is not None:
        previous = Previous(
            publication,
            same_context=publication.context == context,
        )
    coverage = current_coverage()
    out = Figures(
        latest=latest,
        categories=categories,
        coverage=coverage,
        protection=protection,
        context=context,
        previous=publication,
    )
    region_blocks = blocks_for_level(
        level=Level.REGION,
        areas=areas.get(Level.REGION, []),
        categories=categories,
        counts=region_counts,
    )
    builder = _Builder(
        policy=policy,
        categories=categories,
        earliest_end=earliest_end,
        denominators=denominators,
        london_rates=_london_rates(region_blocks, categories, denominators, earliest_end),
        previous=previous,
    )
    unchanged = _unchanged(areas, policy, previous, coverage)
    small: SmallAreas | None = None
    if publication is not None:
        out.relations = publication.relations
    for level in LEVELS_IN_ORDER:
        by_source = _by_source(areas.get(level, []))
        same = {source for source in by_source if (level, source) in unchanged}
        for source in same:
            # Nothing these figures depend on changed: copy them without reading their counts.
            out.plan(level, source, previous).copied += [
                (a.id, c.id) for a in by_source[source] for c in categories
            ]
            _keep_tally(out.hidden, publication.disclosure_summary, level, source)
        todo = [area for source, rows in by_source.items() if source not in same for area in rows]
        if todo and level in policy.levels:
            if small is None:
                small = protect_small_areas(
                    sources={s for (lvl, s) in _all_blocks(areas, policy.levels)}
                    - {s for (lvl, s) in unchanged if lvl in policy.levels},
                    areas=areas,
                    categories=categories,
                    earliest_end=earliest_end,
                    latest=latest,
                    policy=policy,
                    protection=protection,
                    log=log,
                )
                out.relations = relations.with_london({**out.relations, **small.relations})
            for (lvl, source), block in small.blocks.items():
                if lvl == level and source not in same:
                    protected = small.protected[(lvl, source)]
                    builder.block_figures(block, out, protected)
                    _add_tally(out.hidden, protected.tally, parts=f"{level} {source.source}")
        elif todo:
            counts = (
                region_counts
                if level == Level.REGION
                else current_counts(
                    level=level, categories=categories, sources={_source(a) for a in todo}
                )
            )
            for block in blocks_for_level(
                level=level, areas=todo, categories=categories, counts=counts
            ):
                builder.block_figures(block, out, None)
        plans = [plan for (lvl, _), plan in out.plans.items() if lvl == level]
        log(
            f"  {level}: {sum(len(p.rows) for p in plans):,} figures built, "
            f"{sum(len(p.copied) for p in plans):,} unchanged series kept"
        )
    return out


def _all_blocks(areas: dict, levels: Iterable[str]) -> set[tuple[str, Source]]:
    return {(level, source) for level in levels for source in _by_source(areas.get(level, []))}


def _unchanged(areas: dict, policy, previous: Previous | None, coverage) -> set:
    """The (level, source) blocks whose figures can be copied from the previous publication:
    nothing else changed, and neither did their releases (for protected levels, nor those of
    the other levels their pieces hold)."""
    if previous is None or not previous.same_context:
        return set()
    return {
        (level, source)
        for level, source in _all_blocks(areas, LEVELS_IN_ORDER)
        if all(
            _same_rows(previous.coverage, coverage, lvl, source)
            for lvl in (PROTECTED_WITH if level in policy.levels else (level,))
        )
    }


def _source(area: AreaRow) -> Source:
    return source_for(code=area.code, borough_code=area.borough_code)


def _by_source(areas: list[AreaRow]) -> dict[Source, list[AreaRow]]:
    grouped: dict[Source, list[AreaRow]] = defaultdict(list)
    for area in areas:
        grouped[_source(area)].append(area)
    return grouped


def _same_rows(before: Coverage, now: Coverage, level: str, source: Source) -> bool:
    """Whether a level's months for a source come from the same releases in both."""

    def rows(coverage: Coverage) -> list:
        return [
            list(row)
            for row in coverage
            if row[2] == level and (row[0], row[1]) == (source.source, source.force)
        ]

    return rows(before) == rows(now)


def _add_tally(hidden: dict, tally: dict, *, parts: str) -> None:
    """Add one block's hidden cells and crimes to the publication's summary: by level and
    category, and under "parts" by level and source (what a later build copies)."""
    for (level, category), counts in tally.items():
        for slot in (
            hidden.setdefault(level, {}).setdefault(category, {}),
            hidden.setdefault("parts", {}).setdefault(parts, {}).setdefault(category, {}),
        ):
            for name, value in counts.items():
                slot[name] = slot.get(name, 0) + value


def _keep_tally(hidden: dict, before: dict, level: str, source: Source) -> None:
    """A copied block's part of the previous summary."""
    key = f"{level} {source.source}"
    kept = before.get("parts", {}).get(key)
    if kept:
        _add_tally(hidden, {(level, c): counts for c, counts in kept.items()}, parts=key)


@transaction.atomic
def build_publication(
    *,
    user: AbstractBaseUser | None = None,
    make_current: bool = True,
    log=print,
    categories: list[Category] | None = None,
) -> Publication | None:
    """Build the next publication from the current releases and (by default) switch to it."""
    figures = build_figures(log=log, categories=categories)
    if figures.latest is None:
        log("Nothing to publish: no current releases or no shown categories.")
        return None
    publication = Publication.objects.create(
        created_by=user if user and user.is_authenticated else None,
        latest_month=figures.latest,
        coverage=figures.coverage,
        disclosure_summary=figures.hidden,
        previous=figures.previous,
        relations=figures.relations,
        protection_context=figures.protection,
        context=figures.context,
    )
    publication.releases.set(
        Release.objects.filter(current_months__isnull=False).distinct().values_list("id", flat=True)
    )
    block_ids, publication.figure_count = write_blocks(list(figures.plans.values()))
    publication.blocks.set(block_ids)
    publication.categories.set(figures.categories)
    publication.save(update_fields=["figure_count"])
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
    current = read_current_publication()
    if current is None:
        return True
    in_use = set(
        Release.objects.filter(current_months__isnull=False).distinct().values_list("id", flat=True)
    )
    if in_use != set(current.releases.values_list("id", flat=True)):
        return True
    if {c.pk for c in wanted_categories()} != set(current.categories.values_list("id", flat=True)):
        return True  # a category was shown or hidden in the admin since
    return BoundarySet.objects.filter(is_current=True, created_at__gt=current.created_at).exists()


@transaction.atomic
def switch_to(*, publication: Publication) -> Publication:
    """Make one publication current: every page, map and download changes at once."""
    Publication.objects.filter(is_current=True).exclude(pk=publication.pk).update(is_current=False)
    Publication.objects.filter(pk=publication.pk).update(is_current=True)
    Publication.objects.filter(pk=publication.pk, first_public_at=None).update(
        first_public_at=timezone.now()
    )
    publication.is_current = True
    return publication
