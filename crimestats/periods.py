"""Month arithmetic: the one place that knows what "rolling 12 months" or "financial year" means.

Months are ``datetime.date`` values on the first of the month. Pure functions, no Django.
"""

from collections.abc import Iterable
from datetime import date
from enum import StrEnum
from functools import lru_cache


class Period(StrEnum):
    MONTH = "month"
    ROLLING_12 = "r12"
    FYTD = "fytd"
    FINANCIAL_YEAR = "fy"  # complete April-March years, for the long-run trend


DEFAULT_PERIOD = Period.ROLLING_12
FINANCIAL_YEAR_START_MONTH = 4  # the police and government financial year starts in April


def month_of(value: date) -> date:
    """The first day of the month that ``value`` falls in."""
    return value.replace(day=1)


def add_months(month: date, n: int) -> date:
    index = month.year * 12 + (month.month - 1) + n
    return date(index // 12, index % 12 + 1, 1)


def month_range(first: date, last: date) -> list[date]:
    """Every month from ``first`` to ``last`` inclusive (empty when ``last`` is earlier)."""
    months, current = [], month_of(first)
    while current <= last:
        months.append(current)
        current = add_months(current, 1)
    return months


def financial_year_start(month: date) -> date:
    year = month.year if month.month >= FINANCIAL_YEAR_START_MONTH else month.year - 1
    return date(year, FINANCIAL_YEAR_START_MONTH, 1)


def months_in(period: Period, end: date) -> list[date]:
    """The months a period ending at ``end`` adds up."""
    return list(_months_in(period, end))


@lru_cache(maxsize=16_384)
def _months_in(period: Period, end: date) -> tuple[date, ...]:
    # Protection asks this millions of times for a few thousand (period, end) pairs.
    if period == Period.MONTH:
        return (end,)
    if period == Period.ROLLING_12:
        return tuple(month_range(add_months(end, -11), end))
    if period == Period.FYTD:
        return tuple(month_range(financial_year_start(end), end))
    if period == Period.FINANCIAL_YEAR:
        if not is_valid_end(period, end):
            raise ValueError(f"a financial year ends in March, not {end:%B}")
        return tuple(month_range(financial_year_start(end), end))
    raise ValueError(f"unknown period {period!r}")


def is_valid_end(period: Period, end: date) -> bool:
    """Whether a period can end at this month: a financial year ends in March, others anywhere."""
    if period == Period.FINANCIAL_YEAR:
        return end.month == add_months(date(2000, FINANCIAL_YEAR_START_MONTH, 1), -1).month
    return True


def same_period_last_year(end: date) -> date:
    """The end month of the period a year earlier (same length, same months of the year)."""
    return add_months(end, -12)


def is_complete(period: Period, end: date, available: Iterable[date]) -> bool:
    """A period can be shown only when every one of its months has data."""
    have = available if isinstance(available, set | frozenset) else set(available)
    return is_valid_end(period, end) and all(month in have for month in _months_in(period, end))


def complete_ends(period: Period, available: Iterable[date]) -> list[date]:
    """Every end month for which the period is complete, oldest first."""
    have = set(available)
    return [end for end in sorted(have) if is_complete(period, end, have)]


def month_label(month: date) -> str:
    return month.strftime("%B %Y")


def period_label(period: Period, end: date) -> str:
    """Plain-English name of a period, e.g. "12 months to November 2025"."""
    if period == Period.MONTH:
        return month_label(end)
    if period == Period.ROLLING_12:
        return f"12 months to {month_label(end)}"
    start = financial_year_start(end)
    if period == Period.FINANCIAL_YEAR:
        return f"financial year {start.year}/{str(end.year)[2:]}"
    if start == end:
        return f"{month_label(end)} (financial year to date)"
    return f"{start:%B} to {month_label(end)} (financial year to date)"


PERIOD_CHOICES = {
    Period.ROLLING_12: "Last 12 months",
    Period.FYTD: "Financial year to date",
    Period.MONTH: "Latest month",
    Period.FINANCIAL_YEAR: "Last whole financial year",
}


def latest_end(period: Period, latest: date) -> date:
    """The end month of the most recent period of this kind up to ``latest``: the latest month
    itself, or for a whole financial year the last March on or before it."""
    if period != Period.FINANCIAL_YEAR or is_valid_end(period, latest):
        return latest
    return add_months(financial_year_start(latest), -1)


def parse_month(text: str) -> date:
    """Parse ``YYYYMM`` or ``YYYY-MM``; raises ValueError with the offending text."""
    digits = text.strip().replace("-", "")
    if len(digits) != 6 or not digits.isdigit():
        raise ValueError(f"{text!r} is not a month written YYYYMM or YYYY-MM")
    year, month = int(digits[:4]), int(digits[4:])
    if not 1 <= month <= 12 or year < 1900:
        raise ValueError(f"{text!r} is not a real month")
    return date(year, month, 1)
