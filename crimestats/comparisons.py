"""Comparisons in words: the exact Poisson test and the sentence it yields.

Two counts are compared as rates with their exposures (households or residents). Conditional on
the total, the first count is binomial with p = e1 / (e1 + e2) when the two rates are equal, so
the exact test is a binomial test. "Higher" or "lower" only when p < 0.05; otherwise "about the
same as". Pure functions, no Django.

The sentences say what the test measures (whether a difference is more than chance would
explain), so they cannot be read against the map colour beside them, which measures how big
the difference in rates is: a small ward can be coloured "higher" with no clear difference, a
borough "about the same" and still statistically higher.
"""

import math
from dataclasses import dataclass
from enum import StrEnum

from scipy.special import bdtr, bdtrc

SIGNIFICANCE = 0.05


class Outcome(StrEnum):
    HIGHER = "higher"
    LOWER = "lower"
    SAME = "about the same"

    @property
    def words(self) -> str:
        return {
            Outcome.HIGHER: "higher than",
            Outcome.LOWER: "lower than",
            Outcome.SAME: "about the same as",
        }[self]

    def sentence(self, other: str) -> str:
        """What the test found, in words that say it is a test of chance, not of size."""
        if self == Outcome.SAME:
            return f"No clear difference from {other}: the difference could be chance."
        return f"Statistically {self.words} {other}: unlikely to be chance."


RELATIVE_TIE = 1e-7  # probabilities this close count as equal (floating-point noise)


def binomial_p_value(k: int, n: int, p: float) -> float:
    """Exact two-sided p-value of k successes in n trials with success probability p.

    The sum of the probabilities of every outcome no more likely than k. The same definition
    as SciPy's `binomtest`, which took a tenth of a cold page's render in its many calls to the
    binomial pmf: here the pmf is from log-gamma, the far tail's edge is found by bisection,
    and the two tails are SciPy's binomial cdf functions (tests check the two agree).
    """
    log_p, log_q, log_n = math.log(p), math.log1p(-p), math.lgamma(n + 1)

    def log_pmf(i: int) -> float:
        return log_n - math.lgamma(i + 1) - math.lgamma(n - i + 1) + i * log_p + (n - i) * log_q

    limit = log_pmf(k) + math.log1p(RELATIVE_TIE)
    expected = n * p
    if k == expected:
        return 1.0

    def at_least(i: int) -> float:
        return 1.0 if i <= 0 else float(bdtrc(i - 1, n, p))

    if k < expected:  # the other tail is above: the first i there no likelier than k
        low, high = math.ceil(expected), n
        if log_pmf(high) > limit:
            return min(1.0, float(bdtr(k, n, p)))
        while low < high:  # the pmf falls as i rises above the mean
            middle = (low + high) // 2
            if log_pmf(middle) <= limit:
                high = middle
            else:
                low = middle + 1
        return min(1.0, float(bdtr(k, n, p)) + at_least(low))
    low, high = 0, math.floor(expected)  # the other tail is below: the last i no likelier
    if log_pmf(low) > limit:
        return min(1.0, at_least(k))
    while low < high:  # the pmf rises as i rises below the mean
        middle = (low + high + 1) // 2
        if log_pmf(middle) <= limit:
            low = middle
        else:
            high = middle - 1
    return min(1.0, float(bdtr(low, n, p)) + at_least(k))


@dataclass(frozen=True)
class Test:
    outcome: Outcome
    p_value: float


def poisson_test(*, count: int, exposure: float, other_count: int, other_exposure: float) -> Test:
    """Exact two-sided test that two Poisson rates (count / exposure) are equal."""
    if exposure <= 0 or other_exposure <= 0:
        raise ValueError("exposures must be positive")
    if count < 0 or other_count < 0:
        raise ValueError("counts cannot be negative")
    total = count + other_count
    if total == 0:
        return Test(Outcome.SAME, 1.0)
    share = exposure / (exposure + other_exposure)
    p_value = binomial_p_value(count, total, share)
    if p_value >= SIGNIFICANCE:
        return Test(Outcome.SAME, p_value)
    higher = count / exposure > other_count / other_exposure
    return Test(Outcome.HIGHER if higher else Outcome.LOWER, p_value)


def plural(noun: str, count: int | None = None) -> str:
    """English plural of a crime noun ("burglary" → "burglaries"); singular for exactly 1."""
    noun = noun.lower()
    if count == 1:
        return noun
    if noun.endswith("y") and noun[-2:-1] not in "aeiou":
        return noun[:-1] + "ies"
    return noun if noun.endswith("s") else noun + "s"


@dataclass(frozen=True)
class Side:
    """One side of a comparison as published: count None when hidden or missing."""

    name: str
    count: int | None
    rate: float | None
    exposure: float | None
    suppressed: bool = False
    available: bool = True
    label: str = ""  # how a hidden figure is shown: "fewer than 5" or "not shown"
    status: str = ""  # its status (crimestats.disclosure.Status), put on the sentence's element


@dataclass(frozen=True)
class Comparison:
    """What a page says about one comparison; `outcome` is None when no comparison is made."""

    outcome: Outcome | None
    sentence: str
    numbers: str = ""
    p_value: float | None = None
    hidden_status: str = ""  # status of the hidden figure a sentence names, if any


def _numbers(this: Side, other: Side, *, noun: str, per: str, use_rates: bool) -> str:
    if use_rates and this.rate is not None and other.rate is not None:
        return (
            f"{this.count:,} {plural(noun, this.count)} ({this.rate:,.1f} per 1,000 {per}); "
            f"{other.name} {other.rate:,.1f}"
        )
    return f"{this.count:,} {plural(noun, this.count)}; {other.name} {other.count:,}"


def compare(this: Side, other: Side, *, noun: str, per: str, use_rates: bool = True) -> Comparison:
    """Compare this area's figure with another (a parent, or itself a year earlier).

    `use_rates` is False when both sides share a denominator (the same area a year earlier), so
    the sentence shows two counts. No comparison for a hidden or missing figure: say why.
    """
    for side in (this, other):
        if not side.available or side.count is None and not side.suppressed:
            return Comparison(None, f"No comparison with {other.name}: no figures for {side.name}.")
        if side.suppressed:
            return Comparison(
                None,
                f"No comparison with {other.name}: the figure for {side.name} is "
                f"{side.label or 'not shown'}, so it is not compared.",
                hidden_status=side.status,
            )
        if not side.exposure:
            return Comparison(
                None, f"No comparison with {other.name}: no population figure for {side.name}."
            )
    test = poisson_test(
        count=this.count,
        exposure=this.exposure,
        other_count=other.count,
        other_exposure=other.exposure,
    )
    return Comparison(
        test.outcome,
        test.outcome.sentence(other.name),
        _numbers(this, other, noun=noun, per=per, use_rates=use_rates),
        test.p_value,
    )
