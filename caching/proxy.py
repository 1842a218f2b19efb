"""Telling the front proxy (nginx) that another publication is current.

nginx keeps each page for as long as Django's `X-Accel-Expires` allows (an hour), instead of
asking Django again every `s-maxage` (10 s). At a switch the pre-warm job empties nginx's cache
directory (`FRONT_PROXY_DIR`/cache): nginx treats a page whose file is gone as never cached, so
the next request for it goes to Django, which answers from the new publication.

Why: with pages kept for s-maxage, nginx asked again for every page every 10 s. On two cores
that work took CPU from nginx itself, and the warm p99 through nginx was 28–52 ms; with pages
kept until a switch it was 3–8 ms (docs/benchmarks/load-latest.md). Emptying the directory,
unlike changing the cache key in nginx's configuration, needs no reload: a reload closed every
keep-alive connection, and the benchmark's client counted each as an error.

Where no one can empty nginx's cache (the compose file: nginx runs in its own container), leave
`FRONT_PROXY_DIR` unset: Django then sends no `X-Accel-Expires` and nginx keeps pages for
`s-maxage`, as any shared cache would.
"""

import contextlib
import os
import time
from pathlib import Path

from django.conf import settings
from django_redis import get_redis_connection

from caching.pointer import Pointer

MARKER = "cache-version"  # ours, not nginx's: which pointer the cache's pages were made for


def enabled() -> bool:
    return bool(settings.FRONT_PROXY_DIR)


def version(current: Pointer | None) -> str:
    """What the cached pages depend on: publication, page-text generation and when the
    publication went public (so a database loaded afresh, reusing ids, never meets an old
    page)."""
    if current is None:
        return ""
    return f"{current.publication_id}.{current.generation}.{int(current.last_modified.timestamp())}"


def announced() -> str:
    """The version nginx's cache was last emptied for ("" if never)."""
    path = Path(settings.FRONT_PROXY_DIR) / MARKER
    return path.read_text() if path.exists() else ""


def _redis_answers() -> bool:
    """The generation is read from Redis; while Redis is down it reads 0, which must not empty
    nginx's cache (nginx's cache is what serves pages then)."""
    try:
        return bool(get_redis_connection("default").ping())
    except Exception:
        return False


def empty_cache(folder: Path) -> None:
    """Delete every cached page under `folder`. Files only: nginx keeps the directory levels,
    and reads a missing file as a page never cached."""
    for root, _, files in os.walk(folder):
        for name in files:
            with contextlib.suppress(FileNotFoundError):  # nginx dropped it meanwhile
                os.unlink(os.path.join(root, name))


def announce(current: Pointer | None, *, settle: bool = True) -> bool:
    """Empty nginx's cache if its pages were made for another pointer; True if it was emptied.

    With `settle`, first wait until every web process has read the new pointer itself (they
    read it at most every PAGE_CACHE_POINTER_SECONDS) and renders begun before that are done:
    otherwise nginx could store a page of the old publication after the cache was emptied.
    """
    if not enabled() or not _redis_answers():
        return False
    wanted = version(current)
    if announced() == wanted:
        return False
    if settle:
        time.sleep(settings.PAGE_CACHE_POINTER_SECONDS + 2)
    folder = Path(settings.FRONT_PROXY_DIR)
    empty_cache(folder / "cache")
    (folder / MARKER).write_text(wanted)
    return True
