"""Secondary suppression: known differencing attacks, and properties on random tables.

Every attack is a small hand-made table that the audit fails under the primary rule alone and
passes once ``protect`` has chosen what to withhold. The audit in these tests is always built
afresh from what is published (``audit_table``), never from protection's own bookkeeping.
"""

import re
from dataclasses import replace
from datetime import date
from pathlib import Path

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from crimestats import audit as lp
from crimestats.disclosure import (
    Cell,
    Policy,
    PriorRelease,
    Published,
    RecencyCost,
    Series,
    Status,
    Table,
    audit_many_series,
    audit_problem,
    audit_series,
    audit_table,
    default_cost,
    protect,
    protect_many,
    protect_series,
    series_table,
    shown_as,
)
from crimestats.periods import Period, add_months, month_range

POLICY = Policy()
APRIL = date(2024, 4, 1)


def assert_attack_closed(table: Table, target, true_value: int) -> None:
    """The primary rule alone lets ``target`` be worked out exactly; protection stops that."""
    before = audit_table(table, {}, policy=POLICY)  # no statuses: the primary rule alone
    [result] = [r for r in before.results if r.id == target]
    assert not result.passed
    assert result.low == pytest.approx(true_value) and result.high == pytest.approx(true_value)
    protection = protect(table, policy=POLICY)
    assert protection.passed
    after = audit_table(table, dict(protection.items()), policy=POLICY)
    assert after.passed and after.checked == before.checked
    assert protection.status(target) != Status.EXACT


def test_fytd_difference():
    # FYTD(May) - FYTD(April) = May's count
    table = series_table(
        monthly=[6, 3, 7],
        months=month_range(APRIL, date(2024, 6, 1)),
        level="lsoa",
        periods=(Period.MONTH, Period.FYTD),
    )
    assert_attack_closed(table, (Period.MONTH, date(2024, 5, 1)), 3)


def test_rolling_12_difference():
    # R12(Apr 2025) - R12(Mar 2025) + M(Apr 2024) = M(Apr 2025)
    counts = [7] + [6, 9, 5, 8, 6, 7, 10, 5, 6, 9, 8] + [2]
    table = series_table(
        monthly=counts,
        months=month_range(APRIL, date(2025, 4, 1)),
        level="ward",
        periods=(Period.MONTH, Period.ROLLING_12),
    )
    assert_attack_closed(table, (Period.MONTH, date(2025, 4, 1)), 2)


def test_parent_difference():
    # a borough total (always exact) minus its other wards
    table = Table()
    month = [date(2025, 1, 1)]
    wards = {
        code: table.add_months([count], month)
        for code, count in [("w1", 3), ("w2", 10), ("w3", 7), ("w4", 12)]
    }
    for code, series in wards.items():
        table.add_periods(code, series, level="ward", periods=[Period.MONTH])
    table.add_periods(
        "borough",
        list(wards.values()),
        level="borough",
        periods=[Period.MONTH],
        children=list(wards),
    )
    target = ("w1", Period.MONTH, month[0])
    assert_attack_closed(table, target, 3)
    protection = protect(table, policy=POLICY)
    # the cheapest complement: the smallest other ward, and nothing else
    hidden = {key[0] for key, shown in protection.items() if shown.suppressed}
    assert hidden == {"w1", "w3"}
    assert protection.status(("borough", Period.MONTH, month[0])) == Status.EXACT


def test_major_minus_its_minors():
    # a major category published beside its minor categories
    table = Table()
    months = month_range(date(2025, 1, 1), date(2025, 2, 1))
    minors = {
        name: table.add_months(counts, months)
        for name, counts in [("burglary-home", [2, 6]), ("burglary-business", [9, 0])]
    }
    for name, series in minors.items():
        table.add_periods(name, series, level="lsoa", periods=[Period.MONTH])
    table.add_periods(
        "burglary",
        list(minors.values()),
        level="lsoa",
        periods=[Period.MONTH],
        children=list(minors),
    )
    assert_attack_closed(table, ("burglary-home", Period.MONTH, months[0]), 2)


def release_tables(*, restated: bool) -> tuple[list[int], list[date], PriorRelease]:
    """Release 1 covers April..October; release 2 adds November (2 crimes) and may restate
    September (6 in release 1, 4 in release 2)."""
    months_1 = month_range(APRIL, date(2024, 10, 1))
    counts_1 = [6, 7, 8, 6, 9, 6, 7]
    counts_2 = [6, 7, 8, 6, 9, 4 if restated else 6, 7, 2]
    periods = (Period.MONTH, Period.FYTD)
    first = protect_series(
        monthly=counts_1, months=months_1, level="lsoa", policy=POLICY, periods=periods
    )
    shown_1 = {key: first.status(key) for key, _ in first.items()}
    prior = PriorRelease(monthly=counts_1, months=months_1, shown=shown_1)
    return counts_2, month_range(APRIL, date(2024, 11, 1)), prior


@pytest.mark.parametrize("restated", [False, True])
def test_release_to_release_difference(restated):
    counts, months, prior = release_tables(restated=restated)
    periods = (Period.MONTH, Period.FYTD)
    table = series_table(
        monthly=counts, months=months, level="lsoa", periods=periods, prior=[prior]
    )
    target = (Period.MONTH, date(2024, 9, 1)) if restated else (Period.MONTH, date(2024, 11, 1))
    assert_attack_closed(table, target, 4 if restated else 2)
    # Protecting release 2 on its own is not enough: last release's figures undo it.
    alone = protect_series(
        monthly=counts, months=months, level="lsoa", policy=POLICY, periods=periods
    )
    assert audit_table(
        series_table(monthly=counts, months=months, level="lsoa", periods=periods),
        dict(alone.items()),
        policy=POLICY,
    ).passed
    assert not audit_table(table, dict(alone.items()), policy=POLICY).passed
    # Protected with the archive in view, it holds.
    both = protect_series(
        monthly=counts, months=months, level="lsoa", policy=POLICY, periods=periods, prior=[prior]
    )
    assert audit_table(table, dict(both.items()), policy=POLICY).passed


def test_two_fewer_than_5_months_in_a_fewer_than_5_year_are_withheld_instead():
    # 1 + 2 crimes in a year: "fewer than 5" for both months and the year would cap each at 3
    counts = [0, 1, 0, 0, 2, 0, 0, 0, 0, 0, 0, 0]
    protection = protect_series(
        monthly=counts,
        months=month_range(APRIL, date(2025, 3, 1)),
        level="lsoa",
        policy=POLICY,
        periods=(Period.MONTH, Period.ROLLING_12),
    )
    assert protection.status((Period.ROLLING_12, date(2025, 3, 1))) == Status.SMALL
    assert protection.status((Period.MONTH, date(2024, 5, 1))) == Status.WITHHELD
    assert protection.status((Period.MONTH, date(2024, 8, 1))) == Status.WITHHELD
    assert protection.published((Period.MONTH, date(2024, 5, 1))).label == "not shown"
    zero = protection.published((Period.MONTH, date(2024, 4, 1)))
    assert zero == Published(value=0, suppressed=False, label="0")


def test_tally_counts_cells_and_crimes_hidden():
    protection = protect_series(
        monthly=[6, 3, 7],
        months=month_range(APRIL, date(2024, 6, 1)),
        level="lsoa",
        policy=POLICY,
        periods=(Period.MONTH, Period.FYTD),
    )
    total = sum(protection.tally().values(), start=type(next(iter(protection.tally().values())))())
    shown = dict(protection.items())
    assert total.cells == len(shown)
    assert total.hidden_cells == sum(p.suppressed for p in shown.values())
    assert total.small_cells == 1 and total.small_crimes == 3
    by_period = protection.tally(lambda cell: cell.key[0])
    assert sum(t.cells for t in by_period.values()) == total.cells


def test_shown_as():
    assert shown_as(12, Status.EXACT, policy=POLICY) == Published(12, False, "12")
    assert shown_as(3, Status.SMALL, policy=POLICY).label == "fewer than 5"
    withheld = shown_as(40, Status.WITHHELD, policy=POLICY)
    assert withheld.withheld and withheld.value is None and withheld.status == Status.WITHHELD


def test_only_the_policy_module_compares_with_the_threshold():
    root = Path(__file__).resolve().parents[2]
    allowed = {root / "crimestats" / "disclosure.py", root / "crimemap" / "settings.py"}
    pattern = re.compile(r"\bthreshold\b|DISCLOSURE_THRESHOLD|\b[<>]=?\s*5\b")
    offenders = []
    for app in ("crimestats", "areas", "crimemap"):
        for path in (root / app).rglob("*.py"):
            if path in allowed or "migrations" in path.parts:
                continue
            for number, line in enumerate(path.read_text().splitlines(), 1):
                if pattern.search(line):
                    offenders.append(f"{path.relative_to(root)}:{number}: {line.strip()}")
    assert not offenders, "\n".join(offenders)


# --------------------------------------------------------------------------------------------
# Properties on random series and random parent/children tables.

counts_strategy = st.one_of(st.integers(0, 6), st.integers(0, 6), st.integers(0, 40))


@st.composite
def series(draw):
    n = draw(st.integers(12, 30))
    start = draw(st.sampled_from([date(2023, 1, 1), APRIL, date(2024, 9, 1)]))
    counts = draw(st.lists(counts_strategy, min_size=n, max_size=n))
    months = month_range(start, add_months(start, n - 1))
    earliest = draw(st.sampled_from([None, add_months(start, n - 6)]))
    level = draw(st.sampled_from(["lsoa", "ward", "lsoa", "borough", "region"]))
    return counts, months, earliest, level


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(series())
def test_protected_series_publish_nothing_small_and_nothing_recoverable(case):
    counts, months, earliest, level = case
    protection = protect_series(
        monthly=counts, months=months, level=level, policy=POLICY, earliest_end=earliest
    )
    assert protection.passed
    shown = dict(protection.items())
    for key, published in shown.items():
        value = protection.value(key)
        if level in POLICY.levels:
            assert published.value is None or not 1 <= published.value <= 4
        else:
            assert published.value == value  # borough and London are exact, always
        if not published.suppressed:
            assert published.value == value  # what is shown is the true count
        if 1 <= value <= 4 and level in POLICY.levels:
            assert published.suppressed
    table = series_table(monthly=counts, months=months, level=level, earliest_end=earliest)
    report = audit_table(table, shown, policy=POLICY)
    assert report.passed


@st.composite
def families(draw):
    """A parent (borough or ward) with 2-4 children over 1-3 months."""
    k = draw(st.integers(2, 4))
    n = draw(st.integers(1, 3))
    children = [draw(st.lists(counts_strategy, min_size=n, max_size=n)) for _ in range(k)]
    parent_level = draw(st.sampled_from(["borough", "ward"]))
    return children, parent_level


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(families())
def test_protected_families_pass_the_audit(case):
    children, parent_level = case
    months = month_range(date(2025, 1, 1), add_months(date(2025, 1, 1), len(children[0]) - 1))
    table = Table()
    parts = [table.add_months(c, months) for c in children]
    names = [f"child{i}" for i in range(len(parts))]
    for name, part in zip(names, parts, strict=True):
        table.add_periods(name, part, level="lsoa", periods=[Period.MONTH, Period.FYTD])
    table.add_periods(
        "parent", parts, level=parent_level, periods=[Period.MONTH, Period.FYTD], children=names
    )
    protection = protect(table, policy=POLICY)
    if parent_level == "borough" and not protection.passed:
        # an exact total can itself be small enough to give a child away (e.g. a total of 2
        # over two children): nothing to withhold can help, and protect says so
        assert all(f.id[0] != "parent" for f in protection.failures)
        return
    assert protection.passed
    assert audit_table(table, dict(protection.items()), policy=POLICY).passed


def test_many_series_in_parallel_match_one_by_one():
    months = month_range(APRIL, date(2025, 9, 1))
    batch = [
        Series(
            monthly=[(i * 7 + j * 3) % 9 for j in range(len(months))],
            months=months,
            level=level,
            key=(f"area{i}", "burglary"),
            earliest_end=date(2025, 3, 1),
        )
        for i, level in enumerate(["lsoa", "ward", "borough", "lsoa"])
    ]
    serial = list(protect_many(batch, policy=POLICY))
    parallel = list(protect_many(batch, policy=POLICY, workers=2))
    assert [p.statuses for p in serial] == [p.statuses for p in parallel]
    assert all(p.passed for p in parallel)
    assert all(p.cells[0].key[0] == s.key for p, s in zip(parallel, batch, strict=True))
    published = [(s, dict(p.items())) for s, p in zip(batch, parallel, strict=True)]
    report = audit_many_series(published, policy=POLICY, workers=2)
    assert report.passed and report.checked == sum(
        audit_series(s, shown, policy=POLICY).checked for s, shown in published
    )
    # the primary rule alone fails somewhere in this batch, and the report says where
    primary = audit_many_series([(s, {}) for s in batch], policy=POLICY)
    assert primary.failures and all(f.id[0][1] == "burglary" for f in primary.failures)


def test_financial_years_go_back_as_far_as_the_data_and_match_their_twins():
    months = month_range(date(2019, 4, 1), date(2025, 11, 1))
    counts = [(3 * i) % 7 for i in range(len(months))]
    earliest = date(2023, 1, 1)
    protection = protect_series(
        monthly=counts, months=months, level="ward", policy=POLICY, earliest_end=earliest
    )
    keys = dict(protection.items())
    years = sorted(end for period, end in keys if period == Period.FINANCIAL_YEAR)
    assert years == [date(y, 3, 1) for y in range(2020, 2026)]
    assert not any(end < earliest for period, end in keys if period != Period.FINANCIAL_YEAR)
    for end in years:
        if end >= earliest:  # the same twelve months: the same number, shown the same way
            twins = {
                protection.status((p, end))
                for p in (Period.FINANCIAL_YEAR, Period.ROLLING_12, Period.FYTD)
            }
            assert len(twins) == 1
    table = series_table(monthly=counts, months=months, level="ward", earliest_end=earliest)
    assert audit_table(table, keys, policy=POLICY).passed


def test_joined_series_are_first_protected_one_by_one():
    table = Table()
    months = month_range(APRIL, date(2024, 6, 1))
    parts = [table.add_months(c, months) for c in ([3, 8, 0], [9, 2, 6], [7, 7, 1])]
    names = ["a", "b", "c"]
    for name, part in zip(names, parts, strict=True):
        table.add_periods(name, part, level="lsoa")
    table.add_periods("total", parts, level="borough", children=names)
    local = table.local_tables()
    assert [sorted({key[0] for key in (c.key for c in t.cells)}) for t in local] == [
        ["a"],
        ["b"],
        ["c"],
    ]
    assert all(len(t.truth) == 3 for t in local)
    protection = protect(table, policy=POLICY)
    assert protection.passed
    assert audit_table(table, dict(protection.items()), policy=POLICY).passed
    assert series_table(monthly=[1, 2], months=months[:2], level="lsoa").local_tables() == []


def test_recency_cost_spares_the_default_view_and_recent_figures():
    cost = RecencyCost(APRIL)
    default = Cell(key=("E01000001", Period.ROLLING_12, APRIL), terms=(0, 1), level="lsoa")
    year_ago = Cell(
        key=("E01000001", Period.ROLLING_12, date(2023, 4, 1)), terms=(0,), level="lsoa"
    )
    old_year = Cell(
        key=("E01000001", Period.FINANCIAL_YEAR, date(2015, 3, 1)), terms=(1,), level="lsoa"
    )
    base = default_cost(20, Status.EXACT, [default])
    assert cost(20, Status.EXACT, [default]) == 10_000 * base
    assert cost(20, Status.EXACT, [default]) > cost(20, Status.EXACT, [year_ago])
    assert cost(20, Status.EXACT, [year_ago]) > cost(20, Status.EXACT, [old_year])


def test_what_earlier_releases_already_narrowed_is_withheld_and_not_narrowed_further():
    # Last publication showed exactly 12 for months a+b+c and 10 for c: a+b = 2 was public.
    # This one adds month d (0 crimes): a+b+d is at least 2, as the public already knew, and
    # nothing withheld now could make 1 possible again. "Fewer than 5" would narrow it to 2..4,
    # so it is withheld without that label: the public keeps knowing ">= 2", and no more.
    table = Table()
    a, b, c = table.add_unknowns([1, 1, 10])
    (d,) = table.add_unknowns([0])
    table.add_cell("earlier a+b+c", [a, b, c], level="lsoa", fixed=Status.EXACT)
    table.add_cell("earlier c", [c], level="lsoa", fixed=Status.EXACT)
    table.add_cell("a+b+d", [a, b, d], level="lsoa")
    table.add_cell("d", [d], level="lsoa")
    protection = protect(table, policy=POLICY)
    assert protection.passed and protection.status("a+b+d") == Status.WITHHELD
    assert protection.status("d") == Status.WITHHELD  # d = 0 would pin a+b+d at 2
    problem = audit_problem(table, dict(protection.items()), policy=POLICY)
    assert lp.audit(problem).passed
    # Held to 1..4 regardless of what was public before, it would fail (and be unprotectable).
    untargeted = replace(problem, checks=[replace(c, target=None) for c in problem.checks])
    assert not lp.audit(untargeted).passed
