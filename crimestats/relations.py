"""Which exact relations between levels hold in the raw counts, month by month.

Pure (NumPy). The Met's ward, LSOA and borough files are separate releases that often, but not
always, add up: in 2011-2023 a borough's wards sum exactly to its borough figure in almost
every month, since 2024 in about a fifth of borough-category-months; its LSOAs in about a fifth
too; a ward and its ONS best-fit LSOAs in about half. An attacker may assume any of them, so
protection and the audit model every relation that holds, for each month it holds in, and an
inequality (the parts never exceed the whole, or never fall short of it) where one holds in every
month. Nothing here decides what is shown: it only says what is true of the data.
"""

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np

EQUAL = "="
AT_MOST = "<="  # the parts' sum never exceeds the whole
AT_LEAST = ">="  # the parts' sum never falls short of the whole

# Relation kinds, named by what is summed into what.
BOROUGH_WARDS = "borough=wards"
BOROUGH_LSOAS = "borough=lsoas"
WARD_LSOAS = "ward=best-fit lsoas"
KINDS = (BOROUGH_WARDS, BOROUGH_LSOAS, WARD_LSOAS)


@dataclass(frozen=True)
class Relation:
    """``sum(parts at month) <sense> whole at month`` holds exactly in the data."""

    kind: str
    whole: int  # area id of the whole (a borough or a ward)
    parts: tuple[int, ...]  # area ids summed
    month: date
    sense: str


def holding(whole: Sequence[int] | np.ndarray, parts: np.ndarray) -> list[tuple[int, str]]:
    """For a whole's monthly counts and its parts' ([part, month]), the (month index, sense)
    pairs to model: "=" in every month the parts add up exactly, and in the other months an
    inequality when the parts' sum is on the same side of the whole in every month."""
    whole = np.asarray(whole, dtype=np.int64)
    total = np.asarray(parts, dtype=np.int64).sum(axis=0) if len(parts) else np.zeros_like(whole)
    equal = total == whole
    result = [(int(i), EQUAL) for i in np.flatnonzero(equal)]
    rest = np.flatnonzero(~equal)
    if rest.size:
        if np.all(total <= whole):
            result += [(int(i), AT_MOST) for i in rest]
        elif np.all(total >= whole):
            result += [(int(i), AT_LEAST) for i in rest]
    return sorted(result)


def aligned(
    months_a: Sequence[date], months_b: Sequence[date]
) -> tuple[list[date], list[int], list[int]]:
    """The months two series share, with each one's column indexes for them."""
    index_b = {m: i for i, m in enumerate(months_b)}
    shared = [m for m in months_a if m in index_b]
    index_a = {m: i for i, m in enumerate(months_a)}
    return shared, [index_a[m] for m in shared], [index_b[m] for m in shared]


def find(
    *,
    kind: str,
    whole: int,
    whole_months: Sequence[date],
    whole_counts: Sequence[int] | np.ndarray,
    parts: Sequence[int],
    part_months: Sequence[date],
    part_counts: np.ndarray,
) -> list[Relation]:
    """The relations of one kind between a whole and its parts, over the months both cover."""
    if not len(parts):
        return []
    months, cols_whole, cols_parts = aligned(whole_months, part_months)
    if not months:
        return []
    found = holding(np.asarray(whole_counts)[cols_whole], np.asarray(part_counts)[:, cols_parts])
    return [Relation(kind, whole, tuple(parts), months[i], sense) for i, sense in found]


def summary(relations: Sequence[Relation]) -> dict[str, dict[str, int]]:
    """How many (whole, month) relations of each kind and sense were modelled."""
    result: dict[str, dict[str, int]] = {}
    for relation in relations:
        slot = result.setdefault(relation.kind, {})
        slot[relation.sense] = slot.get(relation.sense, 0) + 1
    return result


def with_london(by_borough: dict[str, dict]) -> dict[str, dict]:
    """Relations found by borough and category, with their London totals under "London"."""
    result = {code: found for code, found in by_borough.items() if code != "London"}
    london: dict[str, dict[str, int]] = {}
    for categories in result.values():
        for kinds in categories.values():
            for kind, senses in kinds.items():
                slot = london.setdefault(kind, {})
                for sense, count in senses.items():
                    slot[sense] = slot.get(sense, 0) + count
    result["London"] = london
    return result
