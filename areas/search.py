"""Finding areas: by postcode (placed at import), by name (trigram, typo-tolerant), by point."""

import re
from dataclasses import dataclass

from django.contrib.gis.geos import Point
from django.contrib.postgres.search import TrigramWordSimilarity
from django.db.models import Q

from areas.importers.postcodes import POSTCODE, normalise
from areas.models import Area, Level, Postcode, area_url
from areas.selectors import current_areas

# Partial postcodes: an outward code, perhaps with the start of the inward one ("SW1A", "SW1A 1").
PARTIAL_POSTCODE = re.compile(r"[A-Z]{1,2}[0-9][A-Z0-9]?(?: ?[0-9][A-Z]?)?")
MAX_RESULTS = 20
NAME_SIMILARITY = 0.4


@dataclass(frozen=True)
class PostcodeResult:
    postcode: str
    lsoa_code: str
    ward_code: str
    borough_code: str


def looks_like_postcode(text: str) -> bool:
    compact = re.sub(r"\s+", "", text or "").upper()
    return bool(PARTIAL_POSTCODE.fullmatch(compact)) or bool(POSTCODE.fullmatch(compact))


def postcode_lookup(*, text: str) -> PostcodeResult | None:
    """The London postcode written in `text` (any case and spacing), or None."""
    normalised = normalise(text)
    row = (
        Postcode.objects.filter(compact=normalised.replace(" ", ""))
        .values_list("postcode", "lsoa_code", "ward_code", "borough_code")
        .first()
    )
    return PostcodeResult(*row) if row else None


def postcodes_starting(*, text: str, limit: int = MAX_RESULTS) -> list[str]:
    """Full postcodes that start with a partial one ("sw1a 1" → "SW1A 1AA", ...)."""
    compact = re.sub(r"\s+", "", text or "").upper()
    if not compact:
        return []
    return list(
        Postcode.objects.filter(compact__startswith=compact)
        .order_by("compact")
        .values_list("postcode", flat=True)[:limit]
    )


def areas_named(*, text: str, limit: int = MAX_RESULTS) -> list[Area]:
    """Current areas whose names match, closest first; tolerates typos ("Heathrw")."""
    text = (text or "").strip()
    if len(text) < 2:
        return []
    return list(
        current_areas()
        .exclude(level=Level.REGION)
        .annotate(similarity=TrigramWordSimilarity(text, "name"))
        .filter(Q(similarity__gte=NAME_SIMILARITY) | Q(name__icontains=text) | Q(code__iexact=text))
        .select_related("parent")
        .order_by("-similarity", "level", "name")[:limit]
    )


def area_at(*, lat: float, lon: float, level: str) -> Area | None:
    """The current area of a level containing a WGS84 point (PostGIS point-in-polygon)."""
    point = Point(lon, lat, srid=4326)
    point.transform(27700)
    return current_areas().filter(level=level, geometry__intersects=point).first()


def area_page_url(*, choices: list[tuple[str, str]]) -> str | None:
    """The page of the first (level, code) that is a current area, in one light query."""
    wanted = [(level, code) for level, code in choices if code]
    if not wanted:
        return None
    query = Q()
    for level, code in wanted:
        query |= Q(level=level, code=code)
    found = {
        (lv, cd): slug
        for lv, cd, slug in current_areas().filter(query).values_list("level", "code", "slug")
    }
    for level, code in wanted:
        if (level, code) in found:
            return area_url(level=level, code=code, slug=found[(level, code)])
    return None
