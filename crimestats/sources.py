"""Which force's figures stand for an area: each area has exactly one source, never a mix.

The City of London is policed by the City of London Police (published on police.uk); every other
borough by the Met (published on the London Datastore). London as a whole is the Met's own total,
so London-wide figures cover the Metropolitan Police area, not the City.
"""

from dataclasses import dataclass

CITY_OF_LONDON = "E09000001"
MET = "Metropolitan Police Service"
CITY_POLICE = "City of London Police"


@dataclass(frozen=True)
class Source:
    source: str  # Release.Source value
    force: str


MPS_SOURCE = Source("mps", MET)
CITY_SOURCE = Source("police-uk", CITY_POLICE)


def source_for(*, code: str, borough_code: str | None) -> Source:
    """The source of an area's figures, from its own code or its borough's."""
    if CITY_OF_LONDON in (code, borough_code):
        return CITY_SOURCE
    return MPS_SOURCE


def covers_city(source: Source) -> bool:
    return source == CITY_SOURCE
