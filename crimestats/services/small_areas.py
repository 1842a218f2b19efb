"""The inputs of disclosure control for a build: small areas' counts, their boroughs' figures, and
what every earlier public publication showed of them.

crimestats/services/protection.py says what goes together; this module reads it from the
database: the current raw counts of the protected levels and of the boroughs, and for each
publication that was ever public (``first_public_at`` set, rolled back or not) the raw counts it
was built from (its ``coverage`` snapshot) and the statuses it published. Publications that
showed the same thing from the same releases are read once.
"""

from collections import defaultdict
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from time import perf_counter

from django.db import connection

from areas.models import Area, Level
from crimestats import disclosure
from crimestats.models import Category, Publication
from crimestats.periods import Period
from crimestats.services.counts import current_counts
from crimestats.services.protection import (
    AreaSeries,
    Piece,
    ProtectedBlock,
    Version,
    add_counts,
    protect_pieces,
)
from crimestats.sources import Source, source_for

STATUSES_SQL = """
    SELECT f.area_id, f.category_id, f.period, f.end_month, f.suppressed, f.withheld
    FROM crimestats_publishedfigure f
    WHERE f.block_id = ANY(%s) AND f.category_id = ANY(%s) AND f.area_id = ANY(%s)
"""


@dataclass
class SmallAreas:
    """What protection decided for the protected levels of some sources."""

    blocks: dict[tuple[str, Source], object] = field(default_factory=dict)  # publish.Block
    protected: dict[tuple[str, Source], ProtectedBlock] = field(default_factory=dict)
    # relations modelled, by borough code, category, kind and sense
    relations: dict[str, dict] = field(default_factory=dict)
    failures: int = 0


def earlier_publications() -> list[Publication]:
    """Every publication that was ever public, oldest first."""
    return list(
        Publication.objects.filter(first_public_at__isnull=False).order_by("first_public_at", "pk")
    )


def coverage_rows(coverage: list, source: Source, levels) -> tuple:
    return tuple(
        tuple(row)
        for row in coverage
        if row[2] in levels and (row[0], row[1]) == (source.source, source.force)
    )


def protect_small_areas(
    *,
    sources: set[Source],
    areas: dict,
    categories: list[Category],
    earliest_end: date,
    latest: date,
    policy: disclosure.Policy,
    log: Callable[[str], None] = print,
) -> SmallAreas:
    """Statuses for every protected level's figures of ``sources``, protected borough by
    borough and category beside every earlier public publication."""
    from crimestats.services.publish import blocks_for_level

    started = perf_counter()
    levels = [lvl for lvl in (Level.WARD, Level.LSOA) if lvl in policy.levels]
    wanted = [*levels, Level.BOROUGH]
    result = SmallAreas()
    now: dict[tuple[str, Source], object] = {}
    for level in wanted:
        rows = [a for a in areas.get(level, []) if _source_of(a) in sources]
        if not rows:
            continue
        counts = current_counts(level=level, categories=categories, sources=sources)
        for block in blocks_for_level(
            level=level, areas=rows, categories=categories, counts=counts
        ):
            now[(level, block.source)] = block
    result.blocks = {key: block for key, block in now.items() if key[0] in levels}
    earlier = _earlier_versions(sources, areas, categories, wanted, levels, now)
    best_fit = _best_fit(areas)
    pieces = list(_pieces(now, earlier, categories, best_fit, levels, earliest_end, latest))
    log(
        f"  protecting {len(pieces):,} borough-category pieces beside "
        f"{len({key[1] for key, _ in earlier}):,} earlier publication(s)"
    )
    figures = {key: ProtectedBlock(figures={}) for key in result.blocks}
    home = {
        area.id: (level, source)
        for (level, source), block in result.blocks.items()
        for area in block.areas
    }
    slugs = {c.id: c.slug for c in categories}
    codes = {a.id: a.code for a in areas.get(Level.BOROUGH, [])}
    for done in protect_pieces(pieces, policy=policy):
        result.failures += done.failures
        for failure in done.failing:
            log(f"  cannot protect (borough {done.borough}, category {done.category}): {failure}")
        borough = result.relations.setdefault(codes.get(done.borough, str(done.borough)), {})
        borough[slugs[done.category]] = done.relations
        for area, period, end, status in done.statuses:
            figures[home[area]].figures[(area, done.category, period, end)] = status
        for area_key, counts in done.tally:
            block = figures[home[area_key]]
            level = home[area_key][0]
            add_counts(block.tally.setdefault((level, slugs[done.category]), {}), dict(counts))
    result.protected = figures
    log(f"  protection: {perf_counter() - started:.1f} s, {result.failures} failing")
    return result


def _source_of(area) -> Source:
    return source_for(code=area.code, borough_code=area.borough_code)


def _best_fit(areas: dict) -> list[tuple[int, int]]:
    ids = [a.id for a in areas.get(Level.LSOA, [])]
    return list(
        Area.objects.filter(id__in=ids, best_fit_ward__isnull=False).values_list(
            "id", "best_fit_ward_id"
        )
    )


def _earlier_versions(sources, areas, categories, wanted, levels, now) -> list:
    """[(source, name), ...] → per earlier publication and source: its blocks of raw counts
    and statuses, as {(level): (block, statuses)}; publications showing the same from the same
    releases appear once."""
    from crimestats.services.publish import blocks_for_level

    codes = {level: {a.code: a.id for a in areas.get(level, [])} for level in wanted}
    result = []
    seen: set = set()
    for publication in earlier_publications():
        blocks = list(publication.blocks.all())
        for source in sources:
            rows = coverage_rows(publication.coverage, source, wanted)
            block_ids = tuple(
                sorted(
                    b.pk
                    for b in blocks
                    if not b.level
                    or (
                        (b.level, b.source, b.force)
                        in {(lvl, source.source, source.force) for lvl in levels}
                    )
                )
            )
            signature = (source, rows, block_ids)
            if not rows or signature in seen:
                continue
            seen.add(signature)
            version = {}
            for level in wanted:
                level_rows = [a for a in areas.get(level, []) if _source_of(a) in {source}]
                if not level_rows:
                    continue
                counts = current_counts(
                    level=level,
                    categories=categories,
                    sources={source},
                    coverage=publication.coverage,
                )
                got = blocks_for_level(
                    level=level,
                    areas=level_rows,
                    categories=categories,
                    counts=counts,
                    coverage=publication.coverage,
                )
                if not got:
                    continue
                statuses = (
                    _statuses(list(block_ids), categories, codes[level], level)
                    if level in levels
                    else {}
                )
                version[level] = (got[0], statuses)
            result.append(((source, publication.pk), version))
    return result


def _statuses(block_ids, categories, codes: dict[str, int], level: str) -> dict:
    """(current area id, category id) → ((period, end), status) pairs a publication showed,
    for areas of a level matched by code."""
    if not block_ids:
        return {}
    by_code = dict(Area.objects.filter(level=level, code__in=list(codes)).values_list("id", "code"))
    result: dict[tuple[int, int], list] = defaultdict(list)
    with connection.cursor() as cursor:
        cursor.execute(STATUSES_SQL, [block_ids, [c.id for c in categories], list(by_code)])
        for area_id, category_id, period, end, suppressed, withheld in cursor:
            status = disclosure.Status.of(suppressed=suppressed, withheld=withheld)
            result[(codes[by_code[area_id]], category_id)].append(((Period(period), end), status))
    return {key: tuple(sorted(value)) for key, value in result.items()}


def _pieces(now, earlier, categories, best_fit, levels, earliest_end, latest):
    """One Piece per borough and category."""
    boroughs = {}
    for (level, _source), block in now.items():
        if level == Level.BOROUGH:
            for a, area in enumerate(block.areas):
                boroughs[area.code] = (area.id, block, a)
    members: dict[str, list] = defaultdict(list)  # borough code → (level, block, index)
    for (level, _source), block in now.items():
        if level in levels:
            for a, area in enumerate(block.areas):
                members[area.borough_code].append((level, block, a))
    earlier_members = []
    for (_source, name), version in earlier:
        by_borough: dict[str, list] = defaultdict(list)
        borough_rows = {}
        for level, (block, statuses) in version.items():
            for a, area in enumerate(block.areas):
                if level == Level.BOROUGH:
                    borough_rows[area.code] = (block, a)
                else:
                    by_borough[area.borough_code].append((level, block, a, statuses))
        earlier_members.append((name, by_borough, borough_rows))
    fits = defaultdict(list)
    area_borough = {
        block.areas[a].id: code for code, parts in members.items() for _, block, a in parts
    }
    for lsoa, ward in best_fit:
        if lsoa in area_borough:
            fits[area_borough[lsoa]].append((lsoa, ward))
    for code, parts in members.items():
        if code is None:
            continue
        for c, category in enumerate(categories):
            borough = _series(boroughs.get(code), c)
            versions = [
                Version(
                    "new",
                    borough,
                    tuple(_series((block, a), c, level=level) for level, block, a in parts),
                )
            ]
            for name, by_borough, borough_rows in earlier_members:
                old = by_borough.get(code)
                if not old:
                    continue
                series = tuple(
                    _series(
                        (block, a),
                        c,
                        level=level,
                        shown=statuses.get((block.areas[a].id, category.id), ()),
                    )
                    for level, block, a, statuses in old
                )
                versions.append(Version(name, _series(borough_rows.get(code), c), series))
            yield Piece(
                borough=boroughs[code][0] if code in boroughs else 0,
                category=category.id,
                best_fit=tuple(fits.get(code, ())),
                earliest_end=earliest_end,
                latest=latest,
                versions=tuple(versions),
            )


def _series(found, c: int, *, level: str = Level.BOROUGH, shown=None) -> AreaSeries | None:
    if found is None:
        return None
    block, a = found[-2], found[-1]
    return AreaSeries(
        area=block.areas[a].id,
        level=level,
        months=tuple(block.months),
        counts=tuple(int(x) for x in block.counts[a, c]),
        shown=shown,
    )
