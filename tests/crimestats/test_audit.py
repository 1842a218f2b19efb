"""The LP audit core, checked against a plain one-LP-per-end oracle and hand-made attacks."""

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from scipy.optimize import linprog

from crimestats.audit import Auditor, Check, Known, Problem, audit, audit_many, split

LOW, HIGH = 1, 4  # threshold 5


def exact(name, terms, value):
    return Known(name, tuple(terms), value, value)


def small(name, terms):
    return Known(name, tuple(terms), LOW, HIGH)


def oracle(problem: Problem, check: Check) -> tuple[float, float]:
    """Smallest and largest value of a check: two plain LPs over every known, no tricks."""
    n = problem.n_unknowns
    a_eq, b_eq, a_ub, b_ub = [], [], [], []
    for known in problem.knowns:
        row = np.zeros(n)
        for term, coef in zip(known.terms, known.coefs or [1.0] * len(known.terms), strict=True):
            row[term] += coef
        if known.lower == known.upper:
            a_eq.append(row)
            b_eq.append(known.lower)
        else:
            a_ub += [row, -row]
            b_ub += [known.upper, -known.lower]
    objective = np.zeros(n)
    for term, coef in zip(check.terms, check.coefs or [1.0] * len(check.terms), strict=True):
        objective[term] += coef
    kwargs = {"bounds": (0, None), "method": "highs"}
    if a_eq:
        kwargs.update(A_eq=np.array(a_eq), b_eq=b_eq)
    if a_ub:
        kwargs.update(A_ub=np.array(a_ub), b_ub=b_ub)
    smallest = linprog(objective, **kwargs)
    largest = linprog(-objective, **kwargs)
    return smallest.fun, (np.inf if largest.status == 3 else -largest.fun)


def fytd_problem(*, fytd_may_published: bool) -> Problem:
    """April 7 (exact), May 3 (fewer than 5); FYTD(April) = 7, FYTD(May) = 10."""
    knowns = [exact("M-apr", [0], 7), small("M-may", [1]), exact("F-apr", [0], 7)]
    if fytd_may_published:
        knowns.append(exact("F-may", [0, 1], 10))
    return Problem(2, knowns, [Check("M-may", (1,))], LOW, HIGH, truth=[7, 3])


@pytest.mark.parametrize("engine", ["highs", "linprog"])
def test_fytd_difference_pins_the_month(engine):
    [result] = audit(fytd_problem(fytd_may_published=True), engine=engine).results
    assert not result.passed
    assert result.low == pytest.approx(3) and result.high == pytest.approx(3)
    assert {"F-may", "F-apr"} <= set(result.pinned_by) or {"F-may", "M-apr"} <= set(
        result.pinned_by
    )
    assert "F-may" in result.relax


def test_withholding_a_total_protects_the_month():
    report = audit(fytd_problem(fytd_may_published=False))
    assert report.passed and report.checked == 1
    assert report.lps == 0  # nothing links the month to anything: solved in closed form


@pytest.mark.parametrize("engine", ["highs", "linprog"])
def test_two_small_months_in_a_small_total_cap_each_other(engine):
    # months 1 and 2, a zero month, and a "fewer than 5" total: each month is at most 3
    problem = Problem(
        3,
        [small("a", [0]), small("b", [1]), exact("z", [2], 0), small("total", [0, 1, 2])],
        [Check("a", (0,)), Check("b", (1,)), Check("total", (0, 1, 2))],
        LOW,
        HIGH,
        truth=[1, 2, 0],
    )
    a, b, total = audit(problem, engine=engine).results
    assert (a.passed, a.high_failed, a.high) == (False, True, pytest.approx(3))
    assert (b.passed, b.high) == (False, pytest.approx(3))
    assert (total.passed, total.low_failed, total.low) == (False, True, pytest.approx(2))
    assert set(a.relax) == {"total", "b"}  # the zero month's value cannot go lower


def test_a_lone_small_value_in_an_exact_total_passes_only_with_slack():
    # p1 + p2 = 5 with both "fewer than 5": each ranges over 1..4
    ok = Problem(
        2,
        [small("p1", [0]), small("p2", [1]), exact("t", [0, 1], 5)],
        [Check("p1", (0,)), Check("p2", (1,))],
        LOW,
        HIGH,
        truth=[2, 3],
    )
    assert audit(ok).passed
    # p1 + p2 = 2: both are 1
    pinned = Problem(
        2,
        [small("p1", [0]), small("p2", [1]), exact("t", [0, 1], 2)],
        [Check("p1", (0,)), Check("p2", (1,))],
        LOW,
        HIGH,
        truth=[1, 1],
    )
    report = audit(pinned)
    assert [r.high for r in report.results] == [pytest.approx(1), pytest.approx(1)]
    assert not report.passed


def test_truth_that_contradicts_the_figures_is_refused():
    problem = Problem(2, [exact("t", [0, 1], 5)], [Check("a", (0,))], LOW, HIGH, truth=[1, 1])
    with pytest.raises(ValueError, match="contradict"):
        audit(problem)


def test_contradictory_figures_are_refused():
    problem = Problem(1, [exact("a", [0], 5), exact("b", [0], 6)], [Check("a", (0,))], LOW, HIGH)
    with pytest.raises(ValueError, match="contradict"):
        audit(problem)


def test_split_keeps_independent_parts_apart_and_drops_parts_without_checks():
    knowns = [
        small("a", [0]),
        small("b", [1]),
        exact("ab", [0, 1], 5),  # part 1
        small("c", [2]),
        exact("d", [3], 9),
        exact("cd", [2, 3], 11),  # part 2 (d is fixed)
        exact("e", [4], 7),
        exact("f", [5], 8),
        exact("ef", [4, 5], 15),  # no check
    ]
    checks = [Check("a", (0,)), Check("b", (1,)), Check("c", (2,))]
    problem = Problem(6, knowns, checks, LOW, HIGH, truth=[2, 3, 2, 9, 7, 8])
    parts = split(problem)
    assert sorted(len(p.checks) for p in parts) == [1, 2]
    assert all("ef" not in {k.id for k in p.knowns} for p in parts)
    # through fixed unknowns nothing more links here, but the fixed month comes along
    part_c = next(p for p in parts if p.checks[0].id == "c")
    assert {k.id for k in part_c.knowns} == {"c", "d", "cd"}
    report = audit(problem)
    assert [r.passed for r in report.results] == [True, True, False]  # c = 11 - 9


def test_auditor_withhold_and_restore():
    auditor = Auditor(fytd_problem(fytd_may_published=True))
    assert not auditor.run()[0].passed
    auditor.withhold("F-may")
    assert auditor.run()[0].passed
    auditor.restore("F-may")
    assert not auditor.run()[0].passed


def test_audit_many_in_parallel_matches_one_by_one():
    problems = [fytd_problem(fytd_may_published=flag) for flag in (True, False, True)]
    serial = audit_many(problems)
    parallel = audit_many(problems, workers=2)
    assert [r.passed for r in serial.results] == [r.passed for r in parallel.results]
    assert serial.checked == 3 and len(serial.failures) == 2


# --------------------------------------------------------------------------------------------
# Property: the fast audit agrees with the plain oracle on random small problems.


@st.composite
def problems(draw):
    n = draw(st.integers(2, 7))
    truth = draw(st.lists(st.integers(0, 7), min_size=n, max_size=n))
    knowns, checks = [], []
    for var, value in enumerate(truth):
        status = draw(st.sampled_from(["exact", "small", "hidden"]))
        if 0 < value < 5 and status == "exact":
            status = "small"
        if status == "small" and not 0 < value < 5:
            status = "hidden"
        if status == "exact":
            knowns.append(exact(("m", var), [var], value))
        elif status == "small":
            knowns.append(small(("m", var), [var]))
        if 0 < value < 5 and status != "exact":
            checks.append(Check(("m", var), (var,)))
    for s in range(draw(st.integers(0, 5))):
        terms = tuple(sorted(draw(st.sets(st.integers(0, n - 1), min_size=2, max_size=n))))
        total = sum(truth[t] for t in terms)
        status = draw(st.sampled_from(["exact", "small", "hidden"]))
        if status == "exact" and not 0 < total < 5:
            knowns.append(exact(("s", s), terms, total))
        elif 0 < total < 5 and status != "hidden":
            knowns.append(small(("s", s), terms))
        if 0 < total < 5:
            checks.append(Check(("s", s), terms))
    return Problem(n, knowns, checks, LOW, HIGH, truth=truth)


@settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(problems(), st.sampled_from(["highs", "linprog"]))
def test_audit_agrees_with_the_oracle(problem, engine):
    report = audit(problem, engine=engine)
    for check, result in zip(problem.checks, report.results, strict=True):
        smallest, largest = oracle(problem, check)
        expected = smallest <= LOW + 1e-6 and largest >= HIGH - 1e-6
        assert result.passed == expected, (check, result, smallest, largest)
        if result.low_failed:
            assert result.low == pytest.approx(smallest, abs=1e-6)
        if result.high_failed:
            assert result.high == pytest.approx(largest, abs=1e-6)
        if not result.passed:
            assert result.pinned_by  # a failure always names what pins it
