"""An attacker's audit of every publication ever public, built on its own (issue 10).

A second implementation of the disclosure check: it reads what was published (the rows of every
publication with ``first_public_at`` set, rolled back or not) and the raw counts each one was
built from (its ``coverage`` snapshot), and builds its own linear model, without the protection's
table builders, so that a relation the protection forgets is caught here.

The model, for one borough (with its wards and LSOAs) and one shown category at a time:

- unknowns: the true monthly counts, one per area, month and *version*: two publications share
  an unknown when their raw counts for it are equal; a month the Met restated is a new unknown;
- facts: every figure of every public publication is the sum of its months; an exact figure is
  an equality, "fewer than 5" is 1 to 4, a withheld figure says nothing;
- relations, tested on each publication's raw counts month by month: borough = its wards,
  borough = its LSOAs (the City's police.uk LSOAs for the City), ward = its ONS best-fit LSOAs;
  each that holds exactly is an equality; for each parent, a relation whose children never add up
  to more (or never to less) than the parent is an inequality in every month;
- checks: every figure published as suppressed whose true value is small; its feasible range
  (bounds rounded inward) must still cover the whole small range, else it fails, and a failure
  whose range is one value is pinned.

London's figures are all exact, so London = boroughs + the rest hides nothing: noted, not modelled.
The LP engine is ``crimestats.audit``; the far end of a failing withheld figure's range (which
the engine only takes as far as the target) is solved with ``scipy.optimize.linprog``.
"""

import os
from collections import defaultdict
from collections.abc import Callable, Iterable, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from math import ceil, floor, inf, isnan
from time import perf_counter

import numpy as np
from django.db import connection
from django.db.models import Q
from scipy import sparse
from scipy.optimize import linprog

from areas.models import Area, Level
from crimestats.audit import Check, Known, Problem, audit, split
from crimestats.disclosure import Policy
from crimestats.models import Category, Publication, PublishedFigure
from crimestats.periods import Period, months_in
from crimestats.selectors import shown_categories
from crimestats.sources import CITY_OF_LONDON, source_for

WORKERS = max(1, min(4, os.cpu_count() or 1))
TOLERANCE = 1e-6  # LP noise allowed before a bound is rounded inward
SHOWN_PROOF = 12  # figures named when a failure is printed

BOROUGH_WARDS = "borough = its wards"
BOROUGH_LSOAS = "borough = its LSOAs"
CITY_LSOAS = "City of London = its LSOAs"
WARD_LSOAS = "ward = its best-fit LSOAs"
RELATION_KINDS = (BOROUGH_WARDS, BOROUGH_LSOAS, CITY_LSOAS, WARD_LSOAS)
LONDON_NOTE = "London = boroughs + the rest: every figure on both sides is exact (noted only)"

# Counts of one release by area code and major category (a major's count is the sum of its
# minors, as crimestats/services/counts.py reads them); a missing row in a covered month is 0.
COUNTS_SQL = """
    SELECT a.code, COALESCE(c.parent_id, c.id) AS major, m.month, SUM(m.count)
    FROM crimestats_monthlycount m
    JOIN crimestats_category c ON c.id = m.category_id
    JOIN areas_area a ON a.id = m.area_id
    WHERE m.release_id = %s AND m.month = ANY(%s) AND COALESCE(c.parent_id, c.id) = ANY(%s)
      AND a.code = ANY(%s)
    GROUP BY 1, 2, 3
"""


@dataclass(frozen=True)
class UnionFailure:
    """A hidden small figure whose feasible range no longer covers the whole small range."""

    publication: int  # the first public publication that hid it
    publications: tuple[int, ...]  # every one that hid it (the same months, the same counts)
    area: str
    category: str
    period: str
    end: date
    withheld: bool
    feasible: tuple[float, float]  # rounded inward: ceil of the minimum, floor of the maximum
    pinned_by: tuple[str, ...]  # the figures and relations that prove the bound
    # The range from the publications before the first that hid it (and their relations):
    # what was already public about it before it was ever published.
    before: tuple[float, float] = (0.0, inf)
    small: tuple[int, int] = (1, 4)  # the policy's small range

    @property
    def pinned(self) -> bool:
        return self.feasible[0] == self.feasible[1]

    @property
    def bound_before(self) -> bool:
        """Already failing on what was public before it was first published: no withholding
        when it was published could have helped, only not narrowing it further."""
        return self.before[0] > self.small[0] or self.before[1] < self.small[1]

    @property
    def narrowed(self) -> bool:
        """Narrowed by its own or later publications beyond what was public before: towards
        the bottom of the small range, or down into it at the top (it would read as small)."""
        low, high = self.feasible
        reach = self.small[1] + 1  # the first value that is not small
        return low > max(self.small[0], self.before[0]) or high < min(reach, self.before[1])

    def __str__(self) -> str:
        low, high = self.feasible
        policy = Policy.from_settings()
        shown = policy.withheld_label if self.withheld else policy.label
        where = f"publication {self.publication}"
        if len(self.publications) > 1:
            where = f"publications {', '.join(map(str, self.publications))}"
        value = f"exactly {low:g}" if self.pinned else f"only {low:g} to {high:g}"
        if self.bound_before and not self.narrowed:
            value += " (as already public before it was first published, and no narrower)"
        proof = "; ".join(self.pinned_by[:SHOWN_PROOF]) or "its own bounds"
        if len(self.pinned_by) > SHOWN_PROOF:
            proof += f"; and {len(self.pinned_by) - SHOWN_PROOF} more"
        return (
            f"{self.area} {self.category} {self.period} {self.end:%Y-%m} ({shown}, {where}): "
            f"{value}; pinned by {proof}"
        )


@dataclass
class UnionAuditOutcome:
    """What the audit found: hidden small figures checked (each set of unknowns once), those
    failing, how many of them are pinned to one value, and the relations modelled."""

    checked: int = 0
    failures: list[UnionFailure] = field(default_factory=list)
    pinned: int = 0
    lps: int = 0
    # failures already failing before they were first published and narrowed no further
    bound_before: int = 0
    seconds: float = 0.0
    relations: dict = field(default_factory=dict)
    publications: list[int] = field(default_factory=list)

    @property
    def passed(self) -> bool:
        return not self.failures


# --------------------------------------------------------------------------------------------
# What one independent piece needs (plain data, sent to a worker process).

Months = tuple[date, ...]
Counts = tuple[int, ...]


@dataclass(frozen=True)
class _Place:
    level: str
    borough: str | None  # the parent borough's code (wards and LSOAs)
    ward: str | None = None  # LSOAs: the ONS best-fit ward's code


@dataclass
class _Piece:
    """One or more boroughs (linked by best-fit wards) and one category, in every publication."""

    boroughs: tuple[str, ...]
    category: str
    low: int
    high: int
    protected: frozenset[str]
    places: dict[str, _Place]
    # publication -> area code -> (months covered, raw counts of those months)
    series: dict[int, dict[str, tuple[Months, Counts]]]
    # figure block -> its rows (area code, period, end, count, suppressed, withheld); blocks
    # are shared between publications while unchanged, so each is sent once
    figures: dict[int, list[tuple[str, str, date, int | None, bool, bool]]]
    blocks: dict[int, list[int]]  # publication -> its figure blocks

    @property
    def size(self) -> int:
        figures = sum(len(self.figures.get(b, ())) for ids in self.blocks.values() for b in ids)
        return figures + sum(len(s) for s in self.series.values())


@dataclass
class _PieceResult:
    checked: int = 0
    lps: int = 0
    failures: list[UnionFailure] = field(default_factory=list)
    # kind -> [relations tested, relations holding exactly]; kind -> parents with an inequality
    tested: dict[str, list[int]] = field(default_factory=dict)
    inequalities: dict[str, int] = field(default_factory=dict)


# --------------------------------------------------------------------------------------------
# The model of one piece.


class _Model:
    """Unknowns, facts (deduplicated) and checks of one piece."""

    def __init__(self, piece: _Piece):
        self.piece = piece
        self.truth: list[float] = []
        self.unknown: dict[tuple[str, date, int | None], int] = {}
        self.vectors: dict[tuple[str, Months, Counts], tuple[int, dict[date, int]]] = {}
        self.of_publication: dict[tuple[int, str], tuple[int, dict[date, int]] | None] = {}
        self.facts: dict[tuple, int] = {}
        self.knowns: list[Known] = []
        self.stated_by: list[set[int]] = []  # each fact's publications
        # Each fact's names: a figure's text, or (relation, parent, publication, month).
        self.names: list[list[str | tuple[str, str, int, date]]] = []
        self.checks: dict[tuple[int, ...], int] = {}
        self.check_figures: list[list[tuple[int, str, str, date, bool]]] = []
        self.check_of: dict[tuple, int] = {}  # a figure's dedup key -> its check
        self.result = _PieceResult(tested={kind: [0, 0] for kind in RELATION_KINDS})

    # -- unknowns ----------------------------------------------------------------------------

    def _var(self, code: str, month: date, value: int | None) -> int:
        key = (code, month, value)
        index = self.unknown.get(key)
        if index is None:
            index = self.unknown[key] = len(self.truth)
            self.truth.append(float("nan") if value is None else float(value))
        return index

    def vector(self, publication: int, code: str) -> tuple[int, dict[date, int]] | None:
        """A version of an area's months (an id, and month -> unknown) in one publication."""
        if (publication, code) in self.of_publication:
            return self.of_publication[(publication, code)]
        series = self.piece.series.get(publication, {}).get(code)
        found = None
        if series is not None:
            key = (code, *series)
            found = self.vectors.get(key)
            if found is None:
                months, counts = series
                mapping = {m: self._var(code, m, c) for m, c in zip(months, counts, strict=True)}
                found = self.vectors[key] = (len(self.vectors), mapping)
        self.of_publication[(publication, code)] = found
        return found

    # -- facts -------------------------------------------------------------------------------

    def fact(self, terms, coefs, lower: float, upper: float, name, publication: int) -> None:
        order = sorted(range(len(terms)), key=lambda i: terms[i])
        terms = tuple(terms[i] for i in order)
        coefs = None if coefs is None else tuple(float(coefs[i]) for i in order)
        key = (terms, coefs, lower, upper)
        index = self.facts.get(key)
        if index is None:
            index = self.facts[key] = len(self.knowns)
            self.knowns.append(Known(index, terms, lower, upper, coefs))
            self.names.append([])
            self.stated_by.append(set())
        self.stated_by[index].add(publication)
        if len(self.names[index]) < 3:
            self.names[index].append(name)

    def add_figures(self) -> None:
        """Every figure as a fact about its months' unknowns; the hidden small ones as checks
        (one per set of unknowns, naming every publication that hid it)."""
        piece = self.piece
        seen = set()
        for publication, code, period, end, count, suppressed, withheld in self._rows():
            place = piece.places[code]
            found = self.vector(publication, code)
            version = found[0] if found else None
            key = (code, version, period, end, count, suppressed, withheld)
            if key in seen:
                self._note_check(key, publication)
                continue
            seen.add(key)
            mapping = found[1] if found else {}
            terms = [
                mapping[m] if m in mapping else self._var(code, m, None)
                for m in months_in(Period(period), end)
            ]
            name = f"P{publication} {code} {period} {end:%Y-%m}"
            if not suppressed:
                self.fact(terms, None, count, count, f"{name} = {count}", publication)
            elif not withheld:
                self.fact(
                    terms,
                    None,
                    piece.low,
                    piece.high,
                    f"{name} fewer than {piece.high + 1}",
                    publication,
                )
            if suppressed and place.level in piece.protected:
                truth = sum(self.truth[t] for t in terms)
                if not isnan(truth) and piece.low <= truth <= piece.high:
                    check = tuple(sorted(terms))
                    index = self.checks.setdefault(check, len(self.checks))
                    if index == len(self.check_figures):
                        self.check_figures.append([])
                    self.check_figures[index].append((publication, code, period, end, withheld))
                    self.check_of[key] = index

    def _rows(self):
        for publication, blocks in self.piece.blocks.items():
            for block in blocks:
                for row in self.piece.figures.get(block, ()):
                    yield (publication, *row)

    def _note_check(self, key, publication: int) -> None:
        """The same hidden figure again in another publication: one check, both named."""
        index = self.check_of.get(key)
        if index is not None:
            code, _, period, end, _, _, withheld = key
            self.check_figures[index].append((publication, code, period, end, withheld))

    # -- relations ---------------------------------------------------------------------------

    def add_relations(self) -> None:
        """Test every relation on each publication's raw counts; model those that hold."""
        piece = self.piece
        wards: dict[str, list[str]] = defaultdict(list)
        lsoas: dict[str, list[str]] = defaultdict(list)
        best_fit: dict[str, list[str]] = defaultdict(list)
        for code, place in piece.places.items():
            if place.level == Level.WARD and place.borough:
                wards[place.borough].append(code)
            elif place.level == Level.LSOA:
                if place.borough:
                    lsoas[place.borough].append(code)
                if place.ward in piece.places:
                    best_fit[place.ward].append(code)
        parents = []
        for borough in piece.boroughs:
            if borough not in piece.places:
                continue
            parents.append((BOROUGH_WARDS, borough, sorted(wards[borough])))
            kind = CITY_LSOAS if borough == CITY_OF_LONDON else BOROUGH_LSOAS
            parents.append((kind, borough, sorted(lsoas[borough])))
        for ward in sorted(best_fit):
            parents.append((WARD_LSOAS, ward, sorted(best_fit[ward])))
        for kind, parent, children in parents:
            if children:
                self._relation(kind, parent, children)

    def _relation(self, kind: str, parent: str, children: list[str]) -> None:
        """One parent's relation in every publication: an equality in each month it holds in,
        and where the children never add up to more (or never to less) than the parent in any
        month of a publication, an inequality in that publication's other months."""
        gaps: dict[tuple[int, ...], float] = {}  # terms -> parent minus children
        inequality = False
        for publication in sorted(self.piece.series):
            top = self.vector(publication, parent)
            parts = [self.vector(publication, child) for child in children]
            if top is None or any(part is None for part in parts):
                continue
            rows = []
            for month, var in top[1].items():
                terms = [part[1].get(month) for part in parts]
                if any(t is None for t in terms):
                    continue  # a month without data for both sides
                key = (var, *terms)
                if key not in gaps:
                    gaps[key] = self.truth[var] - sum(self.truth[t] for t in terms)
                rows.append((key, gaps[key], month))
            never_more = all(gap >= 0 for _, gap, _ in rows)  # children <= parent
            never_less = all(gap <= 0 for _, gap, _ in rows)  # children >= parent
            inequality |= never_more != never_less
            for key, gap, month in rows:
                coefs = (1.0,) + (-1.0,) * (len(key) - 1)
                if gap == 0:
                    self.fact(key, coefs, 0.0, 0.0, (kind, parent, publication, month), publication)
                elif never_more:
                    name = (kind.replace(" = ", " >= "), parent, publication, month)
                    self.fact(key, coefs, 0.0, inf, name, publication)
                elif never_less:
                    name = (kind.replace(" = ", " <= "), parent, publication, month)
                    self.fact(key, coefs, -inf, 0.0, name, publication)
        tested = self.result.tested[kind]
        tested[0] += len(gaps)
        tested[1] += sum(gap == 0 for gap in gaps.values())
        if inequality:
            self.result.inequalities[kind] = self.result.inequalities.get(kind, 0) + 1

    # -- solving -----------------------------------------------------------------------------

    def problem(self) -> Problem:
        """Everything modelled, with the true counts (NaN where a month had no raw data)."""
        checks = [Check(index, terms) for index, terms in enumerate(self.checks)]
        low, high = self.piece.low, self.piece.high
        return Problem(len(self.truth), self.knowns, checks, low, high, truth=self.truth)


def _audit_piece(piece: _Piece) -> _PieceResult:
    """Model one piece and audit it part by part."""
    model = _Model(piece)
    model.add_figures()
    model.add_relations()
    result = model.result
    result.checked = len(model.checks)
    if not model.checks:
        return result
    truth = np.asarray(model.truth)
    for part in split(model.problem()):
        used = sorted(
            {t for k in part.knowns for t in k.terms} | {t for c in part.checks for t in c.terms}
        )
        if np.isnan(truth[used]).any():
            part = replace(part, truth=None)  # a figure about months with no raw counts
        report = audit(part)
        result.lps += report.lps
        for check, outcome in zip(part.checks, report.results, strict=True):
            if outcome.passed:
                continue
            figures = model.check_figures[check.id]
            withheld = all(f[4] for f in figures)
            # A failing end is the exact extreme; a passing one only a value at or beyond the
            # target: a "fewer than 5" stops it there, else it is solved for.
            low, high = outcome.low, outcome.high
            if not outcome.low_failed:
                low = _extreme(part, check, maximise=False) if withheld else piece.low
            if not outcome.high_failed:
                high = _extreme(part, check, maximise=True) if withheld else piece.high
            feasible = _inward(low, high)
            names = _describe(model.names[i][0] for i in outcome.pinned_by)
            order = list(piece.blocks)
            publication, code, period, end, _ = min(figures, key=lambda f: order.index(f[0]))
            earlier = set(order[: order.index(publication)])
            before = replace(
                part, knowns=[k for k in part.knowns if model.stated_by[k.id] & earlier]
            )
            before_range = _inward(
                _extreme(before, check, maximise=False), _extreme(before, check, maximise=True)
            )
            result.failures.append(
                UnionFailure(
                    publication=publication,
                    publications=tuple(sorted({f[0] for f in figures})),
                    area=code,
                    category=piece.category,
                    period=period,
                    end=end,
                    withheld=withheld,
                    feasible=feasible,
                    pinned_by=names,
                    before=before_range,
                    small=(piece.low, piece.high),
                )
            )
    return result


def _inward(low: float, high: float) -> tuple[float, float]:
    """A feasible range rounded inward to whole numbers (the true counts are whole)."""
    return (
        float(ceil(low - TOLERANCE)),
        float(floor(high + TOLERANCE)) if high < inf else inf,
    )


def _describe(names: Iterable) -> tuple[str, ...]:
    """Figures by name; a relation's months together ("ward = ...: E05..., 12 months ...")."""
    figures: list[str] = []
    months: dict[tuple[str, str, int], list[date]] = defaultdict(list)
    for name in names:
        if isinstance(name, tuple):
            months[name[:3]].append(name[3])
        elif name not in figures:
            figures.append(name)
    for (kind, parent, publication), found in months.items():
        found = sorted(set(found))
        span = f"{found[0]:%Y-%m}" if len(found) == 1 else f"{found[0]:%Y-%m} to {found[-1]:%Y-%m}"
        figures.append(f"{kind}: {parent}, {len(found)} month(s) {span} (P{publication})")
    return tuple(figures)


def _extreme(part: Problem, check: Check, *, maximise: bool) -> float:
    """The smallest or largest value of a check, by a plain LP over the part's figures."""
    used = sorted({t for k in part.knowns for t in k.terms} | set(check.terms))
    column = {var: i for i, var in enumerate(used)}
    eq_rows, eq_b, ub_rows, ub_b = [], [], [], []
    for known in part.knowns:
        coefs = known.coefs or (1.0,) * len(known.terms)
        row = {column[t]: c for t, c in zip(known.terms, coefs, strict=True)}
        if known.lower == known.upper:
            eq_rows.append(row)
            eq_b.append(known.lower)
            continue
        if known.upper < inf:
            ub_rows.append(row)
            ub_b.append(known.upper)
        if known.lower > -inf:
            ub_rows.append({k: -v for k, v in row.items()})
            ub_b.append(-known.lower)

    def matrix(rows):
        r = [i for i, row in enumerate(rows) for _ in row]
        c = [k for row in rows for k in row]
        v = [x for row in rows for x in row.values()]
        return sparse.csr_array((v, (r, c)), shape=(len(rows), len(used)))

    kwargs = {"bounds": (0, None), "method": "highs"}
    if eq_rows:
        kwargs.update(A_eq=matrix(eq_rows), b_eq=eq_b)
    if ub_rows:
        kwargs.update(A_ub=matrix(ub_rows), b_ub=ub_b)
    objective = np.zeros(len(used))
    for t, c in zip(check.terms, check.coefs or (1.0,) * len(check.terms), strict=True):
        objective[column[t]] += -c if maximise else c
    solution = linprog(objective, **kwargs)
    if maximise and solution.status == 3:
        return inf  # unbounded
    if solution.status != 0:
        raise RuntimeError(f"union audit LP did not solve: {solution.message}")
    return -solution.fun if maximise else solution.fun


# --------------------------------------------------------------------------------------------
# Reading publications, raw counts and areas.


def public_publications(*, up_to: Publication | None = None) -> list[Publication]:
    """Every publication ever public (rolled back or not), oldest first; with ``up_to``, those
    public no later than it, and it (public or not)."""
    found = Publication.objects.filter(first_public_at__isnull=False)
    if up_to is not None and up_to.first_public_at is not None:
        found = found.filter(first_public_at__lte=up_to.first_public_at)
    result = list(found.order_by("first_public_at", "pk"))
    if up_to is not None and all(p.pk != up_to.pk for p in result):
        result.append(up_to)
    return result


def _categories(publications: Sequence[Publication]) -> list[Category]:
    """The flagged categories and every one a publication showed: each publication keeps its
    own set, so one hidden since still has figures in the archive."""
    ids = {c.pk for p in publications for c in shown_categories(p)}
    return list(Category.objects.filter(Q(pk__in=ids) | Q(shown=True), parent=None).order_by("id"))


def _places(boroughs: set[str] | None) -> dict[str, _Place]:
    """The current boroughs, wards and LSOAs (of some boroughs), by code."""
    rows = Area.objects.filter(
        boundary_set__is_current=True, level__in=[Level.BOROUGH, Level.WARD, Level.LSOA]
    ).values_list("code", "level", "parent__code", "best_fit_ward__code")
    places = {}
    for code, level, parent, ward in rows:
        borough = code if level == Level.BOROUGH else parent
        if boroughs is None or borough in boroughs:
            places[code] = _Place(level, None if level == Level.BOROUGH else parent, ward)
    return places


def _source_key(code: str, place: _Place) -> tuple[str, str]:
    source = source_for(code=code, borough_code=place.borough)
    return (source.source, source.force)


def _raw_series(
    publications: list[Publication], places: dict[str, _Place], categories: list[Category]
) -> dict[int, dict[tuple[str, int], tuple[Months, Counts]]]:
    """Each publication's raw counts: publication -> (code, category id) -> (months, counts)."""
    by_source: dict[tuple[str, str, str], list[str]] = defaultdict(list)
    for code, place in places.items():
        by_source[(*_source_key(code, place), place.level)].append(code)
    # Which months of which release each publication used, per (source, force, level).
    used: dict[int, dict[tuple, tuple]] = {}
    wanted: dict[int, set[date]] = defaultdict(set)
    for publication in publications:
        rows: dict[tuple, list] = defaultdict(list)
        for source, force, level, month, release in publication.coverage:
            if (source, force, level) in by_source:
                month = date.fromisoformat(str(month))
                rows[(source, force, level)].append((month, int(release)))
                wanted[int(release)].add(month)
        used[publication.pk] = {key: tuple(sorted(value)) for key, value in rows.items()}
    counts: dict[int, dict[tuple[str, int], dict[date, int]]] = {}
    codes = sorted(places)
    category_ids = [c.id for c in categories]
    with connection.cursor() as cursor:
        for release, months in sorted(wanted.items()):
            found: dict[tuple[str, int], dict[date, int]] = defaultdict(dict)
            cursor.execute(COUNTS_SQL, [release, sorted(months), category_ids, codes])
            for code, major, month, total in cursor:
                found[(code, major)][month] = int(total)
            counts[release] = found
    cache: dict[tuple, dict[tuple[str, int], tuple[Months, Counts]]] = {}
    result = {}
    for publication in publications:
        series: dict[tuple[str, int], tuple[Months, Counts]] = {}
        for key, rows in used[publication.pk].items():
            if (key, rows) not in cache:
                months = tuple(month for month, _ in rows)
                built = {}
                for code in by_source[key]:
                    for category in category_ids:
                        values = tuple(
                            counts[release].get((code, category), {}).get(month, 0)
                            for month, release in rows
                        )
                        built[(code, category)] = (months, values)
                cache[(key, rows)] = built
            series.update(cache[(key, rows)])
        result[publication.pk] = series
    return result


def _figures(
    publications: list[Publication], places: dict[str, _Place], categories: list[Category]
) -> dict[int, list[tuple]]:
    """Every figure about the places in the publications' blocks: block -> rows of
    (code, category id, period, end, count, suppressed, withheld); each block read once."""
    code_of = dict(Area.objects.filter(code__in=list(places)).values_list("id", "code").iterator())
    blocks: dict[int, list[tuple]] = {}
    for block in sorted({block for p in publications for block in p.block_ids}):
        rows = (
            PublishedFigure.objects.filter(
                block_id=block,
                area_id__in=list(code_of),
                category_id__in=[c.id for c in categories],
            )
            .values_list(
                "area_id", "category_id", "period", "end_month", "count", "suppressed", "withheld"
            )
            .iterator(chunk_size=20_000)
        )
        blocks[block] = [(code_of[area], *rest) for area, *rest in rows]
    return blocks


def _groups(places: dict[str, _Place]) -> list[tuple[str, ...]]:
    """Boroughs in independent groups: a borough alone unless an LSOA's best-fit ward lies in
    another borough (then the two are audited together)."""
    parent = {code: code for code, place in places.items() if place.level == Level.BOROUGH}

    def root(code: str) -> str:
        while parent[code] != code:
            parent[code] = parent[parent[code]]
            code = parent[code]
        return code

    for place in places.values():
        ward = places.get(place.ward) if place.ward else None
        if (
            place.level == Level.LSOA
            and ward
            and place.borough in parent
            and ward.borough in parent
        ):
            parent[root(place.borough)] = root(ward.borough)
    groups: dict[str, list[str]] = defaultdict(list)
    for code in parent:
        groups[root(code)].append(code)
    return [tuple(sorted(members)) for members in groups.values()]


def _pieces(
    publications: list[Publication],
    places: dict[str, _Place],
    categories: list[Category],
    policy: Policy,
) -> list[_Piece]:
    series = _raw_series(publications, places, categories)
    figures = _figures(publications, places, categories)
    group_of = {}
    groups = _groups(places)
    for group in groups:
        for borough in group:
            group_of[borough] = group
    low, high = policy.small_range
    pieces = {}
    for group in groups:
        members = {
            code: place
            for code, place in places.items()
            if (code if place.level == Level.BOROUGH else place.borough) in group
        }
        for category in categories:
            pieces[(group, category.id)] = _Piece(
                boroughs=group,
                category=category.slug,
                low=low,
                high=high,
                protected=policy.levels,
                places=members,
                series={p.pk: {} for p in publications},
                figures={},
                blocks={p.pk: list(p.block_ids) for p in publications},
            )
    for pk, by_code in series.items():
        for (code, category), value in by_code.items():
            place = places[code]
            borough = code if place.level == Level.BOROUGH else place.borough
            if borough in group_of:
                pieces[(group_of[borough], category)].series[pk][code] = value
    for block, rows in figures.items():
        for code, category, *row in rows:
            place = places[code]
            borough = code if place.level == Level.BOROUGH else place.borough
            if borough in group_of:
                piece = pieces[(group_of[borough], category)]
                piece.figures.setdefault(block, []).append((code, *row))
    return sorted(pieces.values(), key=lambda piece: -piece.size)


# --------------------------------------------------------------------------------------------
# The entry point.


def audit_all_publications(
    *,
    boroughs: list[str] | None = None,
    publications: Iterable[Publication] | None = None,
    log: Callable[[str], None] = print,
    workers: int = WORKERS,
) -> UnionAuditOutcome:
    """Audit the union of every public publication (or of the given ones) for some boroughs
    (default: all of London); see the module docstring."""
    started = perf_counter()
    policy = Policy.from_settings()
    if publications is None:
        publications = public_publications()
    publications = sorted(
        publications, key=lambda p: (p.first_public_at is None, p.first_public_at, p.pk)
    )
    wanted = {code.strip().upper() for code in boroughs} if boroughs else None
    categories = _categories(publications)
    places = _places(wanted)
    outcome = UnionAuditOutcome(publications=[p.pk for p in publications])
    pieces = _pieces(publications, places, categories, policy)
    log(
        f"  read {len(publications)} publication(s), {len(places):,} areas, "
        f"{sum(len(r) for p in pieces for r in p.figures.values()):,} figures "
        f"in {perf_counter() - started:.1f} s"
    )
    results = _run(pieces, workers=workers)
    tested = {kind: [0, 0] for kind in RELATION_KINDS}
    inequalities = {kind: 0 for kind in RELATION_KINDS}
    for result in results:
        outcome.checked += result.checked
        outcome.lps += result.lps
        outcome.failures.extend(result.failures)
        for kind, (n, held) in result.tested.items():
            tested[kind][0] += n
            tested[kind][1] += held
        for kind, n in result.inequalities.items():
            inequalities[kind] += n
    outcome.failures.sort(key=lambda f: (f.area, f.category, f.period, f.end))
    outcome.pinned = sum(f.pinned for f in outcome.failures)
    outcome.bound_before = sum(f.bound_before and not f.narrowed for f in outcome.failures)
    outcome.relations = {
        kind: {
            "tested": tested[kind][0],
            "exact": tested[kind][1],
            "parents with an inequality": inequalities[kind],
        }
        for kind in RELATION_KINDS
        if tested[kind][0]
    }
    outcome.relations["London"] = LONDON_NOTE
    outcome.seconds = perf_counter() - started
    return outcome


def _run(pieces: Sequence[_Piece], *, workers: int) -> list[_PieceResult]:
    if workers <= 1 or len(pieces) <= 1:
        return [_audit_piece(piece) for piece in pieces]
    with ProcessPoolExecutor(max_workers=workers) as pool:
        return list(pool.map(_audit_piece, pieces))
