"""Which publication the site shows now, as the page cache sees it.

Read through the one selector (`crimestats.selectors.read_current_publication`) at most once
a second per process (`PAGE_CACHE_POINTER_SECONDS`), so a hit costs no query. The last pointer
read is kept in memory and in Redis: when PostgreSQL is down, cached pages keep being served.
The publication read with it is kept in memory too, so a miss renders from it without a
second read (`publication`).
"""

import time
from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING

from cachalot.api import cachalot_disabled
from django.conf import settings
from django.core.cache import cache
from django.db import DatabaseError

from caching import generation

if TYPE_CHECKING:
    from crimestats.models import Publication

REDIS_KEY = "caching:pointer"


@dataclass(frozen=True)
class Pointer:
    """The current publication's id and when it first went public, and the page-text generation."""

    publication_id: int
    last_modified: datetime
    generation: int


_memo: tuple[float, Pointer | None, "Publication | None"] = (0.0, None, None)


def _read() -> tuple[Pointer | None, "Publication | None"]:
    from crimestats.selectors import read_current_publication

    with cachalot_disabled():  # what is committed now, never a cached answer
        publication = read_current_publication()
    if publication is None:
        return None, None
    pointer = Pointer(
        publication_id=publication.pk,
        last_modified=publication.first_public_at or publication.created_at,
        generation=generation.current(),
    )
    return pointer, publication


def current() -> Pointer | None:
    """The pointer, at most `PAGE_CACHE_POINTER_SECONDS` old; the last known one if the
    database cannot be reached (None if none is known)."""
    global _memo
    expires, known, publication = _memo
    now = time.monotonic()
    if now < expires:
        return known
    try:
        pointer, publication = _read()
    except DatabaseError:
        known = known or cache.get(REDIS_KEY)
        _memo = (now + settings.PAGE_CACHE_POINTER_SECONDS, known, None)
        return known
    if pointer is not None and pointer != known:
        cache.set(REDIS_KEY, pointer, timeout=None)
    _memo = (now + settings.PAGE_CACHE_POINTER_SECONDS, pointer, publication)
    return pointer


def publication(pointer: Pointer) -> "Publication | None":
    """The publication read with this pointer (immutable, so safe to share), or None when it
    is not in memory (the pointer came from Redis while PostgreSQL was down)."""
    _, _, known = _memo
    return known if known is not None and known.pk == pointer.publication_id else None


def forget() -> None:
    """Read the pointer again on the next request (tests, and the pre-warm after a switch)."""
    global _memo
    _memo = (0.0, None, None)
