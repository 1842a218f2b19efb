"""Turn polygons that nearly tile an area (overlaps, unmatched edges) into a clean coverage.

Method: node every boundary against every other, polygonize the linework into faces, and give
each face to one polygon. A face inside exactly one polygon stays with it. A face inside several
(an overlap) goes to the one of those it shares most boundary with; a face inside none (a gap)
goes to its neighbour with the longest shared boundary when it is a sliver (small or thin), and
stays a hole otherwise (e.g. the City of London inside the Met's wards). Each polygon is then the
union of its faces, so neighbours share identical edges, as coverage simplification requires.
"""

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import shapely
from shapely.geometry import MultiPolygon
from shapely.geometry.base import BaseGeometry

from areas.services.geometry import to_multipolygon

# A gap is a sliver to merge when it is at most this big (m²) ...
MAX_SLIVER_AREA = 1_000.0
# ... or at most this wide on average (2 × area / perimeter, metres).
MAX_SLIVER_WIDTH = 5.0


@dataclass
class CleanedCoverage:
    """The cleaned polygons (same order as the input) and what was changed to get them."""

    geometries: list[MultiPolygon]
    changed: bool
    overlap_faces: int = 0
    overlap_area: float = 0.0
    sliver_faces: int = 0
    sliver_area: float = 0.0
    holes_kept: int = 0
    changed_indexes: list[int] = field(default_factory=list)

    def summary(self) -> str:
        if not self.changed:
            return "already a clean coverage"
        return (
            f"{self.overlap_faces} overlap faces ({self.overlap_area:,.0f} m²) and "
            f"{self.sliver_faces} gap slivers ({self.sliver_area:,.0f} m²) assigned, "
            f"{len(self.changed_indexes)} polygons changed, {self.holes_kept} holes kept"
        )


def clean_coverage(*, geometries: Sequence[BaseGeometry]) -> CleanedCoverage:
    """A clean coverage of the input polygons (input returned as is when it already is one)."""
    polygons = np.asarray([to_multipolygon(g) for g in geometries], dtype=object)
    if bool(shapely.coverage_is_valid(polygons)):
        return CleanedCoverage(geometries=list(polygons), changed=False)

    linework = shapely.union_all(shapely.boundary(polygons))
    faces = shapely.get_parts(shapely.polygonize(shapely.get_parts(linework)))
    face_areas = shapely.area(faces)

    # Which input polygons cover each face (tested at a point inside the face).
    tree = shapely.STRtree(polygons)
    face_index, polygon_index = tree.query(shapely.point_on_surface(faces), predicate="within")
    covering: list[list[int]] = [[] for _ in faces]
    for f, p in zip(face_index.tolist(), polygon_index.tolist(), strict=True):
        covering[f].append(p)

    shared = _shared_lengths(faces)
    owner = np.full(len(faces), -1)
    for f, cover in enumerate(covering):
        if len(cover) == 1:
            owner[f] = cover[0]

    result = CleanedCoverage(geometries=[], changed=True)
    is_sliver = np.array([_is_sliver(face) for face in faces])
    pending = [f for f, cover in enumerate(covering) if len(cover) != 1]
    result.holes_kept = sum(1 for f in pending if not covering[f] and not is_sliver[f])
    pending = [f for f in pending if covering[f] or is_sliver[f]]
    while pending:
        # Each round decides from the owners known at its start, so the result does not
        # depend on the order of the faces.
        decided = _decide(pending=pending, covering=covering, shared=shared, owner=owner)
        if not decided:
            # Overlaps that touch no owned face yet (rare): the first polygon covering them.
            decided = {f: min(covering[f]) for f in pending if covering[f]}
        if not decided:
            break  # slivers that touch no owned face: left as holes
        for f, p in decided.items():
            owner[f] = p
            if covering[f]:
                result.overlap_faces += 1
                result.overlap_area += float(face_areas[f])
            else:
                result.sliver_faces += 1
                result.sliver_area += float(face_areas[f])
        pending = [f for f in pending if f not in decided]
    result.holes_kept += len(pending)

    faces_of: dict[int, list[int]] = defaultdict(list)
    for f, p in enumerate(owner.tolist()):
        if p >= 0:
            faces_of[p].append(f)
    for index, original in enumerate(polygons):
        if not faces_of.get(index):
            raise ValueError(f"polygon {index} lost all its area to its neighbours")
        mine = faces[faces_of[index]]
        # The faces of one owner already share exact edges: a coverage union is exact and fast.
        cleaned = to_multipolygon(shapely.coverage_union_all(mine))
        result.geometries.append(cleaned)
        if not cleaned.equals(original):
            result.changed_indexes.append(index)
    return result


def _decide(
    *,
    pending: list[int],
    covering: list[list[int]],
    shared: list[dict[int, float]],
    owner: np.ndarray,
) -> dict[int, int]:
    """Owners for pending faces that share boundary with an owned face."""
    decided: dict[int, int] = {}
    for f in pending:
        scores: dict[int, float] = defaultdict(float)
        for other, length in shared[f].items():
            if owner[other] >= 0:
                scores[int(owner[other])] += length
        candidates = [p for p in (covering[f] or scores) if scores.get(p, 0.0) > 0]
        if candidates:
            decided[f] = max(candidates, key=lambda p: (scores[p], -p))
    return decided


def _is_sliver(face: BaseGeometry) -> bool:
    area = face.area
    return area <= MAX_SLIVER_AREA or 2 * area / face.length <= MAX_SLIVER_WIDTH


def _shared_lengths(faces: np.ndarray) -> list[dict[int, float]]:
    """For each face, the length of boundary it shares with each other face."""
    boundaries = shapely.boundary(faces)
    left, right = shapely.STRtree(boundaries).query(boundaries, predicate="intersects")
    keep = left < right
    left, right = left[keep], right[keep]
    lengths = shapely.length(shapely.intersection(boundaries[left], boundaries[right]))
    shared: list[dict[int, float]] = [{} for _ in faces]
    for a, b, length in zip(left.tolist(), right.tolist(), lengths.tolist(), strict=True):
        if length > 0:
            shared[a][b] = length
            shared[b][a] = length
    return shared
