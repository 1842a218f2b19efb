"""The page cache: whole public responses served from Redis, with HTTP caching headers.

Only the views named in CACHED_VIEWS go through it; everything else (admin, feedback POST,
"use my location", downloads) passes untouched. A hit runs no view, no session and no query.
"""

from collections.abc import Callable

from django.conf import settings
from django.http import HttpRequest, HttpResponse, HttpResponseNotModified
from django.urls import Resolver404, resolve
from django.utils.http import http_date, parse_http_date_safe

from caching import encoding, pointer, store
from crimestats import selectors

CACHED_VIEWS = frozenset(
    {
        "london",
        "london-map-geojson",
        "area",
        "area-by-code",
        "map-geojson",
        "embed-ward",
        "search",
        "about",
        "methodology",
        "open-data",
        "releases",
        "release",
        "publication-data",
        "releases-feed",
        "area-feed",
        "london-feed",
    }
)


class _Stored(HttpResponse):
    """A response replayed from the store; a stored redirect keeps the ``url`` Django's own
    redirects have (clients that follow redirects read it)."""

    @property
    def url(self) -> str:
        return self.get("Location", "")


def _cached_view(request: HttpRequest) -> bool:
    try:
        return resolve(request.path_info).url_name in CACHED_VIEWS
    except Resolver404:
        return False


def cache_control() -> str:
    return (
        f"public, max-age={settings.PAGE_CACHE_MAX_AGE}, "
        f"s-maxage={settings.PAGE_CACHE_S_MAXAGE}, "
        f"stale-while-revalidate={settings.PAGE_CACHE_STALE_WHILE_REVALIDATE}"
    )


def _not_modified(request: HttpRequest, entry: store.Entry, etag: str, last_modified: str) -> bool:
    """A conditional GET that names this representation. If-Modified-Since counts only when it
    is exactly this publication's date: a rollback goes back in time."""
    if entry.status != 200:
        return False
    if_none_match = request.META.get("HTTP_IF_NONE_MATCH")
    if if_none_match is not None:
        tags = {tag.strip() for tag in if_none_match.split(",")}
        return "*" in tags or etag in tags
    since = parse_http_date_safe(request.META.get("HTTP_IF_MODIFIED_SINCE", ""))
    return since is not None and http_date(since) == last_modified


def _respond(
    request: HttpRequest, entry: store.Entry, coding: str, current: pointer.Pointer, state: str
) -> HttpResponse:
    last_modified = http_date(current.last_modified.timestamp())
    etag = entry.etag if coding else entry.etag.replace("-gzip", "-identity")
    if _not_modified(request, entry, etag, last_modified):
        response = HttpResponseNotModified()
    else:
        body = entry.body if coding else encoding.gunzip(entry.body)
        response = _Stored(body, status=entry.status)
        for name, value in entry.headers:
            response[name] = value
        if coding:
            response["Content-Encoding"] = coding
        response["Content-Length"] = str(len(body))
    response["ETag"] = etag
    response["Last-Modified"] = last_modified
    response["Cache-Control"] = cache_control()
    if settings.FRONT_PROXY_DIR:  # nginx's cache is emptied at each switch (caching/proxy.py)
        response["X-Accel-Expires"] = str(settings.PAGE_CACHE_PROXY_SECONDS)
    response["Vary"] = "Accept-Encoding"
    response["X-Publication"] = str(current.publication_id)
    response["X-Page-Cache"] = state
    return response


def _still_current(current: pointer.Pointer) -> bool:
    """When the view read the publication itself: store only if it is still the key's one, so
    a switch during the render can never file a page under the other publication."""
    pointer.forget()
    return pointer.current() == current


class PageCacheMiddleware:
    """Serve public pages whole from Redis; render and store them once per publication."""

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]):
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.method not in ("GET", "HEAD") or not _cached_view(request):
            return self.get_response(request)
        current = pointer.current()
        if current is None:  # nothing published (or known): render, never store
            return self.get_response(request)
        coding = encoding.choose(request.META.get("HTTP_ACCEPT_ENCODING", ""))
        key = store.page_key(current, request)
        entry = store.get(key, coding or "gzip")
        if entry is not None:
            return _respond(request, entry, coding, current, "hit")
        # The view renders from the publication the key names (pinned), so page and key agree.
        publication = pointer.publication(current)
        with selectors.pinned_publication(publication):
            response = self.get_response(request)
        if not store.storable(response):
            return response
        if publication is None and not _still_current(current):
            return response
        stored = store.entries(current, response)
        store.put(key, stored)
        return _respond(request, stored[coding or "gzip"], coding, current, "miss")
