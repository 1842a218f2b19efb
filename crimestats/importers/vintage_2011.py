"""police.uk records that carry a 2011 LSOA code no longer in the current (2021) set.

police.uk files from before mid-2023 use 2011 LSOA codes. Most of those codes still exist in
2021; a record whose code does not is placed by its own coordinates (the anonymised map point
police.uk gives every located crime) into the current LSOA that contains it, in PostGIS. A
record without coordinates, or whose point lies in no current LSOA, cannot be placed: it is
counted and reported, never stored.
"""

import math
from collections import Counter
from dataclasses import dataclass, field

from areas.importers.errors import UploadError
from areas.selectors import lsoas_at_points

BOUNDS = {"Longitude": 180.0, "Latitude": 90.0}


def coordinates(row: list[str], *, col: dict[str, int], file: str, line: int):
    """The record's (longitude, latitude), or None when both are empty."""
    texts = {name: row[col[name]].strip() for name in BOUNDS}
    if not any(texts.values()):
        return None
    values = []
    for name, bound in BOUNDS.items():
        text = texts[name]
        try:
            value = float(text)
        except ValueError:
            value = math.nan
        if not math.isfinite(value) or abs(value) > bound:
            reason = "empty value" if not text else f"not a {name.lower()} in degrees"
            raise UploadError(file, reason, row=line, column=name, value=text)
        values.append(value)
    return values[0], values[1]


@dataclass
class Unplaced2011:
    """Records with 2011-only LSOA codes, before and after placing them by coordinates."""

    pending: Counter[tuple[float, float, str]] = field(default_factory=Counter)
    no_coordinates: int = 0
    outside: int = 0  # their point lies in no current LSOA

    def add(self, *, point: tuple[float, float] | None, crime_type: str) -> None:
        if point is None:
            self.no_coordinates += 1
        else:
            self.pending[(*point, crime_type)] += 1

    def place(self) -> Counter[tuple[str, str]]:
        """Records by (current LSOA code, crime type), found for all points in one query."""
        points = sorted({(lon, lat) for lon, lat, _ in self.pending})
        found = dict(zip(points, lsoas_at_points(points=points), strict=True))
        placed: Counter[tuple[str, str]] = Counter()
        for (lon, lat, crime_type), n in self.pending.items():
            code = found[(lon, lat)]
            if code is None:
                self.outside += n
            else:
                placed[(code, crime_type)] += n
        self.pending.clear()
        return placed
