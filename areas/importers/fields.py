"""Which attribute holds an area's code and name, for the official ONS and London Datastore layouts.

ONS files name fields by level and year (LAD22CD, LSOA21NM, WD24CD; lower case in some London
Datastore copies); older London Datastore files use GSS_CODE/NAME. Welsh-name fields (…NMW) are
never taken for names.
"""

import re
from collections.abc import Sequence

from areas.models import Level

# Tried in order; the first pattern with a match wins, and among several matches of one pattern
# (e.g. LAD21CD and LAD22CD) the latest year.
CODE_FIELDS: dict[str, tuple[str, ...]] = {
    Level.REGION: (r"RGN\d{2}CD", r"GSS_CODE", r"CODE"),
    Level.BOROUGH: (r"LAD\d{2}CD", r"LA\d{2}CD", r"GSS_CODE", r"CODE"),
    Level.WARD: (r"WD\d{2}CD", r"GSS_CODE", r"CODE"),
    Level.LSOA: (r"LSOA\d{2}CD", r"GSS_CODE", r"CODE"),
}
NAME_FIELDS: dict[str, tuple[str, ...]] = {
    Level.REGION: (r"RGN\d{2}NM", r"NAME"),
    Level.BOROUGH: (r"LAD\d{2}NM", r"LA\d{2}NM", r"NAME"),
    Level.WARD: (r"WD\d{2}NM", r"NAME"),
    Level.LSOA: (r"LSOA\d{2}NM", r"NAME"),
}
# A borough code in a ward or LSOA file (e.g. lad22cd in the London LSOA shapefiles).
BOROUGH_CODE_FIELDS: tuple[str, ...] = (r"LAD\d{2}CD", r"LA\d{2}CD")


def find_field(*, fields: Sequence[str], patterns: Sequence[str]) -> str | None:
    """The first field (as spelled in the file) matching a pattern, case-insensitively."""
    for pattern in patterns:
        regex = re.compile(pattern, re.IGNORECASE)
        matches = [name for name in fields if regex.fullmatch(name.strip())]
        if matches:
            return max(matches, key=lambda name: (_year(name), name))
    return None


def describe(patterns: Sequence[str]) -> str:
    """Patterns as a person reads them: LAD\\d{2}CD becomes LADyyCD."""
    return ", ".join(p.replace(r"\d{2}", "yy") for p in patterns)


def _year(name: str) -> int:
    digits = re.search(r"\d{2}", name)
    return int(digits.group()) if digits else -1
