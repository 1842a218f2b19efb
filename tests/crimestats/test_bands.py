import pytest
from hypothesis import given
from hypothesis import strategies as st

from crimestats.bands import BANDS, band_for


@pytest.mark.parametrize(
    ("rate", "key"),
    [
        (4.9, "much-lower"),
        (5.0, "lower"),
        (7.99, "lower"),
        (8.0, "about-the-same"),
        (12.49, "about-the-same"),
        (12.5, "higher"),
        (19.99, "higher"),
        (20.0, "much-higher"),
    ],
)
def test_band_edges_relative_to_london_rate_of_ten(rate, key):
    assert band_for(rate, 10.0).key == key


def test_no_band_without_a_rate_or_a_london_rate():
    assert band_for(None, 10.0) is None
    assert band_for(3.0, None) is None
    assert band_for(3.0, 0.0) is None


@given(st.floats(0, 1e6), st.floats(0.01, 1e6))
def test_bands_are_ordered_by_ratio(rate, london):
    band = band_for(rate, london)
    assert band is not None
    ratio = rate / london
    assert band.lower is None or ratio >= band.lower * (1 - 1e-12)


def test_palette_is_not_red_green_and_has_five_classes():
    assert len(BANDS) == 5
    assert [b.colour for b in BANDS] == ["#5e3c99", "#b2abd2", "#f7f7f7", "#fdb863", "#e66101"]
