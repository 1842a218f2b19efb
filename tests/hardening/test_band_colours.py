"""Band colours live in the stylesheets as classes (the CSP forbids style attributes): each class
has exactly the colour crimestats/bands.py gives its band."""

import re
from pathlib import Path

import pytest

from crimestats.bands import BANDS, NO_DATA_COLOUR

STATIC = Path(__file__).resolve().parents[2] / "static" / "css"


BAND_RULE = r"\.band-([a-z-]+) \{ background: (#[0-9a-f]{6}); \}"


def test_every_band_class_has_its_colour():
    css = (STATIC / "bands.css").read_text()
    found = dict(re.findall(BAND_RULE, css))
    expected = {band.key: band.colour for band in BANDS} | {"no-data": NO_DATA_COLOUR}
    assert found == expected


@pytest.mark.parametrize("sheet", ["site.css", "embed.css"])
def test_no_other_sheet_sets_a_band_colour(sheet):
    assert not re.findall(r"\.band-[a-z-]+\s*\{", (STATIC / sheet).read_text())
