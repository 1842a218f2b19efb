"""The small-count suppression policy: the only code that compares a count with the threshold.

Pure Python. At the protected levels (ward and LSOA by default) a count of 1 to threshold-1 is
published as "fewer than <threshold>", with no rate and no band; 0 and larger counts are exact.
Borough and London figures are exact. Threshold and levels come from settings.

That primary rule is not enough on its own: a hidden month can be worked out from figures that
are published, e.g. FYTD(m) - FYTD(m-1), R12(m) - R12(m-1) + M(m-12), a parent total minus its
other children, or last release's figures beside this one's. So every figure published at a
protected level gets one of three statuses:

- ``EXACT``: the value is shown;
- ``SMALL``: shown as "fewer than 5" (the public then knows it is 1 to 4);
- ``WITHHELD``: shown as "not shown" and tells nothing (secondary suppression; also used for a
  small figure when even "fewer than 5" would give something away, e.g. two "fewer than 5"
  months inside a "fewer than 5" year cap each month at 3).

``protect`` chooses the statuses for a whole ``Table`` of figures: primary suppression first,
then, as long as the LP audit (``crimestats.audit``) can narrow a small figure's possible values,
it withholds the cheapest figure among those that pin it, and audits again. Withholding only
ever removes published information, so a figure that passed once passes for good, and only the
failing ones are audited again; at the end it publishes again what turned out not needed.

Entry points: ``protect_series`` / ``protect_many`` for one area and category (month, R12, FYTD
and financial-year figures; earlier releases as ``PriorRelease``), ``Table`` + ``protect`` for
totals published with their parts, ``audit_series`` / ``audit_many_series`` / ``audit_table``
to audit what is published, ``Protection.tally`` for how much is hidden.
"""

from collections import defaultdict
from collections.abc import Callable, Hashable, Iterable, Iterator, Mapping, Sequence
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field, replace
from datetime import date
from enum import StrEnum
from itertools import repeat
from math import ceil
from math import floor as floor_
from time import perf_counter

from crimestats import audit as lp
from crimestats.periods import Period, complete_ends, financial_year_start, months_in


@dataclass(frozen=True)
class Policy:
    threshold: int = 5
    levels: frozenset[str] = frozenset({"ward", "lsoa"})

    @classmethod
    def from_settings(cls) -> "Policy":
        from django.conf import settings

        return cls(
            threshold=settings.DISCLOSURE_THRESHOLD,
            levels=frozenset(settings.DISCLOSURE_LEVELS),
        )

    @property
    def label(self) -> str:
        return f"fewer than {self.threshold}"

    @property
    def withheld_label(self) -> str:
        return "not shown"

    @property
    def withheld_reason(self) -> str:
        """What a withheld figure says about itself: nothing about its size (it may be 0, small
        or large), only why it is not there."""
        return "not shown, so that a small number elsewhere cannot be worked out"

    @property
    def small_range(self) -> tuple[int, int]:
        """What the public may infer from "fewer than <threshold>": 0 is always shown exactly."""
        return 1, self.threshold - 1


class Status(StrEnum):
    EXACT = "exact"
    SMALL = "small"  # "fewer than <threshold>"
    WITHHELD = "withheld"  # secondary suppression: says nothing

    @classmethod
    def of(cls, *, suppressed: bool, withheld: bool) -> "Status":
        """A published row's status from its two flags."""
        if not suppressed:
            return cls.EXACT
        return cls.WITHHELD if withheld else cls.SMALL

    @property
    def revealing(self) -> int:
        return {Status.WITHHELD: 0, Status.SMALL: 1, Status.EXACT: 2}[self]


@dataclass(frozen=True)
class Published:
    """A figure as the public may see it: the exact value, or None with a label when hidden."""

    value: int | None
    suppressed: bool
    label: str
    withheld: bool = False  # hidden by secondary suppression ("not shown"), not "fewer than"

    @property
    def status(self) -> Status:
        return Status.of(suppressed=self.suppressed, withheld=self.withheld)


def is_small(count: int, *, level: str, policy: Policy) -> bool:
    """True for a count the primary rule hides at this level."""
    return level in policy.levels and 0 < count < policy.threshold


def publish(count: int, *, level: str, policy: Policy) -> Published:
    """The published form of one count under the primary rule."""
    if is_small(count, level=level, policy=policy):
        return Published(value=None, suppressed=True, label=policy.label)
    return Published(value=count, suppressed=False, label=f"{count:,}")


def hidden(*, policy: Policy) -> Published:
    """How a figure the primary rule hides reads: "fewer than <threshold>"."""
    return Published(value=None, suppressed=True, label=policy.label)


def withheld(*, policy: Policy) -> Published:
    """How a figure hidden by secondary suppression reads."""
    return Published(value=None, suppressed=True, label=policy.withheld_label, withheld=True)


def primary_status(count: int, *, level: str, policy: Policy) -> Status:
    return Status.SMALL if is_small(count, level=level, policy=policy) else Status.EXACT


def shown_as(count: int, status: Status, *, policy: Policy) -> Published:
    """The published form of a count once its status is decided."""
    if status == Status.EXACT:
        return Published(value=count, suppressed=False, label=f"{count:,}")
    if status == Status.SMALL:
        return hidden(policy=policy)
    return withheld(policy=policy)


# --------------------------------------------------------------------------------------------
# Tables: unknown true counts and the figures published about them.

MonthVars = dict[date, int]  # month -> index of the unknown holding that month's true count
PeriodKey = tuple[Period, date]


@dataclass(frozen=True)
class Cell:
    """One published figure: the sum of some unknown true counts, at an area level.

    ``fixed`` is set for figures that are already public and cannot change (an earlier release
    still in the archive): protection must live with them.
    """

    key: Hashable
    terms: tuple[int, ...]
    level: str
    fixed: Status | None = None


@dataclass
class Table:
    """Unknown true counts and every figure published about them, as linear sums.

    Build one per independent piece (an area and category; or a borough and category when
    parents and children are published together), then ``protect`` it or ``audit_table`` it.
    """

    truth: list[int] = field(default_factory=list)
    cells: list[Cell] = field(default_factory=list)
    # (parent cell key, child cell keys): a published total with its published parts
    sums: list[tuple[Hashable, tuple[Hashable, ...]]] = field(default_factory=list)
    # which block (one add_unknowns or add_months call: one series) each unknown came from
    blocks: list[int] = field(default_factory=list)
    # what is true of the unknowns besides the published figures, whatever protection does: the
    # exact relations between levels (crimestats/relations.py), as bounds on sums
    facts: list[lp.Known] = field(default_factory=list)

    def add_fact(
        self,
        key: Hashable,
        terms: Sequence[int],
        *,
        lower: float,
        upper: float,
        coefs: Sequence[float] | None = None,
    ) -> None:
        """``lower <= sum(coef * unknown) <= upper`` holds (fact keys are never plain ints)."""
        self.facts.append(
            lp.Known(("fact", key), tuple(terms), lower, upper, tuple(coefs) if coefs else None)
        )

    def add_unknowns(self, counts: Iterable[int], *, block: int | None = None) -> list[int]:
        """New unknowns with their true counts, in a new block unless one is given."""
        start = len(self.truth)
        self.truth.extend(int(c) for c in counts)
        if block is None:
            block = self.blocks[-1] + 1 if self.blocks else 0
        self.blocks.extend([block] * (len(self.truth) - start))
        return list(range(start, len(self.truth)))

    def add_months(
        self, counts: Sequence[int], months: Sequence[date], *, same_as: MonthVars | None = None
    ) -> MonthVars:
        """One unknown per month; with ``same_as`` (an earlier release of the same series), a
        month whose raw count is unchanged is the same unknown, a restated one a new unknown."""
        if len(counts) != len(months):
            raise ValueError("one count per month")
        result: MonthVars = {}
        block = max(self.blocks, default=-1) + 1
        for month, count in zip(months, counts, strict=True):
            shared = (same_as or {}).get(month)
            if shared is not None and self.truth[shared] == count:
                result[month] = shared
            else:
                result[month] = self.add_unknowns([count], block=block)[0]
        return result

    def add_cell(
        self, key: Hashable, terms: Iterable[int], *, level: str, fixed: Status | None = None
    ) -> Cell:
        cell = Cell(key=key, terms=tuple(sorted(terms)), level=level, fixed=fixed)
        self.cells.append(cell)
        return cell

    def add_periods(
        self,
        key: Hashable,
        parts: MonthVars | Sequence[MonthVars],
        *,
        level: str,
        periods: Iterable[Period] = tuple(Period),
        earliest_end: date | None = None,
        shown: Mapping[PeriodKey, Status] | None = None,
        children: Sequence[Hashable] | None = None,
    ) -> list[Hashable]:
        """Publish month, rolling-12, FYTD and financial-year figures for their complete ends
        (see ``published_ends``).

        ``parts`` are summed month by month: one series for an area, several for a parent made
        of its children (``children`` then names the keys the parts were published under, so
        the total and its parts are protected together) or a major made of its minors.
        ``shown`` marks an earlier release's figures, fixed as they were published. Cell keys are
        ``(key, period, end)``, or ``(period, end)`` when ``key`` is None.
        """
        parts = [parts] if isinstance(parts, dict) else list(parts)
        months = sorted(set.intersection(*(set(p) for p in parts)))
        keys: list[Hashable] = []
        for period in periods:
            for end in published_ends(period, months, earliest_end):
                if shown is not None and (period, end) not in shown:
                    continue
                cell_key = (period, end) if key is None else (key, period, end)
                terms = [p[m] for p in parts for m in months_in(period, end)]
                fixed = shown[(period, end)] if shown is not None else None
                self.add_cell(cell_key, terms, level=level, fixed=fixed)
                keys.append(cell_key)
                if children is not None:
                    self.sums.append((cell_key, tuple((c, period, end) for c in children)))
        return keys

    def add_shown(
        self, key: Hashable, parts: MonthVars, *, level: str, shown: Mapping[PeriodKey, Status]
    ) -> None:
        """An earlier publication's figures of one series, fixed as they were published (cell
        keys ``(key, period, end)``); a figure whose months are not all known is left out."""
        for (period, end), status in shown.items():
            months = months_in(period, end)
            if all(m in parts for m in months):
                terms = [parts[m] for m in months]
                self.add_cell((key, period, end), terms, level=level, fixed=status)

    def value(self, cell: Cell) -> int:
        return sum(self.truth[t] for t in cell.terms)

    def local_tables(self) -> list["Table"]:
        """When some figures join blocks (a total with its parts, this release with the last),
        the figures within each block on their own, as separate tables (same cell keys)."""
        block_of = self.blocks
        local: dict[int, list[Cell]] = defaultdict(list)
        for cell in self.cells:
            blocks = {block_of[t] for t in cell.terms}
            if len(blocks) == 1:
                local[blocks.pop()].append(cell)
        if not self.facts and sum(len(cells) for cells in local.values()) == len(self.cells):
            return []  # nothing joins blocks: nothing to gain from stages
        tables = []
        for cells in local.values():
            table = Table()
            variables = sorted({t for cell in cells for t in cell.terms})
            new = table.add_unknowns(self.truth[v] for v in variables)
            index = dict(zip(variables, new, strict=True))
            for cell in cells:
                table.add_cell(
                    cell.key, (index[t] for t in cell.terms), level=cell.level, fixed=cell.fixed
                )
            keys = {cell.key for cell in cells}
            table.sums = [(p, c) for p, c in self.sums if p in keys and set(c) <= keys]
            tables.append(table)
        return tables


def is_long_run(period: Period) -> bool:
    """Whole financial years are published as far back as the data goes (the long-run trend);
    every other period only from the earliest published end on."""
    return period == Period.FINANCIAL_YEAR


def published_ends(period: Period, months: Sequence[date], earliest_end: date | None) -> list[date]:
    """The end months a period is published for, as the publication builder chooses them."""
    if earliest_end is None or is_long_run(period):
        return complete_ends(period, months)
    window = needed_months(months, earliest_end)  # fewer months: complete_ends is quadratic
    return [end for end in complete_ends(period, window) if end >= earliest_end]


def needed_months(months: Sequence[date], earliest_end: date | None) -> list[date]:
    """The months any windowed figure ending at or after ``earliest_end`` adds up."""
    if earliest_end is None:
        return list(months)
    first = min(months_in(Period.ROLLING_12, earliest_end)[0], financial_year_start(earliest_end))
    return [m for m in months if m >= first]


# --------------------------------------------------------------------------------------------
# Protection.

CostFn = Callable[[int, Status, Sequence[Cell]], float]


def default_cost(value: int, status: Status, cells: Sequence[Cell]) -> float:
    """What withholding a figure loses: its cells and their crimes; dropping a "fewer than"
    label loses almost nothing (the value was hidden already), least of all on one month."""
    if status == Status.SMALL:
        return 0.01 * len(cells[0].terms) * len(cells)
    return len(cells) * (1.0 + value)


@dataclass(frozen=True)
class RecencyCost:
    """What withholding a figure loses, for cell keys ``(..., period, end)``: the default view
    (rolling 12 months to ``latest``) almost never, other recent figures more than old ones, and
    rolling 12 months more than the long-run financial years. Picklable, for protect_many."""

    latest: date
    default_view: float = 10_000.0

    def weight(self, key: Hashable) -> float:
        period, end = key[-2], key[-1]
        age = (self.latest.year - end.year) * 12 + self.latest.month - end.month
        if period == Period.ROLLING_12 and age <= 0:
            return self.default_view
        recent = 2.0 ** (-max(age, 0) / 12)
        return 1.0 + 8.0 * recent if period == Period.ROLLING_12 else 0.5 + 4.0 * recent

    def __call__(self, value: int, status: Status, cells: Sequence[Cell]) -> float:
        weight = max(self.weight(cell.key) for cell in cells)
        return weight * default_cost(value, status, cells)


@dataclass
class _Group:
    """Cells with the same expression: the same number, so they must be hidden together."""

    terms: tuple[int, ...]
    cells: list[int]
    value: int
    status: Status  # of the members protection may change
    floor: Status = Status.WITHHELD  # the most revealing of the members it may not change
    free: bool = False  # has members protection may change
    sensitive: bool = False  # a small count at a protected level

    @property
    def known(self) -> Status:
        if not self.free:
            return self.floor
        return self.status if self.status.revealing >= self.floor.revealing else self.floor

    @property
    def withholdable(self) -> bool:
        return self.free and self.floor == Status.WITHHELD and self.status != Status.WITHHELD


@dataclass(frozen=True)
class Tally:
    """How much of a table is hidden: cells and crimes, primary and secondary."""

    cells: int = 0
    crimes: int = 0
    small_cells: int = 0  # primary: shown as "fewer than", or withheld
    small_crimes: int = 0
    secondary_cells: int = 0  # 0 or >= threshold, withheld to protect others
    secondary_crimes: int = 0
    relabelled_cells: int = 0  # small cells withheld rather than shown as "fewer than"

    @classmethod
    def of(cls, value: int, status: Status, *, level: str, policy: Policy) -> "Tally":
        """One published figure's share: hidden because small, or to protect others."""
        small = is_small(value, level=level, policy=policy)
        hidden_ = status != Status.EXACT
        return cls(
            cells=1,
            crimes=value,
            small_cells=int(small),
            small_crimes=value if small else 0,
            secondary_cells=int(hidden_ and not small),
            secondary_crimes=value if hidden_ and not small else 0,
            relabelled_cells=int(small and status == Status.WITHHELD),
        )

    def __add__(self, other: "Tally") -> "Tally":
        return Tally(*(a + b for a, b in zip(self.astuple(), other.astuple(), strict=True)))

    def astuple(self) -> tuple[int, ...]:
        return (
            self.cells,
            self.crimes,
            self.small_cells,
            self.small_crimes,
            self.secondary_cells,
            self.secondary_crimes,
            self.relabelled_cells,
        )

    @property
    def hidden_cells(self) -> int:
        return self.small_cells + self.secondary_cells

    @property
    def hidden_crimes(self) -> int:
        return self.small_crimes + self.secondary_crimes


@dataclass
class Protection:
    """The statuses ``protect`` chose, with what it cost and how long it took."""

    policy: Policy
    cells: list[Cell]
    values: list[int]
    statuses: list[Status]
    failures: list[lp.CheckResult]  # small figures no withholding could protect (ids: cell keys)
    rounds: int = 0
    lps: int = 0
    seconds: float = 0.0

    def __post_init__(self) -> None:
        self._index = {cell.key: i for i, cell in enumerate(self.cells)}

    def status(self, key: Hashable) -> Status:
        return self.statuses[self._index[key]]

    def value(self, key: Hashable) -> int:
        return self.values[self._index[key]]

    def published(self, key: Hashable) -> Published:
        return shown_as(self.value(key), self.status(key), policy=self.policy)

    def items(self) -> Iterator[tuple[Hashable, Published]]:
        """Every figure of this publication (not the earlier releases') as the public sees it."""
        for cell, value, status in zip(self.cells, self.values, self.statuses, strict=True):
            if cell.fixed is None:
                yield cell.key, shown_as(value, status, policy=self.policy)

    def tally(self, by: Callable[[Cell], Hashable] = lambda cell: cell.level) -> dict:
        """Cells and crimes hidden, grouped by ``by(cell)`` (e.g. level, category, period)."""
        totals: dict[Hashable, Tally] = defaultdict(Tally)
        for cell, value, status in zip(self.cells, self.values, self.statuses, strict=True):
            if cell.fixed is not None:
                continue
            totals[by(cell)] += Tally.of(value, status, level=cell.level, policy=self.policy)
        return dict(totals)

    @property
    def passed(self) -> bool:
        return not self.failures


def _groups(table: Table, policy: Policy) -> list[_Group]:
    by_terms: dict[tuple[int, ...], _Group] = {}
    for i, cell in enumerate(table.cells):
        group = by_terms.get(cell.terms)
        if group is None:
            value = table.value(cell)
            group = _Group(cell.terms, [], value, Status.EXACT)
            by_terms[cell.terms] = group
        group.cells.append(i)
        protected = cell.level in policy.levels
        group.sensitive |= is_small(group.value, level=cell.level, policy=policy)
        if cell.fixed is not None or not protected:
            locked = cell.fixed if cell.fixed is not None else Status.EXACT
            if locked.revealing > group.floor.revealing:
                group.floor = locked
        else:
            group.free = True
            group.status = primary_status(group.value, level=cell.level, policy=policy)
    return list(by_terms.values())


def _known(group_id: int, group: _Group, policy: Policy) -> lp.Known | None:
    status = group.known
    if status == Status.EXACT:
        return lp.Known(group_id, group.terms, group.value, group.value)
    if status == Status.SMALL:
        low, high = policy.small_range
        return lp.Known(group_id, group.terms, low, high)
    return None


def _problem(
    table: Table, groups: list[_Group], checks: list[lp.Check], policy: Policy
) -> lp.Problem:
    knowns = [k for i, g in enumerate(groups) if (k := _known(i, g, policy)) is not None]
    knowns += table.facts
    low, high = policy.small_range
    return lp.Problem(
        n_unknowns=len(table.truth),
        knowns=knowns,
        checks=checks,
        low=low,
        high=high,
        truth=table.truth,
    )


def _pricer(table: Table, groups: list[_Group], cost: CostFn) -> Callable[[int], float]:
    """What withholding group ``g`` would cost now (its status may have changed)."""

    def price(g: int) -> float:
        group = groups[g]
        return cost(group.value, group.status, [table.cells[c] for c in group.cells])

    return price


def _protect_sums(
    table: Table, groups: list[_Group], policy: Policy, price: Callable[[int], float]
) -> list[tuple[int, Status]]:
    """Quick first pass for totals published with their parts (parent and children): each
    hidden small part must still range over 1..threshold-1 given the exact total and the other
    parts, so withhold the cheapest other part until it does (or leave it to the LP audit when
    no withholding could help). Returns what it withheld, with the status it had."""
    group_of = {table.cells[c].key: g for g, group in enumerate(groups) for c in group.cells}
    low, high = policy.small_range
    done: list[tuple[int, Status]] = []
    for parent_key, child_keys in table.sums:
        parent = group_of.get(parent_key)
        if parent is None or groups[parent].known != Status.EXACT:
            continue
        children = [group_of[k] for k in child_keys if k in group_of]
        total = groups[parent].value
        for child in children:
            if not groups[child].sensitive:
                continue
            while not _part_range_ok(child, total, children, groups, low, high):
                options = [c for c in children if c != child and groups[c].withholdable]
                hopeless = not _part_range_ok(
                    child, total, children, groups, low, high, withheld=set(options)
                )
                if not options or hopeless:
                    break
                best = min(options, key=price)
                done.append((best, groups[best].status))
                groups[best].status = Status.WITHHELD
    return done


def _part_range_ok(
    child: int,
    total: int,
    children: list[int],
    groups: list[_Group],
    low: float,
    high: float,
    withheld: frozenset[int] | set[int] = frozenset(),
) -> bool:
    """Closed-form range of one part of an exact total, given how the other parts are shown
    (``withheld``: as if those were withheld too)."""

    def bounds(g: int) -> tuple[float, float]:
        status = Status.WITHHELD if g in withheld else groups[g].known
        if status == Status.EXACT:
            return groups[g].value, groups[g].value
        if status == Status.SMALL:
            return low, high
        return 0, float("inf")

    others = [bounds(c) for c in children if c != child]
    lo, hi = bounds(child)
    smallest = max(lo, total - sum(b for _, b in others))
    largest = min(hi, total - sum(a for a, _ in others))
    return smallest <= low and largest >= high


def protect(
    table: Table,
    *,
    policy: Policy,
    cost: CostFn = default_cost,
    engine: str = "auto",
    start: Mapping[Hashable, Status] | None = None,
) -> Protection:
    """Primary suppression, then secondary suppression until the LP audit passes.

    After cheap first passes (totals with their parts; crowded "fewer than" labels), one audit
    of every small figure finds the failures; each failure is then repaired on its own: withhold
    the cheapest figure in its proof, re-test the end that failed, repeat. Figures that passed
    stay passed (withholding only removes information), so one sweep is enough; a last step
    publishes again what turned out not to be needed.

    When figures join several series (totals with their parts, releases), each series is first
    protected on its own (small LPs), and the whole table then starts from those statuses
    (``start``), so its big LPs only repair what the joins add.
    """
    started = perf_counter()
    lps = rounds = 0
    if start is None:
        start = {}
        for local in table.local_tables():
            done = protect(local, policy=policy, cost=cost, engine=engine, start={})
            start.update((c.key, s) for c, s in zip(done.cells, done.statuses, strict=True))
            lps, rounds = lps + done.lps, rounds + done.rounds
    groups = _groups(table, policy)
    for group in groups:
        first = start.get(table.cells[group.cells[0]].key)
        if group.free and first is not None:
            group.status = first
    price = _pricer(table, groups, cost)
    early = _protect_sums(table, groups, policy, price)
    _drop_crowded_labels(groups)
    checks = [lp.Check(g, group.terms) for g, group in enumerate(groups) if group.sensitive]
    checks, bound = fixed_targets(checks, table, policy=policy, engine=engine)
    for g in bound:
        if groups[g].withholdable:
            groups[g].status = Status.WITHHELD  # "fewer than 5" would narrow it further
    # The audit is built with the first pass's withholdings undone, then redone in it, so that
    # the last step of the repair may publish them again when they turn out not to be needed.
    for g, status in early:
        groups[g].status = status
    problem = _problem(table, groups, checks, policy)
    for g, _ in early:
        groups[g].status = Status.WITHHELD
    failures: list[lp.CheckResult] = []
    for part in lp.split(problem, through_fixed=True):
        auditor = lp.Auditor(part, engine=engine)
        published = {known.id for known in part.knowns}
        undo = [(g, status, -1) for g, status in early if g in published]
        for g, _, _ in undo:
            auditor.withhold(g)
        failures += _repair(auditor, groups, price, undo)
        lps, rounds = lps + auditor.lps, rounds + auditor.runs
    statuses = [Status.EXACT] * len(table.cells)
    for group in groups:
        for c in group.cells:
            cell = table.cells[c]
            if cell.fixed is not None:
                statuses[c] = cell.fixed
            elif cell.level in policy.levels:
                statuses[c] = group.status
    return Protection(
        policy=policy,
        cells=list(table.cells),
        values=[table.value(cell) for cell in table.cells],
        statuses=statuses,
        failures=[_keyed(f, table, groups) for f in failures],
        rounds=rounds,
        lps=lps,
        seconds=perf_counter() - started,
    )


def _repair(
    auditor: lp.Auditor,
    groups: list[_Group],
    price: Callable[[int], float],
    withheld: list[tuple[int, Status, int]],
) -> list[lp.CheckResult]:
    """Withhold figures until every check of one independent part passes; returns the checks
    that cannot be protected: when nothing in a failure's proof can be withheld (figures of
    other levels or earlier releases), withholding anything else leaves the proof standing."""
    failures = []
    failed: set[int] = set()
    withheld = list(withheld)  # (figure, status it had, check it was withheld for)
    dependents: dict[int, list[int]] = defaultdict(list)  # figure -> checks its proofs held
    version = 0  # bumped by every withholding: results from older versions may be stale
    for j in auditor.unsettled():
        low = high = True
        seen = -1
        while True:
            if seen != version:  # (re-)test; after a withholding only the end(s) that failed
                result, seen = auditor.run([j], low=low, high=high)[0], version
            if result.passed:
                break
            low, high = result.low_failed, result.high_failed
            options = [g for g in result.relax if isinstance(g, int) and groups[g].withholdable]
            if not options:
                failures.append(result)
                failed.add(result.id)
                break
            best = min(options, key=price)
            for g in result.pinned_by:
                dependents[g].append(j)
            withheld.append((best, groups[best].status, j))
            groups[best].status = Status.WITHHELD
            auditor.withhold(best)
            version += 1
    hopeless = {j for j, check in enumerate(auditor.problem.checks) if check.id in failed}
    _restore_unneeded(auditor, groups, withheld, dependents, price, hopeless)
    return failures


def _restore_unneeded(
    auditor: lp.Auditor,
    groups: list[_Group],
    withheld: list[tuple[int, Status, int]],
    dependents: dict[int, list[int]],
    price: Callable[[int], float],
    hopeless: set[int],
) -> None:
    """The greedy repairs one failure at a time, so a figure withheld early may have become
    unnecessary by the end: try publishing each again, most valuable first, and keep it
    published if every check still passes (those whose proofs it was in first: the likeliest
    to fail; checks that cannot be protected anyway do not count)."""
    others = [j for j in range(auditor.k) if j not in hopeless]
    for g, status, _ in sorted(withheld, key=lambda item: -price(item[0])):
        if status != Status.EXACT:
            continue  # a dropped "fewer than" label is not worth an audit
        groups[g].status = status
        auditor.restore(g)
        likely = [j for j in dependents[g] if j not in hopeless]
        if auditor.passes(likely) and auditor.passes(others):
            continue
        groups[g].status = Status.WITHHELD
        auditor.withhold(g)


def _keyed(result: lp.CheckResult, table: Table, groups: list[_Group]) -> lp.CheckResult:
    """A failure with cell keys instead of group numbers, for reports."""

    def key(g: Hashable) -> Hashable:
        return table.cells[groups[g].cells[0]].key if isinstance(g, int) else g

    return replace(
        result,
        id=key(result.id),
        pinned_by=tuple(key(g) for g in result.pinned_by),
        relax=tuple(key(g) for g in result.relax),
    )


def _drop_crowded_labels(groups: list[_Group]) -> None:
    """A "fewer than 5" total holding two or more "fewer than 5" months caps each month below 4
    (and the total is at least 2): the months must be withheld instead. Cheap and certain, so
    it is done before the audit rather than discovered by it."""
    single = {group.terms[0]: group for group in groups if len(group.terms) == 1}
    for group in groups:
        if len(group.terms) < 2 or group.known != Status.SMALL:
            continue
        members = [single[v] for v in group.terms if v in single]
        labelled = [m for m in members if m.known == Status.SMALL]
        if len(labelled) >= 2:
            for member in labelled:
                if member.withholdable:
                    member.status = Status.WITHHELD


# --------------------------------------------------------------------------------------------
# One area and category: the common case.


@dataclass(frozen=True)
class PriorRelease:
    """An earlier release's raw counts and what was published from them (still in the archive).

    ``shown`` maps (period, end) to the status it was published with; (key, status) pairs keep
    the release hashable, so series holding it can be memoised and sent to worker processes."""

    monthly: Sequence[int]
    months: Sequence[date]
    shown: Mapping[PeriodKey, Status] | tuple[tuple[PeriodKey, Status], ...]


@dataclass(frozen=True)
class Series:
    """One area and category as ``protect_series`` takes it, for batches (``protect_many``)."""

    monthly: Sequence[int]
    months: Sequence[date]
    level: str
    key: Hashable = None
    earliest_end: date | None = None
    periods: tuple[Period, ...] = tuple(Period)
    prior: tuple[PriorRelease, ...] = ()


def series_table(
    *,
    monthly: Sequence[int],
    months: Sequence[date],
    level: str,
    key: Hashable = None,
    earliest_end: date | None = None,
    periods: Iterable[Period] = tuple(Period),
    prior: Sequence[PriorRelease] = (),
) -> Table:
    """The table of one area and category.

    Cell keys are ``(period, end)``, or ``(key, period, end)`` when ``key`` is given (so that
    audit reports name the area and category); an earlier release's figures are keyed
    ``(("prior", i), period, end)`` or ``((key, "prior", i), period, end)`` and share the
    unknowns of the months whose raw counts it did not restate.
    """
    if len(monthly) != len(months):
        raise ValueError("one count per month")
    periods = tuple(periods)
    long_run = any(is_long_run(p) for p in periods)
    keep = set(months if long_run else needed_months(sorted(months), earliest_end))
    pairs = sorted((m, c) for m, c in zip(months, monthly, strict=True) if m in keep)
    table = Table()
    current = table.add_months([c for _, c in pairs], [m for m, _ in pairs])
    table.add_periods(key, current, level=level, periods=periods, earliest_end=earliest_end)
    for i, release in enumerate(prior):
        old = table.add_months(release.monthly, release.months, same_as=current)
        prior_key = ("prior", i) if key is None else (key, "prior", i)
        table.add_periods(prior_key, old, level=level, shown=dict(release.shown))
    return table


def protect_series(
    *,
    monthly: Sequence[int],
    months: Sequence[date],
    level: str,
    policy: Policy,
    key: Hashable = None,
    earliest_end: date | None = None,
    periods: Iterable[Period] = tuple(Period),
    prior: Sequence[PriorRelease] = (),
    cost: CostFn = default_cost,
) -> Protection:
    """Statuses for one area and category's month, R12 and FYTD figures.

    ``months`` are the months with data and ``monthly`` their raw counts; figures ending before
    ``earliest_end`` are not published; ``prior`` are earlier releases still public. Keys as in
    ``series_table``: ``protection.published((Period.ROLLING_12, end))`` when ``key`` is None.
    """
    table = series_table(
        monthly=monthly,
        months=months,
        level=level,
        key=key,
        earliest_end=earliest_end,
        periods=periods,
        prior=prior,
    )
    return protect(table, policy=policy, cost=cost)


def _protect_one(series: Series, policy: Policy, cost: CostFn) -> Protection:
    return protect_series(
        monthly=series.monthly,
        months=series.months,
        level=series.level,
        policy=policy,
        key=series.key,
        earliest_end=series.earliest_end,
        periods=series.periods,
        prior=series.prior,
        cost=cost,
    )


def protect_many(
    series: Iterable[Series], *, policy: Policy, workers: int = 1, cost: CostFn = default_cost
) -> Iterator[Protection]:
    """``protect_series`` for many series, in order, on ``workers`` processes. Series at levels
    the policy does not protect come back all exact without an audit."""
    jobs = list(series)
    if workers <= 1:
        yield from (_protect_one(s, policy, cost) for s in jobs)
        return
    chunk = max(1, len(jobs) // (workers * 16))
    with ProcessPoolExecutor(max_workers=workers) as pool:
        yield from pool.map(_protect_one, jobs, repeat(policy), repeat(cost), chunksize=chunk)


def fixed_knowns(table: Table, *, policy: Policy) -> list[lp.Known]:
    """What protection cannot change: earlier publications' figures (the fixed cells), figures
    at levels the policy does not protect, and the relations that hold in the data."""
    low, high = policy.small_range
    knowns = list(table.facts)
    for cell in table.cells:
        if cell.fixed == Status.EXACT or (cell.level not in policy.levels):
            value = table.value(cell)
            knowns.append(lp.Known(cell.key, cell.terms, value, value))
        elif cell.fixed == Status.SMALL:
            knowns.append(lp.Known(cell.key, cell.terms, low, high))
    return knowns


def fixed_targets(
    checks: list[lp.Check], table: Table, *, policy: Policy, engine: str = "auto"
) -> tuple[list[lp.Check], list[Hashable]]:
    """Checks for figures that what cannot change already bounds, and their ids.

    Earlier publications stay public: when they (with the relations and exact figures) already
    leave a small figure less than the whole of 1..threshold-1 (earlier months known to add up
    to 2, so a new 12-month total is at least 2), no withholding now can widen it again. Such a
    figure must not be narrowed any further: its check's target becomes that range, reaching up
    to the threshold (so "fewer than <threshold>" would narrow it, and it is withheld without
    that label), rounded inward to whole numbers. Every other check keeps 1..threshold-1.
    """
    fixed = fixed_knowns(table, policy=policy)
    if not fixed or not checks:
        return checks, []
    low, high = policy.small_range
    problem = lp.Problem(len(table.truth), fixed, checks, low, high, truth=table.truth)
    ranges = {r.id: r for r in lp.audit(problem, engine=engine).results}
    result, bound = [], []
    for check in checks:
        found = ranges[check.id]
        if found.passed:
            result.append(check)
            continue
        floor = max(low, ceil(found.low - lp.TOL)) if found.low_failed else low
        top = min(policy.threshold, floor_(found.high + lp.TOL)) if found.high_failed else None
        result.append(replace(check, target=(floor, policy.threshold if top is None else top)))
        bound.append(check.id)
    return result, bound


# --------------------------------------------------------------------------------------------
# The audit of what is published.


def audit_problem(
    table: Table,
    shown: Mapping[Hashable, Status | Published],
    *,
    policy: Policy,
    check_prior: bool = True,
) -> lp.Problem:
    """The attacker's view of ``table`` given what is published.

    Statuses come from ``shown`` (a missing key means the primary rule; levels the policy does
    not protect are always exact; earlier releases' cells as they were published). Every
    figure whose true count is small at a protected level is checked, whether shown as "fewer
    than" or withheld; with ``check_prior``, earlier releases' small figures too (this
    release must not give them away).
    """
    knowns, checks = [], []
    low, high = policy.small_range
    for cell in table.cells:
        value = table.value(cell)
        status = cell.fixed or shown.get(cell.key)
        if isinstance(status, Published):
            status = status.status
        if status is None or cell.level not in policy.levels:
            status = primary_status(value, level=cell.level, policy=policy)
        if status == Status.EXACT:
            knowns.append(lp.Known(cell.key, cell.terms, value, value))
        elif status == Status.SMALL:
            knowns.append(lp.Known(cell.key, cell.terms, low, high))
        if (check_prior or cell.fixed is None) and is_small(value, level=cell.level, policy=policy):
            checks.append(lp.Check(cell.key, cell.terms))
    checks, _ = fixed_targets(checks, table, policy=policy)
    knowns += table.facts
    return lp.Problem(len(table.truth), knowns, checks, low, high, truth=table.truth)


def audit_table(
    table: Table,
    shown: Mapping[Hashable, Status | Published],
    *,
    policy: Policy,
    engine: str = "auto",
) -> lp.AuditReport:
    """Can any small figure of ``table`` be narrowed down from what ``shown`` publishes?"""
    return lp.audit(audit_problem(table, shown, policy=policy), engine=engine)


def audit_series(
    series: Series, shown: Mapping[Hashable, Status | Published], *, policy: Policy
) -> lp.AuditReport:
    """Audit one area and category as published (keys as ``series_table`` makes them)."""
    table = series_table(
        monthly=series.monthly,
        months=series.months,
        level=series.level,
        key=series.key,
        earliest_end=series.earliest_end,
        periods=series.periods,
        prior=series.prior,
    )
    return lp.audit(audit_problem(table, shown, policy=policy))


def audit_many_series(
    items: Iterable[tuple[Series, Mapping[Hashable, Status | Published]]],
    *,
    policy: Policy,
    workers: int = 1,
) -> lp.AuditReport:
    """``audit_series`` over many (series, published statuses) pairs, on ``workers`` processes:
    the whole report (checks, failures with the figures that pin them, LPs, wall time)."""
    started = perf_counter()
    jobs = list(items)
    total = lp.AuditReport()
    series, shown = [s for s, _ in jobs], [m for _, m in jobs]
    if workers <= 1:
        reports = map(_audit_one, series, shown, repeat(policy))
        for report in reports:
            total.merge(report)
    else:
        chunk = max(1, len(jobs) // (workers * 16))
        with ProcessPoolExecutor(max_workers=workers) as pool:
            for report in pool.map(_audit_one, series, shown, repeat(policy), chunksize=chunk):
                total.merge(report)
    total.seconds = perf_counter() - started
    return total


def _audit_one(series: Series, shown: Mapping, policy: Policy) -> lp.AuditReport:
    return audit_series(series, shown, policy=policy)
