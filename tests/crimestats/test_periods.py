from datetime import date

import pytest
from hypothesis import given
from hypothesis import strategies as st

from crimestats.periods import (
    Period,
    add_months,
    complete_ends,
    financial_year_start,
    month_range,
    months_in,
    parse_month,
    period_label,
    same_period_last_year,
)

months = st.dates(min_value=date(1990, 1, 1), max_value=date(2100, 12, 1)).map(
    lambda d: d.replace(day=1)
)


def test_add_months_crosses_years():
    assert add_months(date(2025, 11, 1), 3) == date(2026, 2, 1)
    assert add_months(date(2025, 1, 1), -1) == date(2024, 12, 1)


@given(months, st.integers(-500, 500))
def test_add_months_round_trips(month, n):
    assert add_months(add_months(month, n), -n) == month


def test_rolling_12_is_twelve_months_ending_at_end():
    got = months_in(Period.ROLLING_12, date(2025, 11, 1))
    assert got[0] == date(2024, 12, 1) and got[-1] == date(2025, 11, 1) and len(got) == 12


def test_financial_year_starts_in_april():
    assert financial_year_start(date(2025, 3, 1)) == date(2024, 4, 1)
    assert financial_year_start(date(2025, 4, 1)) == date(2025, 4, 1)
    assert months_in(Period.FYTD, date(2025, 6, 1)) == month_range(
        date(2025, 4, 1), date(2025, 6, 1)
    )


@given(months)
def test_fytd_has_one_to_twelve_months(end):
    assert 1 <= len(months_in(Period.FYTD, end)) <= 12


@given(months)
def test_same_period_last_year_is_twelve_months_back(end):
    earlier = same_period_last_year(end)
    assert (end.year - earlier.year, end.month) == (1, earlier.month)


def test_complete_ends_need_every_month():
    available = month_range(date(2024, 3, 1), date(2025, 11, 1))
    ends = complete_ends(Period.ROLLING_12, available)
    assert ends[0] == date(2025, 2, 1) and ends[-1] == date(2025, 11, 1)
    gap = [m for m in available if m != date(2024, 6, 1)]
    assert complete_ends(Period.ROLLING_12, gap)[0] == date(2025, 6, 1)


def test_labels():
    assert period_label(Period.ROLLING_12, date(2025, 11, 1)) == "12 months to November 2025"
    assert period_label(Period.MONTH, date(2025, 11, 1)) == "November 2025"
    assert period_label(Period.FYTD, date(2025, 11, 1)) == (
        "April to November 2025 (financial year to date)"
    )


@pytest.mark.parametrize("text", ["2025-13", "25011", "abcdef", "2025/01", ""])
def test_parse_month_rejects(text):
    with pytest.raises(ValueError):
        parse_month(text)


def test_parse_month_accepts_both_layouts():
    assert parse_month("202403") == parse_month("2024-03") == date(2024, 3, 1)


def test_financial_years_end_in_march_only():
    available = month_range(date(2010, 4, 1), date(2025, 11, 1))
    ends = complete_ends(Period.FINANCIAL_YEAR, available)
    assert ends[0] == date(2011, 3, 1) and ends[-1] == date(2025, 3, 1) and len(ends) == 15
    assert months_in(Period.FINANCIAL_YEAR, date(2025, 3, 1)) == months_in(
        Period.ROLLING_12, date(2025, 3, 1)
    )
    assert period_label(Period.FINANCIAL_YEAR, date(2025, 3, 1)) == "financial year 2024/25"
    with pytest.raises(ValueError):
        months_in(Period.FINANCIAL_YEAR, date(2025, 4, 1))
