"""Whole responses in Redis, keyed by publication: one entry per content coding.

A page is a function of (publication, page-text generation, scheme, host, path, and the query
parameters the cached views read), so an entry never needs invalidating: a new publication or
generation makes a new key, and old entries expire or are evicted (Redis runs with allkeys-lru).
"""

import hashlib
from dataclasses import dataclass

from django.conf import settings
from django.core.cache import cache
from django.http import HttpRequest, HttpResponse

from areas import views as area_views
from caching import encoding
from caching.pointer import Pointer
from crimestats import views as page_views

# Only these make a different page. Links shared on launch day carry utm_source, fbclid and the
# like, a different value for every click: keyed on the whole query, each click was a page
# rendered afresh (~20 ms of a core), where now it is a hit.
PAGE_PARAMETERS = tuple(sorted({*page_views.QUERY_PARAMETERS, *area_views.QUERY_PARAMETERS}))

# Headers the cache sets itself, or that never belong in a shared copy.
OWN_HEADERS = {
    "cache-control",
    "content-encoding",
    "content-length",
    "etag",
    "expires",
    "last-modified",
    "set-cookie",
    "vary",
}
CACHED_STATUSES = {200, 301, 302, 404}


@dataclass(frozen=True)
class Entry:
    """One stored coding of a response: compressed once, served as it is."""

    status: int
    headers: tuple[tuple[str, str], ...]
    body: bytes
    etag: str


def page_key(pointer: Pointer, request: HttpRequest) -> str:
    # Pages name their own host (canonical link, embed code), so the host is part of the key.
    query = page_views.kept_query(request, PAGE_PARAMETERS)
    where = f"{request.scheme}://{request.get_host()}{request.path}?{query}"
    digest = hashlib.sha256(where.encode()).hexdigest()[:32]
    return f"page:{pointer.publication_id}:{pointer.generation}:{digest}"


def storable(response: HttpResponse) -> bool:
    """A complete, shared response: no cookie, nothing that varies with the person."""
    if response.streaming or response.status_code not in CACHED_STATUSES:
        return False
    if response.cookies or "cookie" in response.get("Vary", "").lower():
        return False
    control = response.get("Cache-Control", "").lower()
    return "private" not in control and "no-store" not in control


def entries(pointer: Pointer, response: HttpResponse) -> dict[str, Entry]:
    """The response compressed once per stored coding, each with its own strong ETag."""
    headers = tuple(
        (name, value) for name, value in response.items() if name.lower() not in OWN_HEADERS
    )
    digest = hashlib.sha256(response.content).hexdigest()[:20]
    return {
        coding: Entry(
            status=response.status_code,
            headers=headers,
            body=encoding.compress(response.content, coding),
            etag=f'"{pointer.publication_id}-{digest}-{coding}"',
        )
        for coding in encoding.STORED
    }


def get(key: str, coding: str) -> Entry | None:
    """The stored entry, or None (also when Redis cannot be reached)."""
    return cache.get(f"{key}:{coding}")


def put(key: str, stored: dict[str, Entry]) -> None:
    cache.set_many(
        {f"{key}:{coding}": entry for coding, entry in stored.items()},
        timeout=settings.PAGE_CACHE_TIMEOUT,
    )
