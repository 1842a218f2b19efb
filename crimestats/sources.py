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


def published_on_site(*, source: str, force: str) -> bool:
    """Whether a release of this source and force can change anything the site shows: the
    Met's London Datastore files and the City of London Police's police.uk files."""
    return Source(source, force) in (MPS_SOURCE, CITY_SOURCE)


def not_shown_reason(*, source: str, force: str) -> str:
    """What an admin reads when a file's figures would never be shown; empty when they would."""
    if published_on_site(source=source, force=force):
        return ""
    if force == MET:
        return (
            "This is a police.uk file for the Metropolitan Police Service. The site never shows "
            "police.uk figures for the Met's areas: they show the Met's own London Datastore "
            "figures. Nothing in this file would change the site, so there is nothing to publish."
        )
    return (
        f"This is a police.uk file for {force or 'an unknown force'}. The site shows police.uk "
        "figures only for the City of London Police. Nothing in this file would change the "
        "site, so there is nothing to publish."
    )
