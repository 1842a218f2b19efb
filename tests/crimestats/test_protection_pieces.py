"""Protection of a borough's wards and LSOAs together: relations between levels, every earlier
publication, targets that are never relaxed. Tiny hand-made pieces, no database."""

from datetime import date

import numpy as np

from crimestats import audit as lp
from crimestats import disclosure, relations
from crimestats.disclosure import Policy, PriorRelease, Status, protect_series
from crimestats.periods import Period, add_months, months_in
from crimestats.services.protection import (
    AreaSeries,
    Piece,
    Version,
    piece_table,
    protect_piece,
    reused,
)

POLICY = Policy()
LATEST = date(2025, 11, 1)
MONTHS = tuple(add_months(LATEST, -i) for i in range(23, -1, -1))


def test_relations_hold_month_by_month():
    whole = [10, 7, 3]
    parts = np.array([[4, 3, 1], [6, 3, 1]])
    assert relations.holding(whole, parts) == [(0, "="), (1, "<="), (2, "<=")]
    assert relations.holding([10, 5], np.array([[10, 6]])) == [(0, "="), (1, ">=")]
    # neither side in every month: only the exact months are modelled
    assert relations.holding([10, 5, 5], np.array([[10, 6, 4]])) == [(0, "=")]


def _ward(area: int, yearly: list[int], shown=None) -> AreaSeries:
    """A ward whose months are spread evenly over each year's total (first months get the
    remainder), so the rolling 12 months ending at LATEST is the second year's total."""
    counts = []
    for total in yearly:
        base, extra = divmod(total, 12)
        counts += [base + (1 if i < extra else 0) for i in range(12)]
    return AreaSeries(area, "ward", MONTHS, tuple(counts), shown)


def _borough(wards: list[AreaSeries], *, extra: int = 0) -> AreaSeries:
    total = np.array([w.counts for w in wards]).sum(axis=0)
    total[-1] += extra
    return AreaSeries(100, "borough", MONTHS, tuple(int(x) for x in total))


def _piece(wards, borough, earlier=()) -> Piece:
    return Piece(
        borough=100,
        category=1,
        best_fit=(),
        earliest_end=add_months(LATEST, -11),
        latest=LATEST,
        versions=(Version("new", borough, tuple(wards)), *earlier),
    )


def _statuses(result) -> dict:
    return {(a, p, e): s for a, p, e, s in result.statuses}


def _range(table, shown: dict, key) -> tuple[float, float]:
    """Feasible range of one figure given what is published (keys as the table's cells)."""
    knowns = list(table.facts)
    for cell in table.cells:
        status = cell.fixed or shown.get(cell.key, Status.EXACT)
        value = table.value(cell)
        if status == Status.EXACT:
            knowns.append(lp.Known(cell.key, cell.terms, value, value))
        elif status == Status.SMALL:
            knowns.append(lp.Known(cell.key, cell.terms, 1, 4))
    target = next(c for c in table.cells if c.key == key)
    # targets 1 and 5: a high end that reaches 5 is not narrowed to "small"
    problem = lp.Problem(len(table.truth), knowns, [lp.Check(key, target.terms)], 1, 5)
    result = lp.audit(problem).results[0]
    return result.low, result.high


def test_a_ward_hidden_alone_in_an_exact_borough_gets_a_partner():
    wards = [_ward(1, [40, 3]), _ward(2, [50, 60]), _ward(3, [30, 45])]
    piece = _piece(wards, _borough(wards))
    result = protect_piece(piece, POLICY)
    statuses = _statuses(result)
    default = [statuses[(w, Period.ROLLING_12, LATEST)] for w in (1, 2, 3)]
    assert default[0] == Status.SMALL
    assert Status.WITHHELD in default[1:]  # else borough minus the others gives ward 1 away
    table = piece_table(piece).table
    shown = {(a, p, e): s for (a, p, e), s in statuses.items()}
    low, high = _range(table, shown, (1, Period.ROLLING_12, LATEST))
    assert low <= 1 and high >= 4


def test_no_partner_is_needed_where_wards_do_not_add_up():
    wards = [_ward(1, [40, 3]), _ward(2, [50, 60]), _ward(3, [30, 45])]
    piece = _piece(wards, _borough(wards, extra=1))  # the latest month does not add up
    found = piece_table(piece).relations
    assert all(r.sense != "=" or r.month != LATEST for r in found)
    statuses = _statuses(protect_piece(piece, POLICY))
    assert [statuses[(w, Period.ROLLING_12, LATEST)] for w in (2, 3)] == [Status.EXACT] * 2


def test_earlier_publications_count_even_when_not_the_previous_one():
    """A figure an older publication showed exactly pins a hidden one unless protection knows
    it: the piece holds every earlier version, not only the last."""
    wards = [_ward(1, [40, 3]), _ward(2, [50, 60]), _ward(3, [30, 45])]
    borough = _borough(wards)
    end = add_months(LATEST, -1)
    # an older publication showed ward 1's rolling 12 months to the previous month exactly
    old = Version(
        7,
        borough,
        (
            AreaSeries(
                1, "ward", MONTHS, wards[0].counts, (((Period.ROLLING_12, end), Status.EXACT),)
            ),
        ),
    )
    piece = _piece(wards, borough, earlier=(old,))
    table = piece_table(piece).table
    assert any(cell.fixed == Status.EXACT for cell in table.cells)
    result = protect_piece(piece, POLICY)
    assert result.failures == 0


def test_a_figure_earlier_publications_bound_is_withheld_and_never_pinned():
    """Issue 10's example: last publication R12(e-1) = 9 and M(e-12) = 5 exact; this one's
    R12(e) is 4 and M(e) = 0. "Fewer than 5" beside M(e) = 0 would pin R12(e) at 4."""
    months = [add_months(LATEST, -i) for i in range(23, -1, -1)]
    monthly = [0] * 24
    monthly[months.index(add_months(LATEST, -12))] = 5
    monthly[months.index(add_months(LATEST, -5))] = 4  # R12(e-1) = 9, R12(e) = 4
    e, before = LATEST, add_months(LATEST, -1)
    prior = PriorRelease(
        monthly=monthly,
        months=months,
        shown=(
            ((Period.MONTH, add_months(LATEST, -12)), Status.EXACT),
            ((Period.ROLLING_12, before), Status.EXACT),
        ),
    )
    protection = protect_series(
        monthly=monthly,
        months=months,
        level="ward",
        policy=POLICY,
        earliest_end=LATEST,
        periods=(Period.MONTH, Period.ROLLING_12),
        prior=[prior],
    )
    assert protection.status((Period.ROLLING_12, e)) == Status.WITHHELD  # no "fewer than 5"
    assert protection.status((Period.MONTH, e)) == Status.WITHHELD  # M(e) = 0 would pin it
    assert not protection.failures
    # what the attacker can do: R12(e) = R12(e-1) - M(e-12) + M(e) >= 4, and no more
    table = disclosure.series_table(
        monthly=monthly,
        months=months,
        level="ward",
        earliest_end=LATEST,
        periods=(Period.MONTH, Period.ROLLING_12),
        prior=[prior],
    )
    shown = dict(protection.items())
    statuses = {k: p.status for k, p in shown.items()}
    low, high = _range(table, statuses, (Period.ROLLING_12, e))
    assert low == 4 and high >= 5
    assert sum(monthly[months.index(m)] for m in months_in(Period.ROLLING_12, e)) == 4


def _shown_before(piece: Piece, result, *, name=3, protection="rules", counts=None) -> Version:
    """An earlier publication that showed the piece's areas with ``result``'s statuses."""
    statuses = _statuses(result)
    new = piece.versions[0]
    areas = tuple(
        AreaSeries(
            s.area,
            s.level,
            s.months,
            s.counts if counts is None else counts,
            tuple(((p, e), st) for (a, p, e), st in sorted(statuses.items()) if a == s.area),
        )
        for s in new.areas
    )
    return Version(name, new.borough, areas, protection)


def test_a_piece_shown_before_from_the_same_counts_keeps_its_statuses():
    """Showing again what is already public reveals nothing: no new protection, same tally."""
    wards = [_ward(1, [40, 3]), _ward(2, [50, 60]), _ward(3, [30, 45])]
    piece = _piece(wards, _borough(wards))
    first = protect_piece(piece, POLICY)
    new = Version("new", piece.versions[0].borough, tuple(wards), "rules")
    again = Piece(**{**piece.__dict__, "versions": (new, _shown_before(piece, first))})
    kept = reused(again, POLICY)
    assert kept is not None and kept.lps == 0
    assert _statuses(kept) == _statuses(first)
    assert dict(kept.tally) == dict(first.tally) and kept.relations == first.relations


def test_a_piece_is_protected_again_when_its_counts_or_rules_changed():
    wards = [_ward(1, [40, 3]), _ward(2, [50, 60]), _ward(3, [30, 45])]
    piece = _piece(wards, _borough(wards))
    first = protect_piece(piece, POLICY)
    new = Version("new", piece.versions[0].borough, tuple(wards), "rules")
    other_rules = _shown_before(piece, first, protection="other rules")
    restated = _shown_before(piece, first, counts=(1,) * len(MONTHS))
    for earlier in (other_rules, restated):
        assert reused(Piece(**{**piece.__dict__, "versions": (new, earlier)}), POLICY) is None
    # a version made without a digest (the tests' pieces, old publications) is never reused
    bare = Version("new", new.borough, new.areas)
    assert (
        reused(Piece(**{**piece.__dict__, "versions": (bare, _shown_before(piece, first))}), POLICY)
        is None
    )
