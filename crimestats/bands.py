"""Rate-ratio bands: the five fixed bands relative to London, their words and colours.

Bands are fixed (not quantiles) so a colour means the same thing every month and everywhere.
Colours are ColorBrewer PuOr (5 classes, colour-blind safe): purple for lower, orange for higher.
"""

from dataclasses import dataclass


@dataclass(frozen=True)
class Band:
    index: int
    key: str
    words: str
    colour: str
    lower: float | None  # ratio to London, inclusive
    upper: float | None  # exclusive

    @property
    def range_label(self) -> str:
        return ratio_range_label(self)


BANDS: tuple[Band, ...] = (
    Band(0, "much-lower", "much lower than London", "#5e3c99", None, 0.5),
    Band(1, "lower", "lower than London", "#b2abd2", 0.5, 0.8),
    Band(2, "about-the-same", "about the same as London", "#f7f7f7", 0.8, 1.25),
    Band(3, "higher", "higher than London", "#fdb863", 1.25, 2.0),
    Band(4, "much-higher", "much higher than London", "#e66101", 2.0, None),
)

NO_DATA_COLOUR = "#d9d9d9"


def ratio_range_label(band: Band) -> str:
    """The band's range as people read it, e.g. "0.5 to 0.8 times the London rate"."""
    if band.lower is None:
        return f"less than {band.upper:g} times the London rate"
    if band.upper is None:
        return f"{band.lower:g} times the London rate or more"
    return f"{band.lower:g} to {band.upper:g} times the London rate"


def band_for(rate: float | None, london_rate: float | None) -> Band | None:
    """The band of an area's rate relative to London's, or None when either is unknown."""
    if rate is None or not london_rate:
        return None
    ratio = rate / london_rate
    for band in BANDS:
        if band.upper is None or ratio < band.upper:
            return band
    return BANDS[-1]


def band_by_index(index: int | None) -> Band | None:
    return None if index is None else BANDS[index]
