"""The exact Poisson test and its words, on cases worked out by hand."""

import random
from math import comb

import pytest
from scipy.stats import binomtest

from crimestats.comparisons import (
    Outcome,
    Side,
    binomial_p_value,
    compare,
    plural,
    poisson_test,
)


def _two_sided(x: int, n: int, p: float) -> float:
    """Exact binomial two-sided p-value by summing every outcome no likelier than x."""
    pmf = [comb(n, k) * p**k * (1 - p) ** (n - k) for k in range(n + 1)]
    return min(1.0, sum(q for q in pmf if q <= pmf[x] * (1 + 1e-7)))


def test_binomial_p_value_agrees_with_the_definition_and_with_scipy():
    """Every small case against the sum by hand; a spread of page-sized and London-sized cases
    (a ward against London is tens against tens of thousands) against SciPy's binomtest."""
    for n in range(0, 41):
        for k in range(n + 1):
            for p in (0.01, 0.2, 0.5, 0.73, 0.99):
                assert binomial_p_value(k, n, p) == pytest.approx(_two_sided(k, n, p), rel=1e-9)
    rng = random.Random(11)
    for _ in range(1500):
        n = rng.choice([rng.randint(41, 5000), rng.randint(5000, 200_000)])
        p = rng.choice([rng.uniform(1e-4, 0.05), rng.uniform(0.05, 0.95), 0.5])
        spread = 3 * (n * p * (1 - p)) ** 0.5 + 1
        k = min(n, max(0, round(rng.gauss(n * p, spread))))
        expected = binomtest(k, n, p).pvalue
        assert binomial_p_value(k, n, p) == pytest.approx(expected, rel=1e-6, abs=1e-12)


@pytest.mark.parametrize(
    ("count", "other", "p_value", "outcome"),
    [
        (3, 3, 1.0, Outcome.SAME),  # equal rates, small counts
        (5, 0, 2 / 2**5, Outcome.SAME),  # 0.0625: five against none is still chance
        (6, 0, 2 / 2**6, Outcome.HIGHER),  # 0.03125
        (0, 6, 2 / 2**6, Outcome.LOWER),
        (10, 0, 2 / 2**10, Outcome.HIGHER),
        (0, 0, 1.0, Outcome.SAME),
    ],
)
def test_equal_exposures(count, other, p_value, outcome):
    test = poisson_test(count=count, exposure=1000, other_count=other, other_exposure=1000)
    assert test.p_value == pytest.approx(p_value)
    assert test.outcome == outcome


def test_unequal_exposures_against_a_hand_sum():
    # 0 crimes in an area with a fifth of the exposure, 10 in the other: P(X=0) = 0.8^10.
    test = poisson_test(count=0, exposure=250, other_count=10, other_exposure=1000)
    assert test.p_value == pytest.approx(_two_sided(0, 10, 0.2))
    assert test.p_value == pytest.approx(0.2283, abs=1e-3)
    assert test.outcome == Outcome.SAME


def test_clear_difference_with_big_numbers():
    # 31 burglaries in 3,780 households (8.2 per 1,000) against 300 in 60,000 (5.0 per 1,000).
    test = poisson_test(count=31, exposure=3780, other_count=300, other_exposure=60000)
    assert test.p_value == pytest.approx(_two_sided(31, 331, 3780 / 63780))
    assert test.p_value < 0.05 and test.outcome == Outcome.HIGHER
    # The same rates with a tenth of the crimes: not enough to tell.
    small = poisson_test(count=3, exposure=378, other_count=30, other_exposure=6000)
    assert small.outcome == Outcome.SAME


def test_sentence_shows_both_numbers():
    ward = Side("Mile End", 31, 8.2, 3780)
    london = Side("London", 24000, 6.9, 3478260)
    result = compare(ward, london, noun="burglary", per="households")
    assert result.numbers == "31 burglaries (8.2 per 1,000 households); London 6.9"
    assert result.outcome == Outcome.SAME  # 31 crimes: 8.2 against 6.9 could be chance
    assert result.sentence == "No clear difference from London: the difference could be chance."


def test_sentences_say_what_the_test_measures_not_the_size():
    # Hillingdon's vehicle crime: 11.9 against London's 9.9 is in the "about the same" colour
    # band, and the test says the difference is more than chance: neither sentence may read as
    # "about the same".
    assert Outcome.HIGHER.sentence("London") == (
        "Statistically higher than London: unlikely to be chance."
    )
    assert Outcome.LOWER.sentence("a year earlier") == (
        "Statistically lower than a year earlier: unlikely to be chance."
    )
    same = Outcome.SAME.sentence("Hillingdon")
    assert same == "No clear difference from Hillingdon: the difference could be chance."
    assert "about the same" not in same


def test_last_year_compares_counts():
    now = Side("12 months to November 2025", 40, 10.0, 4000)
    before = Side("a year earlier", 20, 5.0, 4000)
    result = compare(now, before, noun="robbery", per="residents", use_rates=False)
    assert result.outcome == Outcome.HIGHER
    assert result.numbers == "40 robberies; a year earlier 20"


def test_no_comparison_for_hidden_or_missing_figures():
    small = Side(
        "Mile End", None, None, 3780, suppressed=True, label="fewer than 5", status="small"
    )
    london = Side("London", 24000, 6.9, 3478260)
    result = compare(small, london, noun="burglary", per="households")
    assert result.outcome is None and result.hidden_status == "small"
    assert result.sentence == (
        "No comparison with London: the figure for Mile End is fewer than 5, so it is not compared."
    )
    withheld = Side("a year earlier", None, None, 3780, suppressed=True, label="not shown")
    result = compare(Side("Mile End", 31, 8.2, 3780), withheld, noun="burglary", per="households")
    assert "a year earlier is not shown" in result.sentence and "fewer" not in result.sentence
    # A hidden side that does not say how it is shown is "not shown", never "fewer than 5".
    bare = Side("Bow", None, None, 3000, suppressed=True)
    assert "Bow is not shown" in compare(bare, london, noun="burglary", per="households").sentence
    missing = Side("a year earlier", None, None, None, available=False)
    result = compare(london, missing, noun="burglary", per="households")
    assert result.outcome is None and "no figures" in result.sentence


def test_plurals():
    assert plural("Burglary") == "burglaries"
    assert plural("Vehicle crime") == "vehicle crimes"
    assert plural("robbery", 1) == "robbery"
