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
from typing import NamedTuple

from django.db import connection

from areas.models import Area, Level
from crimestats import disclosure
from crimestats.models import Category, Publication
from crimestats.periods import Period
from crimestats.services.counts import current_counts
from crimestats.services.protection import (
    AreaSeries,
    Piece,
    PieceResult,
    ProtectedBlock,
    Version,
    add_counts,
    protect_pieces,
    reused,
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
    protection: str = "",
    log: Callable[[str], None] = print,
) -> SmallAreas:
    """Statuses for every protected level's figures of ``sources``, protected borough by
    borough and category beside every earlier public publication.

    ``protection`` is the digest of the rules (crimestats/services/previous.py): a piece that
    the current publication showed from the same counts under the same rules keeps its
    statuses (``protection.reused``), and only the other pieces read the earlier publications.
    """
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
    best_fit = _best_fit(areas)
    reading = _Reading(sources, areas, categories, wanted, levels)
    public = earlier_publications()
    current = [p for p in public if p.is_current]
    earlier = reading.versions(current)
    done: list[PieceResult] = []
    todo: set[tuple[str, int]] = set()
    for piece_, code in _pieces(
        now, earlier, categories, best_fit, levels, earliest_end, latest, protection
    ):
        kept = reused(piece_, policy) if current else None
        if kept is None:
            todo.add((code, piece_.category))
        else:
            done.append(kept)
    if todo:
        boroughs = {code for code, _ in todo}
        earlier += reading.versions([p for p in public if not p.is_current], boroughs=boroughs)
        pieces = [
            piece_
            for piece_, code in _pieces(
                now, earlier, categories, best_fit, levels, earliest_end, latest, protection
            )
            if (code, piece_.category) in todo
        ]
        log(
            f"  protecting {len(pieces):,} borough-category pieces beside "
            f"{len({item.publication for item in earlier}):,} earlier publication(s); "
            f"{len(done):,} unchanged kept"
        )
        done += protect_pieces(pieces, policy=policy)
    else:
        log(f"  protection: all {len(done):,} borough-category pieces unchanged, kept")
    _collect(result, done, areas, categories, log)
    log(f"  protection: {perf_counter() - started:.1f} s, {result.failures} failing")
    return result


def _collect(result: SmallAreas, done: list[PieceResult], areas, categories, log) -> None:
    """Gather the pieces' statuses, tallies and relations by level and source."""
    figures = {key: ProtectedBlock(figures={}) for key in result.blocks}
    home = {
        area.id: (level, source)
        for (level, source), block in result.blocks.items()
        for area in block.areas
    }
    slugs = {c.id: c.slug for c in categories}
    codes = {a.id: a.code for a in areas.get(Level.BOROUGH, [])}
    for piece_ in done:
        result.failures += piece_.failures
        for failure in piece_.failing:
            log(
                f"  cannot protect (borough {piece_.borough}, category {piece_.category}): "
                f"{failure}"
            )
        borough = result.relations.setdefault(codes.get(piece_.borough, str(piece_.borough)), {})
        borough[slugs[piece_.category]] = piece_.relations
        for area, period, end, status in piece_.statuses:
            figures[home[area]].figures[(area, piece_.category, period, end)] = status
        for area_key, counts in piece_.tally:
            block = figures[home[area_key]]
            level = home[area_key][0]
            add_counts(block.tally.setdefault((level, slugs[piece_.category]), {}), dict(counts))
    result.protected = figures


def _source_of(area) -> Source:
    return source_for(code=area.code, borough_code=area.borough_code)


def _best_fit(areas: dict) -> list[tuple[int, int]]:
    ids = [a.id for a in areas.get(Level.LSOA, [])]
    return list(
        Area.objects.filter(id__in=ids, best_fit_ward__isnull=False).values_list(
            "id", "best_fit_ward_id"
        )
    )


class Earlier(NamedTuple):
    """One earlier public publication's view of one source: per level, its block of raw counts
    and the statuses it showed."""

    source: Source
    publication: int
    protection: str  # the digest of the rules it was protected under
    levels: dict[str, tuple]  # level → (publish.Block, statuses)


class _Reading:
    """Reads earlier publications' raw counts and statuses; what two publications showed
    alike from the same releases is read once, across calls."""

    def __init__(self, sources, areas, categories, wanted, levels) -> None:
        self.sources, self.areas, self.categories = sources, areas, categories
        self.wanted, self.levels = wanted, levels
        self.seen: set = set()

    def versions(
        self, publications: list[Publication], *, boroughs: set[str] | None = None
    ) -> list[Earlier]:
        """The publications' versions, of the areas of ``boroughs`` only when given."""
        from crimestats.services.publish import blocks_for_level

        areas = {
            level: [
                a
                for a in self.areas.get(level, [])
                if boroughs is None
                or (a.code if level == Level.BOROUGH else a.borough_code) in boroughs
            ]
            for level in self.wanted
        }
        codes = {level: {a.code: a.id for a in rows} for level, rows in areas.items()}
        result = []
        for publication in publications:
            blocks = list(publication.blocks.all())
            for source in self.sources:
                rows = coverage_rows(publication.coverage, source, self.wanted)
                kinds = {(lvl, source.source, source.force) for lvl in self.levels}
                block_ids = tuple(
                    sorted(
                        b.pk for b in blocks if not b.level or (b.level, b.source, b.force) in kinds
                    )
                )
                signature = (source, rows, block_ids)
                if not rows or signature in self.seen:
                    continue
                self.seen.add(signature)
                version = {}
                for level in self.wanted:
                    level_rows = [a for a in areas[level] if _source_of(a) == source]
                    if not level_rows:
                        continue
                    counts = current_counts(
                        level=level,
                        categories=self.categories,
                        sources={source},
                        coverage=publication.coverage,
                        areas=[a.id for a in level_rows] if boroughs is not None else None,
                    )
                    got = blocks_for_level(
                        level=level,
                        areas=level_rows,
                        categories=self.categories,
                        counts=counts,
                        coverage=publication.coverage,
                    )
                    if not got:
                        continue
                    statuses = (
                        _statuses(list(block_ids), self.categories, codes[level], level)
                        if level in self.levels
                        else {}
                    )
                    version[level] = (got[0], statuses)
                result.append(
                    Earlier(source, publication.pk, publication.protection_context, version)
                )
        return result


def _statuses(block_ids, categories, codes: dict[str, int], level: str) -> dict:
    """(current area id, category id) → ((period, end), status) pairs a publication showed,
    for areas of a level matched by code."""
    if not block_ids:
        return {}
    by_code = dict(Area.objects.filter(level=level, code__in=list(codes)).values_list("id", "code"))
    result: dict[tuple[int, int], list] = defaultdict(list)
    # Publications repeat the same (period, end, status) millions of times: one object each.
    shared: dict[tuple, tuple] = {}
    with connection.cursor() as cursor:
        cursor.execute(STATUSES_SQL, [block_ids, [c.id for c in categories], list(by_code)])
        for area_id, category_id, period, end, suppressed, withheld in cursor:
            key = (period, end, suppressed, withheld)
            shown = shared.get(key)
            if shown is None:
                status = disclosure.Status.of(suppressed=suppressed, withheld=withheld)
                shown = shared[key] = ((Period(period), end), status)
            result[(codes[by_code[area_id]], category_id)].append(shown)
    return {key: tuple(sorted(value)) for key, value in result.items()}


def _pieces(now, earlier, categories, best_fit, levels, earliest_end, latest, protection):
    """One Piece per borough and category, with its borough's code."""
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
    for item in earlier:
        by_borough: dict[str, list] = defaultdict(list)
        borough_rows = {}
        for level, (block, statuses) in item.levels.items():
            for a, area in enumerate(block.areas):
                if level == Level.BOROUGH:
                    borough_rows[area.code] = (block, a)
                else:
                    by_borough[area.borough_code].append((level, block, a, statuses))
        earlier_members.append((item, by_borough, borough_rows))
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
                    protection,
                )
            ]
            for item, by_borough, borough_rows in earlier_members:
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
                versions.append(
                    Version(
                        item.publication,
                        _series(borough_rows.get(code), c),
                        series,
                        item.protection,
                    )
                )
            own = [s.months[-1] for s in versions[0].areas if s.months]
            piece = Piece(
                borough=boroughs[code][0] if code in boroughs else 0,
                category=category.id,
                best_fit=tuple(fits.get(code, ())),
                earliest_end=earliest_end,
                # the default view ends at the source's own latest month (the City publishes
                # later than the Met: selectors.area_latest), and costs the most there
                latest=min(latest, max(own, default=latest)),
                versions=tuple(versions),
            )
            yield piece, code


def _series(found, c: int, *, level: str = Level.BOROUGH, shown=None) -> AreaSeries | None:
    if found is None:
        return None
    block, a = found[-2], found[-1]
    return AreaSeries(
        area=block.areas[a].id,
        level=level,
        months=block.month_tuple,
        counts=tuple(int(x) for x in block.counts[a, c]),
        shown=shown,
    )
