"""Disclosure control for a publication: which figures go together, handed to the policy.

The rules live in crimestats/disclosure.py; this module only says what an attacker can combine.
The Met's ward, LSOA and borough files often add up (crimestats/relations.py), so a borough's
wards and LSOAs are protected together, one piece per borough and category: every figure this
publication shows of them, every figure any earlier public publication showed of them (people
keep downloads; rolled-back publications count too), the borough's exact monthly figures as the
relations that hold, and each earlier publication's relations from its own raw counts.
Unknowns are the true monthly counts: two publications share one where its raw count is the
same (a month the Met did not restate).
"""

import os
from collections.abc import Hashable, Iterable, Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass, field
from datetime import date
from functools import lru_cache
from itertools import repeat
from math import inf

import numpy as np

from areas.models import Level
from crimestats import disclosure, relations
from crimestats.periods import Period, months_in

# Protection is CPU-bound pure Python: spread the pieces over the machine's cores.
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


Shown = tuple[tuple[tuple[Period, date], disclosure.Status], ...]


@dataclass(frozen=True)
class AreaSeries:
    """One area's raw monthly counts in one publication, and what that publication showed of
    them (``shown`` is None for the publication being built)."""

    area: int  # current area id (areas are matched across publications by code)
    level: str
    months: tuple[date, ...]
    counts: tuple[int, ...]
    shown: Shown | None = None


@dataclass(frozen=True)
class Version:
    """A publication's view of one piece: its borough's exact monthly figures and its areas."""

    name: Hashable  # "new", or the earlier publication's id
    borough: AreaSeries | None
    areas: tuple[AreaSeries, ...]
    protection: str = ""  # the digest of the rules it was protected under (previous.py)


@dataclass(frozen=True)
class Piece:
    """One borough and category: everything protected together."""

    borough: int
    category: int
    best_fit: tuple[tuple[int, int], ...]  # (LSOA id, its ONS best-fit ward id)
    earliest_end: date
    latest: date
    versions: tuple[Version, ...]  # the first is the publication being built


@dataclass
class PieceTable:
    table: disclosure.Table
    relations: list[relations.Relation]  # those of the publication being built


def piece_table(piece: Piece) -> PieceTable:
    """The disclosure table of a piece: cells keyed ``(area, period, end)`` for the publication
    being built, ``((publication, area), period, end)`` for earlier ones."""
    table = disclosure.Table()
    unknowns: dict[tuple[int, date, int], int] = {}
    blocks: dict[int, int] = {}

    def unknown(area: int, month: date, count: int) -> int:
        key = (area, month, count)
        if key not in unknowns:
            block = blocks.setdefault(area, len(blocks))
            unknowns[key] = table.add_unknowns([count], block=block)[0]
        return unknowns[key]

    found: list[relations.Relation] = []
    facts: set[tuple] = set()
    shown_before: set[AreaSeries] = set()
    for v, version in enumerate(piece.versions):
        months_of: dict[int, dict[date, int]] = {}
        for series in version.areas:
            parts = {
                m: unknown(series.area, m, c)
                for m, c in zip(series.months, series.counts, strict=True)
            }
            months_of[series.area] = parts
            if series.shown is not None and series in shown_before:
                continue  # the same figures from the same counts: nothing new
            shown_before.add(series)
            if series.shown is None:
                table.add_periods(
                    series.area,
                    parts,
                    level=series.level,
                    periods=periods_for(series.level),
                    earliest_end=piece.earliest_end,
                )
            elif series.shown:
                table.add_shown(
                    (version.name, series.area), parts, level=series.level, shown=dict(series.shown)
                )
        holding = version_relations(piece, version)
        if v == 0:
            found = holding
        for relation in holding:
            _add_fact(table, facts, relation, version, months_of)
    return PieceTable(table, found)


def version_relations(piece: Piece, version: Version) -> list[relations.Relation]:
    """The relations that hold in one publication's raw counts for a piece."""
    by_level: dict[str, list[AreaSeries]] = {}
    for series in version.areas:
        by_level.setdefault(series.level, []).append(series)
    found: list[relations.Relation] = []
    borough = version.borough
    if borough is not None:
        for level, kind in (
            (Level.WARD, relations.BOROUGH_WARDS),
            (Level.LSOA, relations.BOROUGH_LSOAS),
        ):
            members = by_level.get(level, [])
            if members:
                found += _find(kind, borough, members)
    wards = {s.area: s for s in by_level.get(Level.WARD, [])}
    lsoas = {s.area: s for s in by_level.get(Level.LSOA, [])}
    best: dict[int, list[AreaSeries]] = {}
    for lsoa, ward in piece.best_fit:
        if lsoa in lsoas and ward in wards:
            best.setdefault(ward, []).append(lsoas[lsoa])
    for ward, members in best.items():
        found += _find(relations.WARD_LSOAS, wards[ward], members)
    return found


def _find(kind: str, whole: AreaSeries, parts: list[AreaSeries]) -> list[relations.Relation]:
    months = parts[0].months
    if any(p.months != months for p in parts):
        return []  # parts from files covering different months: no month-by-month relation
    return relations.find(
        kind=kind,
        whole=whole.area,
        whole_months=whole.months,
        whole_counts=whole.counts,
        parts=tuple(p.area for p in parts),
        part_months=months,
        part_counts=np.array([p.counts for p in parts], dtype=np.int64),
    )


def _add_fact(table, facts: set, relation, version: Version, months_of) -> None:
    """A relation as a bound on the unknowns: the borough's side is its exact published
    figure; a ward's side is its own unknown (then the sum of the parts minus the ward)."""
    terms = [months_of[p][relation.month] for p in relation.parts]
    coefs = [1.0] * len(terms)
    if relation.kind == relations.WARD_LSOAS:
        terms.append(months_of[relation.whole][relation.month])
        coefs.append(-1.0)
        whole = 0.0
    else:
        borough = version.borough
        whole = float(borough.counts[borough.months.index(relation.month)])
    lower, upper = {
        relations.EQUAL: (whole, whole),
        relations.AT_MOST: (-inf if relation.kind == relations.WARD_LSOAS else 0.0, whole),
        relations.AT_LEAST: (whole, inf),
    }[relation.sense]
    key = (tuple(terms), tuple(coefs), lower, upper)
    if key in facts:
        return
    facts.add(key)
    table.add_fact(
        (relation.kind, relation.whole, relation.month.isoformat(), len(facts)),
        terms,
        lower=lower,
        upper=upper,
        coefs=None if relation.kind != relations.WARD_LSOAS else coefs,
    )


@dataclass(frozen=True)
class PieceResult:
    """What protecting one piece gave: the new publication's statuses and what they hid."""

    borough: int
    category: int
    statuses: tuple[tuple[int, Period, date, disclosure.Status], ...]
    tally: tuple[tuple[int, tuple[tuple[str, int], ...]], ...]  # an area of the level -> counts
    failures: int
    relations: dict[str, dict[str, int]]
    lps: int = 0
    failing: tuple[str, ...] = ()  # the figures no withholding could protect, for the log


def protect_piece(piece: Piece, policy: disclosure.Policy) -> PieceResult:
    """Protect one piece: small figures hidden, the cheapest others withheld until the audit
    of everything the attacker can combine passes (see crimestats/disclosure.protect)."""
    built = piece_table(piece)
    protection = disclosure.protect(
        built.table, policy=policy, cost=disclosure.RecencyCost(piece.latest)
    )
    statuses = []
    for cell, status in zip(protection.cells, protection.statuses, strict=True):
        if cell.fixed is None:
            area, period, end = cell.key
            statuses.append((area, period, end, status))
    # Tallied by one area of each level, which names the level and source it belongs to.
    first = {}
    for cell in protection.cells:
        if cell.fixed is None:
            first.setdefault(cell.level, cell.key[0])
    tally = protection.tally(by=lambda cell: first[cell.level])
    return PieceResult(
        borough=piece.borough,
        category=piece.category,
        statuses=tuple(statuses),
        tally=tuple((level, tuple(asdict(t).items())) for level, t in tally.items()),
        failures=len(protection.failures),
        relations=relations.summary(built.relations),
        lps=protection.lps,
        failing=tuple(
            f"{f.id} in [{f.low:g}, {f.high:g}] by {list(f.pinned_by)[:6]}"
            for f in protection.failures
        ),
    )


def reused(piece: Piece, policy: disclosure.Policy) -> PieceResult | None:
    """The statuses an earlier public publication gave this piece, when it showed the same
    figures from the same raw counts under the same rules: showing them again adds nothing to
    what is public, so they need no new protection (an unchanged month re-uploaded, or a file
    that changed only in other boroughs)."""
    new = piece.versions[0]
    if not new.protection:
        return None  # built without the rules' digest: nothing to compare with
    wanted = _content(new)
    for version in piece.versions[1:]:
        if version.protection != new.protection or _content(version) != wanted:
            continue
        shown = {series.area: dict(series.shown or ()) for series in version.areas}
        expected = {series.area: _published_keys(series, piece) for series in new.areas}
        if any(set(shown[area]) != keys for area, keys in expected.items()):
            continue
        return _result_of(piece, new, shown, policy)
    return None


def _content(version: Version) -> tuple:
    """What a version's figures are made of: its areas' and its borough's raw counts."""
    borough = version.borough
    return (
        None if borough is None else (borough.area, borough.months, borough.counts),
        frozenset((s.area, s.level, s.months, s.counts) for s in version.areas),
    )


def _published_keys(series: AreaSeries, piece: Piece) -> frozenset[tuple[Period, date]]:
    return _keys_for(series.level, series.months, piece.earliest_end)


@lru_cache(maxsize=256)
def _keys_for(level: str, months: tuple[date, ...], earliest_end: date) -> frozenset:
    """The (period, end) figures a series of these months publishes (shared by its block)."""
    return frozenset(
        (period, end)
        for period in periods_for(level)
        for end in disclosure.published_ends(period, months, earliest_end)
    )


def _result_of(piece: Piece, new: Version, shown: dict, policy: disclosure.Policy) -> PieceResult:
    """A PieceResult for statuses taken as they are, tallied as ``protect_piece`` tallies."""
    statuses = []
    tally: dict[int, disclosure.Tally] = {}
    first: dict[str, int] = {}
    for series in new.areas:
        values = series_values(series.counts, list(series.months), shown[series.area])
        owner = first.setdefault(series.level, series.area)
        for (period, end), status in sorted(shown[series.area].items()):
            statuses.append((series.area, period, end, status))
            tally[owner] = tally.get(owner, disclosure.Tally()) + disclosure.Tally.of(
                values[(period, end)], status, level=series.level, policy=policy
            )
    return PieceResult(
        borough=piece.borough,
        category=piece.category,
        statuses=tuple(statuses),
        tally=tuple((area, tuple(asdict(t).items())) for area, t in tally.items()),
        failures=0,
        relations=relations.summary(version_relations(piece, new)),
    )


def protect_pieces(
    pieces: Iterable[Piece], *, policy: disclosure.Policy, workers: int = WORKERS
) -> Iterator[PieceResult]:
    """``protect_piece`` for many pieces on ``workers`` processes, biggest first."""
    jobs = sorted(pieces, key=_size, reverse=True)
    if workers <= 1 or len(jobs) < 2:
        yield from (protect_piece(p, policy) for p in jobs)
        return
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(protect_piece, jobs, repeat(policy), chunksize=1)


def _size(piece: Piece) -> int:
    return sum(len(s.counts) for v in piece.versions for s in v.areas)


@dataclass
class ProtectedBlock:
    """Statuses for the figures of one level and source, and what they hid."""

    figures: dict[tuple[int, int, Period, date], disclosure.Status]
    tally: dict[tuple[str, str], dict[str, int]] = field(default_factory=dict)
    failures: int = 0


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


def add_counts(total: dict[str, int], counts) -> None:
    """Add one tally's named counts into another."""
    for name, value in dict(counts).items():
        total[name] = total.get(name, 0) + value
